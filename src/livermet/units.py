"""Units as data: each quantity's canonical unit and the units that convert to it.

Canonical units are those of ``shared/reference/calculators.md``: bilirubin mg/dL
(1 mg/dL = 17.1 umol/L), albumin g/dL (x10 = g/L), creatinine mg/dL (1 mg/dL = 88.4 umol/L),
sodium mmol/L, CEA ng/mL (= ug/L), platelets 10^9/L, ICG-R15 %, lengths mm, volumes mL.
Conversions are explicit: an unknown unit, or one that does not fit the quantity, is an error
(nothing is guessed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Molar conversion factors, from calculators.md ("Units"):
BILIRUBIN_UMOL_PER_MG_DL = 17.1
CREATININE_UMOL_PER_MG_DL = 88.4


@dataclass(frozen=True)
class Quantity:
    name: str
    canonical: str
    factors: dict[str, float]  # unit (normalised spelling) -> multiply to get canonical


def _norm(unit: str) -> str:
    u = unit.strip().replace("µ", "u").replace("μ", "u").replace(" ", "")
    u = u.replace("^", "").replace("²", "2").replace("³", "3")
    return u.lower()


_CONCENTRATION_FREE = {"%": 1.0, "percent": 1.0, "pct": 1.0}

QUANTITIES: dict[str, Quantity] = {
    q.name: q
    for q in [
        Quantity("bilirubin", "mg/dL", {
            "mg/dl": 1.0, "mg/l": 0.1,
            "umol/l": 1 / BILIRUBIN_UMOL_PER_MG_DL,
            "mmol/l": 1000 / BILIRUBIN_UMOL_PER_MG_DL,
        }),
        Quantity("albumin", "g/dL", {"g/dl": 1.0, "g/l": 0.1, "mg/dl": 0.001}),
        Quantity("creatinine", "mg/dL", {
            "mg/dl": 1.0, "mg/l": 0.1,
            "umol/l": 1 / CREATININE_UMOL_PER_MG_DL,
            "mmol/l": 1000 / CREATININE_UMOL_PER_MG_DL,
        }),
        Quantity("sodium", "mmol/L", {"mmol/l": 1.0, "meq/l": 1.0}),
        Quantity("cea", "ng/mL", {"ng/ml": 1.0, "ug/l": 1.0, "mg/l": 1000.0, "pg/ml": 0.001}),
        Quantity("platelets", "10^9/L", {
            "109/l": 1.0, "10e9/l": 1.0, "g/l": 1.0, "/nl": 1.0, "103/ul": 1.0,
            "k/ul": 1.0, "/ul": 0.001,
        }),
        Quantity("inr", "1", {"1": 1.0, "ratio": 1.0, "": 1.0}),
        Quantity("percent", "%", dict(_CONCENTRATION_FREE)),
        Quantity("length", "mm", {"mm": 1.0, "cm": 10.0, "m": 1000.0}),
        Quantity("height", "cm", {"cm": 1.0, "m": 100.0, "mm": 0.1, "in": 2.54}),
        Quantity("mass", "kg", {"kg": 1.0, "g": 0.001, "lb": 0.45359237}),
        Quantity("volume", "mL", {"ml": 1.0, "cm3": 1.0, "cc": 1.0, "l": 1000.0, "mm3": 0.001}),
        Quantity("area", "m^2", {"m2": 1.0}),
        Quantity("time_months", "months", {"months": 1.0, "month": 1.0, "mo": 1.0, "years": 12.0, "y": 12.0}),
        Quantity("time_weeks", "weeks", {"weeks": 1.0, "week": 1.0, "wk": 1.0, "w": 1.0, "days": 1 / 7, "d": 1 / 7}),
        Quantity("dose", "Gy", {"gy": 1.0, "cgy": 0.01}),
        Quantity("activity", "GBq", {"gbq": 1.0, "mbq": 0.001, "mci": 0.037}),
        Quantity("icg_k", "1/min", {"1/min": 1.0, "/min": 1.0, "min-1": 1.0}),
        Quantity("rate_percent_per_min", "%/min", {"%/min": 1.0}),
        Quantity("age", "years", {"years": 1.0, "y": 1.0}),
    ]
}


class UnitError(ValueError):
    """A unit that is unknown, or that does not fit the quantity."""

    def __init__(self, quantity: str, unit: str, value: object = None):
        q = QUANTITIES.get(quantity)
        accepted = ", ".join(sorted({k for k in q.factors if k})) if q else "?"
        self.quantity, self.unit, self.value = quantity, unit, value
        canonical = q.canonical if q else "?"
        super().__init__(
            f"unit {unit!r} does not convert to {quantity} (canonical {canonical}; "
            f"accepted: {accepted})"
        )


def canonical_unit(quantity: str) -> str:
    return QUANTITIES[quantity].canonical


def convert(quantity: str, value: float, unit: str | None) -> float:
    """Convert ``value`` in ``unit`` to the canonical unit of ``quantity``.

    ``unit`` None means the value is already canonical.
    """
    if unit is None:
        return float(value)
    q = QUANTITIES[quantity]
    key = _norm(unit)
    if key == _norm(q.canonical):
        return float(value)
    if key not in q.factors:
        raise UnitError(quantity, unit, value)
    return float(value) * q.factors[key]


_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def parse_value_with_unit(text: str) -> tuple[float, str | None]:
    """Split "34umol/L" into (34.0, "umol/L"); "1.2" into (1.2, None)."""
    m = _NUMBER_UNIT.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a number (optionally followed by a unit)")
    unit = m.group(2) or None
    return float(m.group(1)), unit
