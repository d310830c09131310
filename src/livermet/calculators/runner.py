"""Run any registered calculator from loosely typed input (CLI arguments, case fields, JSON).

:func:`run` is the one entry point the CLI, ``livermet assess``, imaging and the web service
use: it accepts numbers, booleans and strings carrying a unit (``"34umol/L"``), converts them
to the canonical unit of the parameter's quantity (:mod:`livermet.units`), checks kinds,
choices and limits, resolves alternative parameter sets and calls the pure function.

Alternative parameters are declared with :attr:`Param.group`:

* ``group="icg"`` on several parameters: any ONE of them suffices;
* ``group="body.bsa"`` and ``group="body.height_weight"``: alternative ``body`` is satisfied by
  the complete set ``bsa`` (bsa_m2) or the complete set ``height_weight`` (height_cm and
  weight_kg).

Every problem raises :class:`CalculatorInputError` naming the calculator, the parameter, the
value received and what was expected.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from livermet.calculators.base import (
    REGISTRY,
    Calculator,
    CalculatorInputError,
    Param,
    Result,
)
from livermet.units import QUANTITIES, UnitError, convert, parse_value_with_unit

__all__ = [
    "run",
    "prepare",
    "missing_inputs",
    "list_calculators",
    "get_calculator",
    "coerce_param",
    "alternatives",
    "describe_param",
    "run_if_complete",
]

_TRUE = {"true", "yes", "y", "1", "t", "on"}
_FALSE = {"false", "no", "n", "0", "f", "off"}


def get_calculator(name: str) -> Calculator:
    """The registered calculator ``name``; an unknown name lists the known ones."""
    _ensure_loaded()
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise CalculatorInputError(name, "name", name, f"one of the calculators: {known}") from None


def list_calculators() -> list[Calculator]:
    """All registered calculators, sorted by domain then name."""
    _ensure_loaded()
    return sorted(REGISTRY.values(), key=lambda c: (c.domain, c.name))


def _ensure_loaded() -> None:
    # Importing the package imports every domain module, filling REGISTRY.
    import livermet.calculators  # noqa: F401


def describe_param(p: Param, units: bool = True) -> str:
    """Human description of what a parameter accepts (used in error messages and help)."""
    if p.kind == "bool":
        return "true or false"
    if p.kind == "choice":
        return "one of " + " | ".join(p.choices)
    text = "an integer" if p.kind == "int" else "a number"
    if p.unit and p.unit not in ("1",):
        text += f" in {p.unit}"
    lo, hi = p.minimum, p.maximum
    if lo is not None and hi is not None:
        op = "<" if p.exclusive_minimum else "<="
        text += f" ({lo:g} {op} value <= {hi:g})"
    elif lo is not None:
        text += f" ({'>' if p.exclusive_minimum else '>='} {lo:g})"
    elif hi is not None:
        text += f" (<= {hi:g})"
    if units and p.quantity and p.quantity in QUANTITIES:
        units = sorted({u for u in QUANTITIES[p.quantity].factors if u})
        if len(units) > 1:
            text += f"; other units accepted: {', '.join(units)}"
    return text


def _unit_value(calc: str, p: Param, value: float, unit: str | None, raw: Any) -> float:
    if unit is None:
        return float(value)
    if p.quantity:
        try:
            # 12 significant digits drop binary noise, so that 51.3 umol/L is exactly 3.0 mg/dL
            # and 35 g/L exactly 3.5 g/dL (both Child-Pugh boundaries).
            return float(f"{convert(p.quantity, value, unit):.12g}")
        except UnitError as exc:
            raise CalculatorInputError(calc, p.name, raw, f"{describe_param(p, False)}; {exc}") from None
    if p.unit and unit.strip().lower().replace(" ", "") == p.unit.lower().replace(" ", ""):
        return float(value)
    raise CalculatorInputError(calc, p.name, raw, f"{describe_param(p)} (unit {unit!r} not accepted)")


def coerce_param(calc: str, p: Param, raw: Any) -> Any:
    """Convert one raw value to the parameter's kind and canonical unit, checking limits.

    ``None`` stays ``None`` (absent). Raises :class:`CalculatorInputError`; the description
    of what is accepted is built only then (it is the costly part of a call that succeeds).
    """
    if raw is None:
        return None
    if p.kind == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
            return raw.strip().lower() in _TRUE
        raise CalculatorInputError(calc, p.name, raw, describe_param(p))
    if p.kind == "choice":
        if isinstance(raw, str):
            key = raw.strip().lower().replace("-", "_").replace(" ", "_")
            if key in p.choices:
                return key
        raise CalculatorInputError(calc, p.name, raw, describe_param(p))
    # numeric
    if isinstance(raw, bool):
        raise CalculatorInputError(calc, p.name, raw, describe_param(p))
    if isinstance(raw, (int, float)):
        value = float(raw)
    elif isinstance(raw, Mapping) and "value" in raw:
        inner = raw["value"]
        if isinstance(inner, bool) or not isinstance(inner, (int, float, str)):
            raise CalculatorInputError(calc, p.name, raw, describe_param(p))
        try:
            number = float(inner)
        except ValueError:
            raise CalculatorInputError(calc, p.name, raw, describe_param(p)) from None
        value = _unit_value(calc, p, number, raw.get("unit"), raw)
    elif isinstance(raw, str):
        try:
            number, unit = parse_value_with_unit(raw)
        except ValueError:
            raise CalculatorInputError(calc, p.name, raw, describe_param(p)) from None
        value = _unit_value(calc, p, number, unit, raw)
    else:
        raise CalculatorInputError(calc, p.name, raw, describe_param(p))
    if not math.isfinite(value):
        raise CalculatorInputError(calc, p.name, raw, describe_param(p))
    if p.kind == "int":
        if abs(value - round(value)) > 1e-9:
            raise CalculatorInputError(calc, p.name, raw, describe_param(p))
        value = int(round(value))
    if p.minimum is not None:
        if value < p.minimum or (p.exclusive_minimum and value == p.minimum):
            raise CalculatorInputError(calc, p.name, raw, describe_param(p))
    if p.maximum is not None and value > p.maximum:
        raise CalculatorInputError(calc, p.name, raw, describe_param(p))
    return value


def alternatives(calc: Calculator) -> dict[str, dict[str, list[str]]]:
    """Alternative parameter sets: ``{alternative: {set: [param names]}}``."""
    alts: dict[str, dict[str, list[str]]] = {}
    for p in calc.params:
        if not p.group:
            continue
        alt, _, set_name = p.group.partition(".")
        alts.setdefault(alt, {}).setdefault(set_name or p.name, []).append(p.name)
    return alts


# Per calculator (a frozen Calculator: its params never change), read-only: the parameters by
# name and its alternative sets. Keyed by the object's id and checked by identity, so a
# calculator registered anew under the same name is described afresh.
_META: dict[int, tuple[Calculator, dict[str, Param], dict[str, dict[str, list[str]]]]] = {}


def _meta(calc: Calculator) -> tuple[dict[str, Param], dict[str, dict[str, list[str]]]]:
    entry = _META.get(id(calc))
    if entry is None or entry[0] is not calc:
        entry = (calc, {p.name: p for p in calc.params}, alternatives(calc))
        _META[id(calc)] = entry
    return entry[1], entry[2]


def _alt_label(sets: Mapping[str, list[str]]) -> str:
    return " | ".join("+".join(names) for names in sets.values())


def _present(values: Mapping[str, Any], name: str) -> bool:
    return values.get(name) is not None


def prepare(name: str, raw: Mapping[str, Any], *, allow_unknown: bool = False) -> dict[str, Any]:
    """Validate and convert ``raw`` for calculator ``name``; return every parameter's value.

    Absent optional parameters get their default; absent members of alternative sets are
    ``None``. Raises :class:`CalculatorInputError` for unknown names (unless
    ``allow_unknown``), bad values and missing required inputs.
    """
    calc = get_calculator(name)
    by_name, alts = _meta(calc)
    if not allow_unknown:
        for key in raw:
            if key not in by_name:
                accepted = ", ".join(by_name)
                raise CalculatorInputError(
                    name, str(key), raw[key], f"a known parameter (accepted: {accepted})"
                )
    values: dict[str, Any] = {}
    for p in calc.params:
        v = coerce_param(name, p, raw.get(p.name))
        if v is None and not p.group and p.default is not None:
            v = coerce_param(name, p, p.default)
        values[p.name] = v
    for p in calc.params:
        if p.required and not p.group and values[p.name] is None:
            raise CalculatorInputError(name, p.name, None, describe_param(p) + " (required)")
    for sets in alts.values():
        complete = [s for s, names in sets.items() if all(_present(values, n) for n in names)]
        if complete:
            continue
        # Name the first missing member of the most nearly complete set, or the whole choice.
        best = max(sets.values(), key=lambda names: sum(_present(values, n) for n in names))
        if any(_present(values, n) for n in best):
            missing = next(n for n in best if not _present(values, n))
            with_ = ", ".join(n for n in best if _present(values, n))
            raise CalculatorInputError(
                name, missing, None,
                f"{describe_param(by_name[missing])} (needed with {with_}; or give {_alt_label(sets)})",
            )
        raise CalculatorInputError(name, _alt_label(sets), None, f"one of: {_alt_label(sets)}")
    return values


def run(name: str, raw: Mapping[str, Any], *, ignore_unknown: bool = False) -> Result:
    """Run calculator ``name`` on loosely typed ``raw`` input and return its :class:`Result`.

    Unknown keys are an error (listing the accepted ones) unless ``ignore_unknown`` (useful when
    ``raw`` is a whole flattened case).

    >>> run("bsa", {"height_cm": "1.8m", "weight_kg": 81}).value
    2.01
    """
    values = prepare(name, raw, allow_unknown=ignore_unknown)
    calc = REGISTRY[name]
    return calc.func(**{k: v for k, v in values.items() if v is not None})


def missing_inputs(name: str, available: Mapping[str, Any]) -> list[str]:
    """What ``available`` lacks for calculator ``name`` to run (empty list: it can run).

    Alternatives are listed as ``"a | b+c"``. Keys that are not parameters are ignored, and
    values are not validated here (run :func:`run` for that), except that an input needed only
    in some situations (e.g. Makuuchi's ICG-R15 when bilirubin is normal) is found by a trial
    run.
    """
    get_calculator(name)  # an unknown calculator is an error, not "nothing missing"
    try:
        return run_if_complete(name, available)[0]
    except CalculatorInputError:  # a value present but not valid: nothing is missing
        return []


def run_if_complete(name: str, available: Mapping[str, Any]) -> tuple[list[str], Result | None]:
    """:func:`missing_inputs` and :func:`run` in one: ``(missing, result)``.

    ``missing`` is what :func:`missing_inputs` returns; when it is empty, ``result`` is what
    ``run(name, available)`` returns (keys that are not parameters and ``None`` values
    dropped), from the same single call that :func:`missing_inputs` makes as its trial run.
    Raises :class:`CalculatorInputError` where that run does for a value that is present.
    """
    calc = get_calculator(name)
    avail = {p.name: available.get(p.name) for p in calc.params}
    missing: list[str] = []
    for p in calc.params:
        if p.required and not p.group and p.default is None and avail[p.name] is None:
            missing.append(p.name)
    for sets in _meta(calc)[1].values():
        if not any(all(avail.get(n) is not None for n in names) for names in sets.values()):
            missing.append(_alt_label(sets))
    if missing:
        return missing, None
    try:
        return [], run(name, {k: v for k, v in avail.items() if v is not None})
    except CalculatorInputError as exc:
        if exc.value is None:
            return [exc.parameter], None
        raise
