"""Confidence as a probability: a strategy's model score mapped to the chance its trade ends
profitable after every cost by its horizon.

Each strategy scores its findings from its own evidence (``model_score``, 0..1); that ranks, but
is not a probability. The maps from score to probability are fitted on forward tests: ``make
calibrate`` runs ``oppscan evaluate`` on training seeds, follows every published trade through
the later market, and fits an isotonic regression of "ended profitable" on the score, one per
strategy (``oppscan.evaluation.calibrate``). The maps ship as a versioned artefact,
``calibration.json`` beside this module; ``build_opportunity`` applies them, so every strategy's
``confidence_score`` means the same thing. ``make eval`` checks them on held-out seeds.

A strategy with too few training trades for a map gets a flat one (its hit rate); a strategy the
training never saw uses the map of every trade together (``pooled``). Without the artefact (only
while training the first one) the score passes through unchanged, and ``CALIBRATION.version``
says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ARTEFACT = Path(__file__).with_name("calibration.json")
UNCALIBRATED = "uncalibrated"


@dataclass(frozen=True, slots=True)
class Curve:
    """A non-decreasing map from score to probability, linear between its knots."""

    scores: tuple[float, ...]
    probabilities: tuple[float, ...]
    trades: int  # the training trades it was fitted on

    def __post_init__(self) -> None:
        if len(self.scores) != len(self.probabilities) or not self.scores:
            raise ValueError("a curve needs as many probabilities as scores, at least one")
        if any(b < a for a, b in zip(self.scores, self.scores[1:], strict=False)):
            raise ValueError("a curve's scores must not decrease")
        if any(b < a for a, b in zip(self.probabilities, self.probabilities[1:], strict=False)):
            raise ValueError("a curve's probabilities must not decrease")
        if not all(0.0 <= p <= 1.0 for p in self.probabilities):
            raise ValueError("a curve's probabilities must lie in 0..1")

    def __call__(self, score: float) -> float:
        return float(np.interp(score, self.scores, self.probabilities))

    def as_json(self) -> dict[str, Any]:
        return {
            "scores": list(self.scores),
            "probabilities": list(self.probabilities),
            "trades": self.trades,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Curve:
        return cls(
            tuple(float(x) for x in data["scores"]),
            tuple(float(y) for y in data["probabilities"]),
            int(data["trades"]),
        )


IDENTITY = Curve((0.0, 1.0), (0.0, 1.0), 0)


@dataclass(frozen=True, slots=True)
class Calibration:
    version: str
    pooled: Curve
    strategies: dict[str, Curve]
    trained_on: dict[str, Any]

    def probability(self, strategy_id: str, score: float) -> float:
        """The probability that a trade of ``strategy_id`` scored ``score`` ends profitable."""
        return self.strategies.get(strategy_id, self.pooled)(score)

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "meaning": "P(the trade ends profitable after every cost by its horizon | score)",
            "trained_on": self.trained_on,
            "pooled": self.pooled.as_json(),
            "strategies": {sid: c.as_json() for sid, c in sorted(self.strategies.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        return cls(
            version=str(data["version"]),
            pooled=Curve.from_json(data["pooled"]),
            strategies={sid: Curve.from_json(c) for sid, c in data["strategies"].items()},
            trained_on=dict(data.get("trained_on", {})),
        )


def load(path: Path = ARTEFACT) -> Calibration:
    if not path.exists():
        return Calibration(UNCALIBRATED, IDENTITY, {}, {})
    return Calibration.from_json(json.loads(path.read_text()))


CALIBRATION = load()
