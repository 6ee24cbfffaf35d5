"""The confidence calibration: its maps, the shipped artefact, and the fit that makes it."""

import json
from pathlib import Path

import numpy as np
import pytest

from oppscan.evaluation.calibrate import (
    CEILING,
    FLOOR,
    MIN_TRADES,
    TrainingSet,
    fit,
    fit_curve,
)
from oppscan.strategies.calibration import (
    ARTEFACT,
    CALIBRATION,
    UNCALIBRATED,
    Calibration,
    Curve,
    load,
)


def test_a_curve_interpolates_between_its_knots_and_clips_outside() -> None:
    curve = Curve((0.2, 0.6), (0.3, 0.7), 10)
    assert curve(0.4) == pytest.approx(0.5)
    assert (curve(0.0), curve(1.0)) == (0.3, 0.7)


@pytest.mark.parametrize(
    ("scores", "probabilities", "why"),
    [
        ((0.5, 0.4), (0.1, 0.2), "scores must not decrease"),
        ((0.1, 0.4), (0.3, 0.2), "probabilities must not decrease"),
        ((0.1,), (1.2,), "in 0..1"),
        ((0.1, 0.2), (0.3,), "as many probabilities"),
    ],
)
def test_a_curve_that_is_not_a_calibration_is_refused(
    scores: tuple[float, ...], probabilities: tuple[float, ...], why: str
) -> None:
    with pytest.raises(ValueError, match=why):
        Curve(scores, probabilities, 1)


def test_the_shipped_artefact_is_a_fitted_calibration() -> None:
    assert ARTEFACT.exists(), "run `make calibrate` and commit the artefact"
    assert CALIBRATION.version != UNCALIBRATED
    data = json.loads(ARTEFACT.read_text())
    assert Calibration.from_json(data).as_json() == data  # loads back to itself
    assert CALIBRATION.trained_on["trades"] >= MIN_TRADES
    for curve in (CALIBRATION.pooled, *CALIBRATION.strategies.values()):
        assert min(curve.probabilities) >= FLOOR and max(curve.probabilities) <= CEILING
        if curve.trades < MIN_TRADES:  # too few to say more than the hit rate
            assert len(set(curve.probabilities)) == 1


def test_a_strategy_without_a_map_of_its_own_uses_the_pooled_one() -> None:
    calibration = Calibration("t", Curve((0.0, 1.0), (0.2, 0.4), 500), {
        "mine": Curve((0.0, 1.0), (0.5, 0.9), 500)}, {})  # fmt: skip
    assert calibration.probability("mine", 0.5) == pytest.approx(0.7)
    assert calibration.probability("other", 0.5) == pytest.approx(0.3)


def test_without_an_artefact_the_score_passes_through(tmp_path: Path) -> None:
    calibration = load(tmp_path / "none.json")
    assert calibration.version == UNCALIBRATED
    assert calibration.probability("any", 0.37) == pytest.approx(0.37)


def test_the_fit_recovers_a_known_probability_and_never_states_certainty() -> None:
    """Trades whose true chance of a hit is 0.2 + 0.6 * score: the isotonic fit finds it."""
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 1, 20_000)
    hits = rng.uniform(0, 1, scores.size) < 0.2 + 0.6 * scores
    curve = fit_curve(list(zip(scores.tolist(), hits.tolist(), strict=True)))
    for s in (0.1, 0.5, 0.9):
        assert curve(s) == pytest.approx(0.2 + 0.6 * s, abs=0.05)
    # A score that always wins is still not stated as certain.
    sure = fit_curve([(0.9, True)] * 200 + [(0.1, False)] * 200)
    assert (sure(0.1), sure(0.9)) == (FLOOR, CEILING)


def test_a_strategy_with_few_trades_gets_its_hit_rate_whatever_its_score() -> None:
    many = [(0.2, False), (0.8, True)] * MIN_TRADES
    few = [(0.1, True)] * 8 + [(0.9, False)] * 2  # 8 of 10: (8 + 1) / (10 + 2)
    hedges = [(0.5, False)] * 500  # bought for the risk they remove, not to win
    training = TrainingSet({"many": many, "few": few, "hedge": hedges}, many + few)
    calibration = fit(training, {"seeds": [1]})
    assert calibration.probability("many", 0.2) == FLOOR
    assert calibration.probability("many", 0.8) == CEILING
    assert calibration.probability("few", 0.1) == calibration.probability("few", 0.9) == 0.75
    # A strategy never seen gets the map of every trade, hedges left out.
    assert calibration.pooled.trades == len(many) + len(few)
    assert calibration.probability("unseen", 0.8) > 0.9
    assert calibration.version.count(".") == 1
