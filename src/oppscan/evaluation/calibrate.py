"""``make calibrate``: fit the confidence calibration on forward tests of training seeds.

Runs ``evaluate`` on each training seed's planted and control market (``TRAINING_SEEDS``, never
a seed the tests or ``make eval`` use), pairs every followed trade's ``model_score`` with whether
it ended profitable after every cost, and fits an isotonic regression per strategy (scikit-learn,
the ``eval`` extra): the maps ``build_opportunity`` applies (``strategies/calibration.py``).
A strategy with fewer than ``MIN_TRADES`` training trades gets its own hit rate, whatever its
score (Laplace's rule: one win and one loss added), as the forward tests can say no more; a
strategy with none gets the map of every trade (risk reductions left out: they are not bought to
win).

    python -m oppscan.evaluation.calibrate [--hours 24] [--every 30] [--out PATH] [--summary PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from oppscan.evaluation.run import Evaluation, evaluate_many, is_hit, merged, summary
from oppscan.strategies.calibration import ARTEFACT, Calibration, Curve

# Training seeds: not the unit tests' (0-9, 11, 29), not make eval's held-out (101, 202, 303, 404).
TRAINING_SEEDS = (31, 32, 33, 34, 35, 36, 37, 38)
TRAINING_START_MS = 1_772_409_600_000  # 2026-03-02 00:00 UTC: not the held-out runs' start
MIN_TRADES = 150  # a strategy with fewer training trades uses the pooled map
# A probability is never stated as certain: the fitted map is kept inside these bounds.
FLOOR, CEILING = 0.02, 0.98

Pair = tuple[float, bool]


@dataclass(frozen=True, slots=True)
class TrainingSet:
    by_strategy: dict[str, list[Pair]]  # every followed opportunity, by strategy
    trades: list[Pair]  # the ones bought to win: risk reductions left out


def training_set(runs: Iterable[Evaluation]) -> TrainingSet:
    """(model score, ended profitable) of every opportunity that could be followed."""
    by_strategy: dict[str, list[Pair]] = defaultdict(list)
    trades: list[Pair] = []
    for run in runs:
        for f in run.followed:
            if f.outcome is None:
                continue
            pair = (float(f.opportunity.evidence["model_score"]), is_hit(f))
            by_strategy[f.opportunity.strategy_id].append(pair)
            if f.opportunity.risk_reduction_usd <= 0:
                trades.append(pair)
    return TrainingSet(dict(by_strategy), trades)


def fit_curve(pairs: list[Pair]) -> Curve:
    """The isotonic (non-decreasing) least-squares fit of hit on score, as knots."""
    from sklearn.isotonic import IsotonicRegression

    scores = [s for s, _ in pairs]
    hits = [1.0 if h else 0.0 for _, h in pairs]
    model = IsotonicRegression(y_min=FLOOR, y_max=CEILING, out_of_bounds="clip")
    model.fit(scores, hits)
    return Curve(
        tuple(round(float(x), 6) for x in model.X_thresholds_),
        tuple(round(float(y), 6) for y in model.y_thresholds_),
        len(pairs),
    )


def base_rate(pairs: list[Pair]) -> Curve:
    """The same probability for every score: the hit rate, with one win and one loss added."""
    rate = min(CEILING, max(FLOOR, (sum(h for _, h in pairs) + 1) / (len(pairs) + 2)))
    return Curve((0.0, 1.0), (round(rate, 6), round(rate, 6)), len(pairs))


def fit(training: TrainingSet, trained_on: dict[str, object]) -> Calibration:
    pooled = fit_curve(training.trades)
    own = {
        sid: fit_curve(p) if len(p) >= MIN_TRADES else base_rate(p)
        for sid, p in training.by_strategy.items()
    }
    body = json.dumps(
        {"pooled": pooled.as_json(), "own": {k: v.as_json() for k, v in sorted(own.items())}},
        sort_keys=True,
    )
    digest = hashlib.sha256(body.encode()).hexdigest()[:8]
    version = f"{datetime.now(tz=UTC):%Y-%m-%d}.{digest}"
    return Calibration(version, pooled, own, trained_on)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--every", type=int, default=30, help="minutes between scans")
    parser.add_argument("--out", default=str(ARTEFACT))
    parser.add_argument("--summary", help="also write the training runs' summary (JSON) here")
    args = parser.parse_args(argv)
    runs = [run for run, _ in evaluate_many(TRAINING_SEEDS, TRAINING_START_MS, args.hours,
                                            args.every)]  # fmt: skip
    training = training_set(runs)
    by_strategy = training.by_strategy
    if args.summary:
        markets = {
            name: summary(merged([r for r in runs if r.control == control]))
            for name, control in (("planted", False), ("control", True))
        }
        with open(args.summary, "w") as out:
            json.dump(markets, out, indent=1, sort_keys=True)
    trained_on = {
        "seeds": list(TRAINING_SEEDS),
        "markets": "planted and control",
        "start": datetime.fromtimestamp(TRAINING_START_MS / 1000, tz=UTC).isoformat(),
        "hours": args.hours,
        "every_minutes": args.every,
        "trades": sum(len(p) for p in by_strategy.values()),
        "min_trades_for_a_map": MIN_TRADES,
        "method": "isotonic regression of ended-profitable on model_score (scikit-learn)",
    }
    calibration = fit(training, trained_on)
    with open(args.out, "w") as out:
        json.dump(calibration.as_json(), out, indent=1)
        out.write("\n")
    for sid, pairs in sorted(by_strategy.items()):
        own = "own map" if len(pairs) >= MIN_TRADES else "its hit rate"
        rate = sum(h for _, h in pairs) / len(pairs)
        print(f"{sid:28s} {len(pairs):6d} trades, hit rate {rate:6.1%}, {own}")
    print(f"wrote {args.out} (version {calibration.version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
