"""Small helpers shared by the calculator modules (rounding, review sources)."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from livermet.calculators.base import Source

# The bundled review (shared/reference/liver-metastasis-review.txt), cited by section and
# reference number.
REVIEW = "Liver metastasis review (bundled reference)"


def review(section: str, ref: int | None = None, citation: str = REVIEW) -> Source:
    return Source(citation=citation, review_section=section, review_ref=ref)


def round_half_up(x: float, ndigits: int = 0) -> float:
    """Round halves away from zero, as clinical calculators do (Python's round() does not).

    The float is read through its shortest repr, so 1.55 rounds to 1.6, not 1.5.
    """
    q = Decimal(1).scaleb(-ndigits)
    return float(Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP))


def fmt(x: float, nd: int = 2) -> str:
    """Compact number for formulas and notes."""
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.{nd}f}".rstrip("0").rstrip(".")


def check_note(what: str, where: str) -> str:
    return (
        f"{what} is implemented as written in {where}; it was not confirmed against the "
        "primary paper's text (marked 'check')."
    )


__all__ = ["REVIEW", "review", "round_half_up", "fmt", "check_note", "math"]
