"""Check a case and report every problem at once.

:func:`validate_case` takes the raw mapping (as parsed from JSON/YAML) and returns a
:class:`ValidationReport`: every :class:`Problem` found (each naming the field path, the value,
what was expected and, where we can tell, what was probably meant) and, when there is no
error, the normalised :class:`~livermet.case.model.Case` with labs converted to canonical
floats (``livermet.units``).

Checks, in order:

1. labs: number in the canonical unit, ``{"value": x, "unit": "..."}`` or ``"17 umol/L"``;
   an unknown unit, or one of another quantity, is an error naming the accepted units;
2. types and vocabularies: pydantic (strict: ``"61"`` is not a number, ``"yes"`` not a
   boolean), its errors translated into our problems with the allowed values;
3. ranges: each numeric field has a *hard* range (outside it the value cannot be a real
   measurement: error) and a *usual* range (outside it the value is possible but unusual:
   warning). Where re-reading the number in another common unit lands it in the usual range,
   the problem says so (albumin 41 "g/dL" is 41 g/L = 4.1 g/dL);
4. structure and consistency: duplicate lesion ids, Couinaud segments outside 1-8, a remnant
   larger than the liver, extrahepatic sites listed while ``present`` is false, dates ...;
5. the planned resection: ``volumetry.planned_resection`` must be a plan the imaging layer can
   carry out (``livermet.imaging.resection.parse_resection``, imported only for such a case);
   a listed lesion outside an anatomic plan's segments stays in the remnant (warning);
   images: named but unused (no label map or masks), an unknown label set or mask role, and,
   when the case file's folder is known, every image file that does not exist;
6. unknown fields: kept (forward compatible) but reported as warnings, with the nearest
   known name (a typo such as ``bilirubn`` would otherwise silently drop a lab).

About the ranges: they are defined, with their reasons, in :mod:`livermet.case.ranges`.
"""

from __future__ import annotations

import copy
import datetime as _dt
import difflib
import math
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from livermet import units
from livermet.case.model import Case
from livermet.case.ranges import (  # noqa: F401  (re-exported: the public names)
    COUINAUD_SEGMENTS,
    DIAMETER,
    FIELD_SPECS,
    LAB_SPECS,
    RECIST_MAX_TARGETS_PER_ORGAN,
    VOLUME_SUM_TOLERANCE,
    Spec,
)

__all__ = ["Problem", "ValidationReport", "validate_case", "LAB_SPECS", "FIELD_SPECS", "Spec"]

ERROR = "error"
WARNING = "warning"


# ----------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One problem in a case.

    ``path`` is the field's location (``labs.albumin``, ``metastases.lesions[1].segments[0]``;
    ``""`` for the document itself), ``value`` what was found, ``expected`` what is accepted
    (type, unit, range or vocabulary), ``hint`` how to fix it / what was probably meant.
    ``code`` classifies it: parse, type, vocabulary, missing, unit, range, implausible,
    unusual, duplicate, consistency, date, file (an image the case names does not exist),
    unknown_field.
    """

    path: str
    message: str
    severity: str = ERROR
    value: Any = None
    expected: str | None = None
    hint: str | None = None
    code: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "severity": self.severity,
            "code": self.code,
            "value": _jsonable(self.value),
            "expected": self.expected,
            "message": self.message,
            "hint": self.hint,
        }

    def __str__(self) -> str:
        text = f"{self.severity}: {self.path or '(case)'}: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


@dataclass(frozen=True)
class ValidationReport:
    """Every problem found, the unit conversions done, and the normalised case if valid."""

    problems: tuple[Problem, ...]
    case: Case | None = None
    conversions: tuple[Mapping[str, Any], ...] = ()

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    def for_path(self, path: str) -> list[Problem]:
        """Problems at ``path`` exactly."""
        return [p for p in self.problems if p.path == path]

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.ok,
            "error_count": len(self.errors),
            "warning_count": len(self.warnings),
            "problems": [p.to_dict() for p in self.problems],
            "conversions": [dict(c) for c in self.conversions],
            "case": self.case.model_dump(mode="json", exclude_none=True) if self.case else None,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


# A stated age and the birth date may differ by up to a year (the age may be counted at
# another date than the meeting); beyond that one of them is probably mistyped.
AGE_BIRTH_DATE_TOLERANCE_YEARS = 1.0

# Common spellings for vocabulary values (used only for "did you mean" hints, never applied).
_SYNONYMS: dict[str, str] = {
    "m": "male", "man": "male", "f": "female", "w": "female", "woman": "female",
    "crc": "colorectal", "colon": "colorectal", "rectal": "colorectal", "rectum": "colorectal",
    "colorectal cancer": "colorectal", "net": "neuroendocrine", "nen": "neuroendocrine",
    "uveal": "uveal_melanoma", "uveal melanoma": "uveal_melanoma", "cup": "other",
    "pancreas": "pancreatic", "stomach": "gastric", "l": "left", "r": "right",
    "g1": "well", "g2": "moderate", "g3": "poor", "well differentiated": "well",
    "moderately differentiated": "moderate", "poorly differentiated": "poor",
    "pr": "responding", "cr": "responding", "sd": "stable", "pd": "progressive",
    "response": "responding", "progression": "progressive", "progressing": "progressive",
    "no": "none", "absent": "none", "mild": "controlled", "moderate": "refractory",
    "severe": "refractory", "grade 1-2": "grade_1_2", "grade 3-4": "grade_3_4",
}


# ----------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def _range_text(lo: float | None, hi: float | None, unit: str, lo_excl: bool = False) -> str:
    u = "" if unit in ("1", "") else f" {unit}"
    if lo is not None and hi is not None:
        op = "<" if lo_excl else "<="
        return f"{_fmt(lo)} {op} value <= {_fmt(hi)}{u}"
    if lo is not None:
        return f">= {_fmt(lo)}{u}"
    if hi is not None:
        return f"<= {_fmt(hi)}{u}"
    return f"a number{u}"


def _expected(spec: Spec) -> str:
    kind = "a number" if spec.unit else "a whole number"
    unit = "" if spec.unit in ("1", "") else f" in {spec.unit}"
    text = f"{kind}{unit}, possible {_range_text(*spec.hard, '', spec.hard_min_exclusive)}"
    if spec.usual != (None, None):
        text += f", usual {_range_text(*spec.usual, '')}"
    return text


def _as_number(value: Any) -> float | None:
    """A number as the case means it; bools and non-numbers give None (reported elsewhere)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


_DECIMAL_COMMA = re.compile(r"^\s*([-+]?\d+),(\d+)(.*)$")
_LEADING_ZERO = re.compile(r"^\s*[-+]?0\d+(?:\.\d*)?\s*$")
_YAML11_TRUE, _YAML11_FALSE = ("yes", "y", "on"), ("no", "n", "off")


def _decimal_comma_hint(text: str) -> str | None:
    """What to write for a number typed with a decimal comma (``"1,1"``); never converted."""
    m = _DECIMAL_COMMA.match(text)
    if not m:
        return None
    whole, frac, rest = m.groups()
    if len(frac) == 3:
        return (f"a comma in {text.strip()!r} is a decimal comma ({whole}.{frac}) or a thousands "
                f"separator ({whole}{frac}): write the number with a decimal point and no separator")
    return (f"a decimal comma was probably meant: write {whole}.{frac}{rest.rstrip()} "
            "(livermet reads only a point as the decimal mark)")


def _number_text_hint(text: str) -> str | None:
    """A hint for a number that arrived as text: a decimal comma or a leading zero."""
    hint = _decimal_comma_hint(text)
    if hint is None and _LEADING_ZERO.match(text):
        number = float(text)
        shown = int(number) if number.is_integer() and "." not in text else number
        hint = (f"write {shown} without the leading zero (a number with a leading zero is read as "
                "text: YAML 1.1 tools read it as octal, YAML 1.2 as decimal)")
    return hint


def _get(data: Any, dotted: str) -> Any:
    node = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _iter_path(node: Any, parts: list[str], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every (concrete path, value) matching a pattern like ``a.b[].c``."""
    if not parts:
        yield prefix, node
        return
    head, rest = parts[0], parts[1:]
    if not isinstance(node, Mapping):
        return
    key = head[:-2] if head.endswith("[]") else head
    if key not in node:
        return
    path = f"{prefix}.{key}" if prefix else key
    if head.endswith("[]"):
        seq = node[key]
        if isinstance(seq, list):
            for i, item in enumerate(seq):
                yield from _iter_path(item, rest, f"{path}[{i}]")
    else:
        yield from _iter_path(node[key], rest, path)


def _values(data: Any, pattern: str) -> Iterator[tuple[str, Any]]:
    return _iter_path(data, pattern.split("."))


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _pattern_of(path: str) -> str:
    """``metastases.lesions[1].diameter_mm`` -> ``metastases.lesions[].diameter_mm``."""
    out, depth = [], 0
    for ch in path:
        if ch == "[":
            depth += 1
            out.append("[]")
        elif ch == "]":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _reread_hint(raw: float, spec: Spec, given_unit: str | None = None) -> str | None:
    """If the same number read in another unit is usual, say so."""
    lo, hi = spec.usual
    if lo is None and hi is None:
        lo, hi = spec.hard
    candidates = []
    for label, factor in spec.reread:
        if given_unit is not None and units_equal(label, given_unit):
            continue
        value = raw * factor
        if (lo is None or value >= lo) and (hi is None or value <= hi):
            candidates.append((label, value))
    if not candidates:
        return None
    label, value = candidates[0]
    unit = "" if spec.unit in ("1", "") else f" {spec.unit}"
    if spec.quantity and not label.startswith("fraction"):
        return (
            f"probably {label}: {_fmt(raw)} {label} = {_fmt(value)}{unit}; "
            f'write {{"value": {_fmt(raw)}, "unit": "{label}"}} or {_fmt(value)}'
        )
    if label.startswith("fraction"):
        return f"looks like a fraction: {_fmt(raw)} = {_fmt(value)}{unit}; give percent"
    return f"probably {label}: {_fmt(raw)} {label} = {_fmt(value)}{unit}; give {_fmt(value)}"


def units_equal(a: str, b: str) -> bool:
    def norm(u: str) -> str:
        return u.strip().replace("µ", "u").replace("μ", "u").replace(" ", "").lower()

    return norm(a) == norm(b)


def _unit_owner(unit: str) -> list[str]:
    """The quantities ``unit`` converts to (empty: an unknown unit)."""
    owners = []
    for name in units.QUANTITIES:
        try:
            units.convert(name, 1.0, unit)
        except units.UnitError:
            continue
        owners.append(name)
    return owners


# livermet.units keeps unit spellings normalised (lower case, no ^); show them as labs write them.
_UNIT_DISPLAY = {
    "mg/dl": "mg/dL", "mg/l": "mg/L", "umol/l": "umol/L", "mmol/l": "mmol/L", "g/dl": "g/dL",
    "g/l": "g/L", "meq/l": "mEq/L", "ng/ml": "ng/mL", "ug/l": "ug/L", "pg/ml": "pg/mL",
    "109/l": "10^9/L", "10e9/l": "10E9/L", "/nl": "/nL", "103/ul": "10^3/uL", "k/ul": "K/uL",
    "/ul": "/uL", "%": "%", "percent": "percent", "pct": "pct", "1": "1", "ratio": "ratio",
}


def display_unit(unit: str) -> str:
    """A normalised unit spelling as a laboratory writes it (``umol/l`` -> ``umol/L``)."""
    return _UNIT_DISPLAY.get(unit, unit)


def accepted_units(quantity: str) -> list[str]:
    """Units that convert to ``quantity``, canonical first, as a laboratory writes them."""
    q = units.QUANTITIES[quantity]
    others = sorted({display_unit(k) for k in q.factors if k and not units_equal(k, q.canonical)}
                    - {q.canonical})
    return [q.canonical] + others


def _accepted_units(quantity: str) -> str:
    return ", ".join(accepted_units(quantity))


# ----------------------------------------------------------------------------------------
# The checks
# ----------------------------------------------------------------------------------------


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.conversions: list[dict[str, Any]] = []
        self.split_keys: set[str] = set()  # "decimals" of a number split at a comma

    def add(self, path: str, message: str, severity: str = ERROR, **kw: Any) -> None:
        self.problems.append(Problem(path=path, message=message, severity=severity, **kw))

    def has_error_at(self, path: str) -> bool:
        return any(p.path == path and p.is_error for p in self.problems)


def _check_range(c: _Collector, path: str, value: float, spec: Spec, raw: Any = None,
                 raw_number: float | None = None, given_unit: str | None = None) -> None:
    """Hard range -> error, usual range -> warning; ``raw_number`` is the number as typed."""
    if raw_number is None:
        raw_number = value
    lo, hi = spec.hard
    unit = "" if spec.unit in ("1", "") else f" {spec.unit}"
    shown = raw if raw is not None else value
    too_low = lo is not None and (value < lo or (spec.hard_min_exclusive and value == lo))
    too_high = hi is not None and value > hi
    if too_low or too_high:
        hint = _reread_hint(raw_number, spec, given_unit)
        c.add(
            path,
            f"{_fmt(value)}{unit} is not a possible {spec.what or path.rsplit('.', 1)[-1]} "
            f"(possible: {_range_text(lo, hi, spec.unit, spec.hard_min_exclusive)})",
            value=shown, expected=_expected(spec), hint=hint, code="implausible",
        )
        return
    ulo, uhi = spec.usual
    if (ulo is not None and value < ulo and not (value == 0 and spec is DIAMETER)) or (
        uhi is not None and value > uhi
    ):
        hint = _reread_hint(raw_number, spec, given_unit)
        c.add(
            path,
            f"{_fmt(value)}{unit} is unusual (usual: {_range_text(ulo, uhi, spec.unit)}); "
            "check the value and its unit",
            severity=WARNING, value=shown, expected=_expected(spec), hint=hint, code="unusual",
        )


def _normalise_labs(data: dict[str, Any], c: _Collector) -> None:
    """Convert every lab to a canonical float in place; a lab that cannot be read -> None."""
    labs = data.get("labs")
    if not isinstance(labs, dict):
        return
    for name, spec in LAB_SPECS.items():
        if name not in labs or labs[name] is None:
            continue
        raw = labs[name]
        path = f"labs.{name}"
        assert spec.quantity is not None
        accepted = _accepted_units(spec.quantity)
        expected = f'a number in {spec.unit} or {{"value": x, "unit": u}} with u one of: {accepted}'
        number: float | None = None
        unit: str | None = None
        if isinstance(raw, bool):
            pass
        elif isinstance(raw, (int, float)):
            number = float(raw)
        elif isinstance(raw, Mapping):
            v = raw.get("value")
            number = _as_number(v)
            if number is None and isinstance(v, str):
                try:
                    number = float(v)
                except ValueError:
                    number = None
            unit = raw.get("unit")
            if number is None:
                labs[name] = None
                c.add(path + ".value", f"lab value {v!r} is not a number", value=v,
                      expected=expected, code="type",
                      hint=_number_text_hint(v) if isinstance(v, str) else None)
                continue
            if unit is not None and not isinstance(unit, str):
                labs[name] = None
                c.add(path + ".unit", f"unit {unit!r} is not text", value=unit,
                      expected=f"one of: {accepted}", code="unit")
                continue
            if unit is None or not unit.strip():
                labs[name] = None
                c.add(path, f"{spec.what} {_fmt(number)} has no unit", value=raw,
                      expected=expected, code="unit",
                      hint=f'add "unit" (e.g. "{spec.unit}") or give a plain number in {spec.unit}')
                continue
        elif isinstance(raw, str):
            comma = _decimal_comma_hint(raw)
            if comma is not None:
                labs[name] = None
                c.add(path, f"{spec.what} {raw!r} has a comma in the number", value=raw,
                      expected=expected, code="type", hint=comma)
                continue
            try:
                number, unit = units.parse_value_with_unit(raw)
            except ValueError:
                number = None
        if number is None:
            labs[name] = None
            c.add(path, f"{spec.what} must be a number", value=raw, expected=expected, code="type",
                  hint=_number_text_hint(raw) if isinstance(raw, str) else None)
            continue
        if not math.isfinite(number):
            labs[name] = None
            # a JSON NaN is already reported by _check_nonfinite (at the lab or its "value")
            if not (c.has_error_at(path) or c.has_error_at(f"{path}.value")):
                c.add(path, "not a finite number", value=raw, expected=expected, code="type")
            continue
        try:
            value = units.convert(spec.quantity, number, unit)
        except units.UnitError:
            labs[name] = None
            owners = _unit_owner(unit or "")
            upath = path + ".unit" if isinstance(raw, Mapping) else path
            if owners:
                msg = (f"unit {unit!r} does not fit {spec.what} (it is a unit of "
                       f"{', '.join(owners)})")
            else:
                msg = f"unknown unit {unit!r} for {spec.what}"
            c.add(upath, msg, value=unit if isinstance(raw, Mapping) else raw,
                  expected=f"a unit of {spec.what}: {accepted}", code="unit",
                  hint=f"canonical unit is {spec.unit}")
            continue
        value = float(f"{value:.6g}")
        if unit is not None and not units_equal(unit, spec.unit):
            c.conversions.append({
                "path": path, "value": number, "unit": unit,
                "canonical_value": value, "canonical_unit": spec.unit,
            })
        labs[name] = value
        _check_range(c, path, value, spec, raw=raw, raw_number=number, given_unit=unit)
        if name == "inr" and value > (spec.hard[1] or math.inf):
            # replace the generic hint: INR numbers this big are PT seconds or Quick %.
            last = c.problems[-1]
            c.problems[-1] = Problem(**{**last.__dict__, "hint": (
                "INR is a ratio near 1: this looks like a prothrombin time in seconds or a "
                "Quick value in percent; give the INR reported by the laboratory")})


_PYDANTIC_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text (a string in quotes)",
    "list_type": "a list [...]",
    "dict_type": "an object {...}",
    "model_type": "an object {...}",
    "model_attributes_type": "an object {...}",
}


def _literal_choices(ctx: Mapping[str, Any] | None) -> list[str]:
    text = (ctx or {}).get("expected", "")
    return [part.strip().strip("'") for part in text.replace(" or ", ", ").split(",") if part.strip()]


def _did_you_mean(value: Any, choices: list[str]) -> str | None:
    if not isinstance(value, str):
        return None
    key = value.strip().lower().replace("-", "_")
    for candidate in (key, key.replace("_", " ")):
        if candidate in choices:
            return f"write it in lower case with underscores: {candidate!r}"
        if candidate in _SYNONYMS and _SYNONYMS[candidate] in choices:
            return f"did you mean {_SYNONYMS[candidate]!r}?"
    close = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def _field_description(loc: tuple[Any, ...]) -> str | None:
    """The model's description of the field at ``loc`` (for 'expected' texts)."""
    model: Any = Case
    info = None
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return None
        info = fields[part]
        model = _model_of(info.annotation)
    return info.description if info is not None else None


def _model_of(annotation: Any) -> Any:
    """The pydantic model class inside Optional[...] / list[...] / Union, if any."""
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _pydantic_problems(data: dict[str, Any], c: _Collector) -> Case | None:
    from pydantic import ValidationError

    try:
        return Case.model_validate(data, strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    for e in errors:
        loc = tuple(e["loc"])
        path = _loc_to_path(loc)
        if c.has_error_at(path):
            continue
        etype = e["type"]
        value = e.get("input")
        hint = None
        if etype == "missing":
            desc = _field_description(loc)
            c.add(path, "required field is missing", value=None,
                  expected=desc or "a value", code="missing",
                  hint="every lesion needs an id (L1, L2 ...)" if loc[-1] == "id" and len(loc) > 1
                  else ('give the case an "id"' if loc == ("id",) else None))
            continue
        if etype == "literal_error":
            choices = _literal_choices(e.get("ctx"))
            if isinstance(value, bool):
                # `ascites: no` read by a YAML 1.1 tool, or an unquoted true/false
                example = ', e.g. "none"' if value is False and "none" in choices else ""
                c.add(path, f"the boolean {str(value).lower()} is not an accepted value",
                      value=value, expected="one of: " + " | ".join(choices), code="vocabulary",
                      hint=f"YAML read it as {str(value).lower()}: unquoted true/false (and, in "
                      "YAML 1.1 tools, yes/no/on/off) are booleans; write one of the words, "
                      f"quoted if in doubt{example}")
                continue
            c.add(path, f"{value!r} is not an accepted value", value=value,
                  expected="one of: " + " | ".join(choices), code="vocabulary",
                  hint=_did_you_mean(value, choices))
            continue
        expected = _PYDANTIC_EXPECTED.get(etype, e.get("msg", ""))
        spec = FIELD_SPECS.get(_pattern_of(path))
        if spec is not None and expected in ("a number", "an integer"):
            expected = _expected(spec)
        desc = _field_description(loc)
        if desc and spec is None and expected in ("a number", "an integer"):
            expected = f"{expected} ({desc})"
        if path.endswith("]") and ".segments[" in path and isinstance(value, str):
            hint = "Couinaud segments are whole numbers 1-8 (segment 4a/4b: write 4)"
        elif isinstance(value, str) and expected.startswith(("a number", "an integer")):
            hint = _number_text_hint(value) or \
                "write the number without quotes or units (units are fixed by the field name)"
        elif isinstance(value, str) and etype == "bool_type":
            word = value.strip().lower()
            hint = ("write true or false without quotes" if word not in _YAML11_TRUE + _YAML11_FALSE
                    else f"write {'true' if word in _YAML11_TRUE else 'false'} without quotes: only "
                    f"true and false are booleans ({value!r} is text)")
        elif etype == "string_type" and isinstance(value, bool):
            hint = f'if it is text, write it in quotes: "{str(value).lower()}"'
        elif etype == "string_type" and isinstance(value, (int, float)):
            hint = f'write it in quotes: "{value}" (unquoted, it is read as a number)'
        elif isinstance(value, float) and etype == "int_type" and value.is_integer():
            hint = f"write {int(value)}"
        c.add(path, f"expected {expected}, got {type(value).__name__} {value!r}"
              if not isinstance(value, (dict, list)) else f"expected {expected}",
              value=value, expected=expected, code="type", hint=hint)
    return None


def _check_nonfinite(node: Any, path: str, c: _Collector) -> None:
    if isinstance(node, float) and not math.isfinite(node):
        c.add(path, f"{node} is not a finite number", value=node, expected="a finite number",
              code="type", hint="JSON NaN/Infinity are not numbers; leave the field out or null")
    elif isinstance(node, Mapping):
        for k, v in node.items():
            _check_nonfinite(v, f"{path}.{k}" if path else str(k), c)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _check_nonfinite(v, f"{path}[{i}]", c)


def _check_split_decimals(node: Any, path: str, c: _Collector) -> None:
    """YAML splits ``{inr: 1,1}`` at the comma: ``inr: 1`` and a field ``"1"`` without a value.
    Such a pair is an error at the number (its decimals were lost), never read silently."""
    if isinstance(node, list):
        for i, v in enumerate(node):
            _check_split_decimals(v, f"{path}[{i}]", c)
        return
    if not isinstance(node, Mapping):
        return
    prev: tuple[str, Any] | None = None
    for key, value in node.items():
        sub = f"{path}.{key}" if path else str(key)
        if (prev is not None and isinstance(key, str) and key.isdigit() and value is None
                and isinstance(prev[1], int) and not isinstance(prev[1], bool)):
            prev_path = f"{path}.{prev[0]}" if path else prev[0]
            c.add(prev_path, f"{prev[1]} followed by a field {key!r} without a value: a decimal "
                  f"comma inside {{ }} splits the number ({prev[0]}: {prev[1]},{key})",
                  value=prev[1], expected="a number with a decimal point", code="type",
                  hint=f"write {prev[0]}: {prev[1]}.{key} (livermet reads only a point as the "
                  "decimal mark)")
            c.split_keys.add(sub)
        else:
            _check_split_decimals(value, sub, c)
        prev = (str(key), value)


def _check_ranges(data: dict[str, Any], c: _Collector) -> None:
    for pattern, spec in FIELD_SPECS.items():
        for path, raw in _values(data, pattern):
            value = _as_number(raw)
            if value is None or not math.isfinite(value) or c.has_error_at(path):
                continue
            _check_range(c, path, value, spec, raw=raw)


def _check_lesions(data: dict[str, Any], c: _Collector) -> None:
    lesions = _get(data, "metastases.lesions")
    if not isinstance(lesions, list):
        return
    seen: dict[str, int] = {}
    targets = 0
    for i, lesion in enumerate(lesions):
        base = f"metastases.lesions[{i}]"
        if not isinstance(lesion, Mapping):
            continue
        lid = lesion.get("id")
        if isinstance(lid, str):
            if not lid.strip():
                c.add(f"{base}.id", "lesion id is empty", value=lid,
                      expected="a non-empty text unique within the case", code="missing")
            elif lid in seen:
                c.add(f"{base}.id", f"duplicate lesion id {lid!r} (also lesions[{seen[lid]}])",
                      value=lid, expected="an id unique within the case", code="duplicate",
                      hint=f"rename one of them, e.g. {lid}b")
            else:
                seen[lid] = i
        segments = lesion.get("segments")
        if isinstance(segments, list):
            seen_seg: set[int] = set()
            for j, seg in enumerate(segments):
                if isinstance(seg, bool) or not isinstance(seg, int):
                    continue
                if seg not in COUINAUD_SEGMENTS:
                    hint = ("segment IX (paracaval caudate) is recorded as 1" if seg == 9
                            else "Couinaud numbers segments 1 to 8")
                    c.add(f"{base}.segments[{j}]", f"segment {seg} does not exist",
                          value=seg, expected="a Couinaud segment 1-8", code="range", hint=hint)
                elif seg in seen_seg:
                    c.add(f"{base}.segments[{j}]", f"segment {seg} listed twice",
                          severity=WARNING, value=seg, expected="each segment once",
                          code="duplicate")
                seen_seg.add(seg)
        if lesion.get("target") is True:
            targets += 1
        measurements = lesion.get("measurements")
        if isinstance(measurements, list):
            dates: dict[str, int] = {}
            for j, m in enumerate(measurements):
                if not isinstance(m, Mapping) or not isinstance(m.get("date"), str):
                    continue
                d = m["date"]
                if d in dates:
                    c.add(f"{base}.measurements[{j}].date",
                          f"two measurements on {d} (also measurements[{dates[d]}])",
                          severity=WARNING, value=d, expected="one measurement per date",
                          code="duplicate")
                dates[d] = j
    if targets > RECIST_MAX_TARGETS_PER_ORGAN:
        c.add("metastases.lesions", f"{targets} lesions marked as RECIST targets in the liver",
              severity=WARNING, value=targets,
              expected=f"at most {RECIST_MAX_TARGETS_PER_ORGAN} target lesions per organ (RECIST 1.1)",
              code="consistency")


def _parse_date(text: str) -> _dt.date | None:
    try:
        return _dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


_DATE_PATTERNS = (
    "meeting_date",
    "patient.birth_date",
    "metastases.lesions[].measurements[].date",
    "mdt.date",
)


def _check_dates(data: dict[str, Any], c: _Collector) -> None:
    parsed: dict[str, _dt.date] = {}
    for pattern in _DATE_PATTERNS:
        for path, raw in _values(data, pattern):
            if not isinstance(raw, str):
                continue  # null, or a wrong type reported by pydantic
            d = _parse_date(raw)
            if d is None:
                c.add(path, f"{raw!r} is not a date", value=raw,
                      expected="an ISO date YYYY-MM-DD", code="date",
                      hint="write dates as 2026-11-27 (year-month-day)")
            else:
                parsed[path] = d
    birth = parsed.get("patient.birth_date")
    # the age is compared at the meeting, or today when the case has no meeting date
    at_meeting = "meeting_date" in parsed
    ref = parsed["meeting_date"] if at_meeting else _dt.date.today()
    when = f"on the meeting date {ref.isoformat()}" if at_meeting else \
        f"today, {ref.isoformat()} (no meeting_date)"
    if birth is not None:
        if birth > ref:
            c.add("patient.birth_date", f"birth date is after the meeting date {ref.isoformat()}"
                  if at_meeting else f"birth date is in the future (today is {ref.isoformat()})",
                  value=data["patient"]["birth_date"], expected="a date in the past",
                  code="date")
        age = _as_number(_get(data, "patient.age"))
        if age is not None and birth <= ref:
            years = (ref - birth).days / 365.25
            if abs(years - age) > AGE_BIRTH_DATE_TOLERANCE_YEARS:
                c.add("patient.age", f"age {_fmt(age)} does not match the birth date "
                      f"({years:.1f} years {when})", severity=WARNING, value=age,
                      expected=f"about {years:.0f}", code="consistency")


def _check_consistency(data: dict[str, Any], c: _Collector) -> None:
    num = lambda p: _as_number(_get(data, p))  # noqa: E731
    total, tumour, remnant = num("volumetry.total_liver_ml"), num("volumetry.tumour_ml"), num(
        "volumetry.remnant_ml")
    if total is not None and tumour is not None and tumour >= total:
        c.add("volumetry.tumour_ml", f"tumour volume {_fmt(tumour)} mL is not smaller than the "
              f"total liver volume {_fmt(total)} mL", value=tumour,
              expected=f"< total_liver_ml ({_fmt(total)} mL)", code="consistency",
              hint="total_liver_ml is the whole liver including the tumours")
    if total is not None and remnant is not None:
        if remnant > total:
            c.add("volumetry.remnant_ml", f"remnant {_fmt(remnant)} mL is larger than the whole "
                  f"liver ({_fmt(total)} mL)", value=remnant,
                  expected=f"<= total_liver_ml ({_fmt(total)} mL)", code="consistency")
        elif tumour is not None and tumour < total and remnant > total - tumour:
            c.add("volumetry.remnant_ml", f"remnant {_fmt(remnant)} mL is larger than the "
                  f"tumour-free liver ({_fmt(total)} - {_fmt(tumour)} = {_fmt(total - tumour)} mL)",
                  value=remnant, expected=f"<= {_fmt(total - tumour)} mL", code="consistency",
                  hint="the future liver remnant excludes tumour")
    if remnant is not None and remnant == 0:
        c.add("volumetry.remnant_ml", "remnant of 0 mL: no liver would remain",
              severity=WARNING, value=remnant, expected="> 0 mL", code="consistency",
              hint="leave remnant_ml out (null) when no resection is planned")
    after, weeks = num("volumetry.remnant_ml_after_pve"), num("volumetry.weeks_since_pve")
    if (after is None) != (weeks is None):
        have, lack = (("remnant_ml_after_pve", "weeks_since_pve") if after is not None
                      else ("weeks_since_pve", "remnant_ml_after_pve"))
        c.add(f"volumetry.{lack}", f"{have} is given without {lack}: the kinetic growth rate "
              "needs both", severity=WARNING, value=None, expected="a number", code="missing")
    if after is not None and remnant is not None and after < remnant:
        c.add("volumetry.remnant_ml_after_pve", f"the remnant shrank after PVE ({_fmt(remnant)} "
              f"-> {_fmt(after)} mL)", severity=WARNING, value=after,
              expected=f">= remnant_ml ({_fmt(remnant)} mL)", code="consistency",
              hint="check that remnant_ml is the volume before embolisation")
    if after is not None and remnant is None:
        c.add("volumetry.remnant_ml", "remnant after PVE is given without the remnant before",
              severity=WARNING, value=None, expected="the remnant before PVE, mL", code="missing")
    segs = _get(data, "volumetry.segments_ml")
    if isinstance(segs, Mapping):
        allowed = {str(s) for s in COUINAUD_SEGMENTS} | {"4a", "4b"}
        vals = []
        for key, v in segs.items():
            path = f"volumetry.segments_ml.{key}"
            if str(key).lower() not in allowed:
                c.add(path, f"{key!r} is not a Couinaud segment", value=key,
                      expected="keys 1-8 (or 4a/4b)", code="range")
            n = _as_number(v)
            if n is not None and n < 0:
                c.add(path, "negative volume", value=v, expected=">= 0 mL", code="implausible")
            elif n is not None:
                vals.append(n)
        if total is not None and vals and len(vals) >= 8:
            s = sum(vals)
            if abs(s - total) > VOLUME_SUM_TOLERANCE * total:
                c.add("volumetry.segments_ml", f"segment volumes sum to {_fmt(s)} mL, total liver "
                      f"is {_fmt(total)} mL", severity=WARNING, value=s,
                      expected=f"within {VOLUME_SUM_TOLERANCE:.0%} of total_liver_ml",
                      code="consistency")

    extra = _get(data, "metastases.extrahepatic")
    if isinstance(extra, Mapping) and extra.get("present") is False:
        if extra.get("sites"):
            c.add("metastases.extrahepatic.sites", "sites are listed but present is false",
                  severity=WARNING, value=extra.get("sites"), expected="[] when present is false",
                  code="consistency", hint="set present: true, or empty the list")
        if extra.get("resectable") is not None:
            c.add("metastases.extrahepatic.resectable", "resectable is set but present is false",
                  severity=WARNING, value=extra.get("resectable"), expected="null",
                  code="consistency")

    primary = data.get("primary") if isinstance(data.get("primary"), Mapping) else {}
    msr = _as_number(primary.get("months_since_resection"))
    if primary.get("resected") is False and msr is not None:
        c.add("primary.months_since_resection", "given although primary.resected is false",
              severity=WARNING, value=msr, expected="null when the primary is in place",
              code="consistency", hint="it is not used while resected is false")
    site = primary.get("site")
    known_sites = typing.get_args(Case.model_fields["primary"].annotation.model_fields["site"].annotation)
    known_sites = typing.get_args(known_sites[0]) if known_sites else ()
    if primary.get("side") is not None and site in known_sites and site != "colorectal":
        c.add("primary.side", f"side is defined for colorectal primaries, site is {site!r}",
              severity=WARNING, value=primary.get("side"), expected="null", code="consistency")
    dfi = num("metastases.disease_free_interval_months")
    if _get(data, "metastases.synchronous") is True and dfi is not None and dfi > 12:
        c.add("metastases.disease_free_interval_months", f"{_fmt(dfi)} months although "
              "synchronous is true", severity=WARNING, value=dfi,
              expected="0 for synchronous metastases", code="consistency",
              hint="scores treat synchronous metastases as DFI 0")
    if dfi is not None and msr is not None and primary.get("resected") is not False and dfi > msr + 1:
        c.add("metastases.disease_free_interval_months", f"disease-free interval {_fmt(dfi)} "
              f"months is longer than the time since resection ({_fmt(msr)} months)",
              severity=WARNING, value=dfi, expected=f"<= {_fmt(msr)} months",
              code="consistency")
    weeks_chemo = num("liver.chemotherapy_weeks")
    lines = _as_number(_get(data, "liver.chemotherapy_lines"))
    if weeks_chemo and lines == 0:
        c.add("liver.chemotherapy_lines", f"0 lines but {_fmt(weeks_chemo)} weeks of chemotherapy",
              severity=WARNING, value=0, expected=">= 1", code="consistency")


def _segments_text(segments: Any) -> str:
    """``[5, 6, 7, 8]`` -> "segments 5-8"; ``[2]`` -> "segment 2"; ``[4, 5, 8]`` -> "segments 4, 5, 8"."""
    segs = sorted(set(segments))
    return f"segment {segs[0]}" if len(segs) == 1 else f"segments {_segment_numbers(segs)}"


def _segment_numbers(segments: Any) -> str:
    """``[5, 6, 7, 8]`` -> "5-8" (runs of three or more joined), ``[4, 5, 8]`` -> "4, 5, 8"."""
    segs = sorted(set(segments))
    parts: list[str] = []
    start = prev = segs[0]
    for s in [*segs[1:], None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        parts += [f"{start}-{prev}"] if prev - start >= 2 else [str(x) for x in range(start, prev + 1)]
        if s is not None:
            start = prev = s
    return ", ".join(parts)


def _resection_hint(part: str, known: list[str]) -> str:
    key = part.strip().lower().replace("-", "_").replace(" ", "_")
    if any(ch.isdigit() for ch in key):
        return "one segment: segmentectomy_7; several: segments:6,7"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return ("anatomic resections use the Brisbane 2000 names; a parenchyma-sparing (wedge) "
            "resection is 'lesions' with volumetry.resect_lesions")


def _check_resection(data: dict[str, Any], c: _Collector) -> None:
    """``volumetry.planned_resection`` (+ ``resect_lesions``, ``margin_mm``) against the plans
    the imaging layer can carry out (:func:`livermet.imaging.resection.parse_resection`, the
    one definition of the names), and the case's lesions against the plan's segments."""
    vol = data.get("volumetry")
    if not isinstance(vol, Mapping):
        return
    name, ids, margin = vol.get("planned_resection"), vol.get("resect_lesions"), vol.get("margin_mm")
    has_name = isinstance(name, str) and bool(name.strip())
    has_margin = isinstance(margin, (int, float)) and not isinstance(margin, bool) and math.isfinite(margin)
    if not has_name and not has_margin:
        return
    try:  # the plan parser (no numpy), imported only for a case that plans a resection
        from livermet.imaging.errors import ImagingInputError
        from livermet.imaging.plans import (
            ALIASES,
            ANATOMIC_RESECTIONS,
            parse_resection,
        )
    except ImportError:  # pragma: no cover - the imaging layer is part of livermet
        return
    if has_margin:
        try:
            parse_resection(None, ["?"], float(margin))
        except ImagingInputError as exc:
            c.add("volumetry.margin_mm", f"{_fmt(margin)} mm is not a margin livermet can plan",
                  value=margin, expected=exc.expected, code="range")
    if not has_name:
        return
    assert isinstance(name, str)
    known = [*ANATOMIC_RESECTIONS, *ALIASES, "lesions"]
    segments: set[int] = set()
    ok, wants_lesions = True, False
    for part in [p.strip() for p in name.split("+") if p.strip()]:
        try:
            plan = parse_resection(part, ["?"])  # "?": a lesions part alone needs some id
        except ImagingInputError as exc:
            ok = False
            what = repr(name) if part.lower() == name.strip().lower() else f"{part!r} (in {name!r})"
            c.add("volumetry.planned_resection", f"{what} is not a resection livermet knows",
                  value=name, expected=exc.expected, code="vocabulary",
                  hint=_resection_hint(part, known))
            continue
        if plan is not None and plan.segments:
            segments |= set(plan.segments)
        else:
            wants_lesions = True
    id_list = [str(x).strip() for x in ids if isinstance(x, str) and x.strip()] \
        if isinstance(ids, list) else []
    if ok and wants_lesions and not id_list:
        c.add("volumetry.resect_lesions", f"planned_resection {name!r} removes lesions with a "
              "margin, but no lesion ids are given", value=ids,
              expected="the ids of the lesions to remove, e.g. [L1, L2]", code="missing",
              hint="list them in volumetry.resect_lesions (the ids of metastases.lesions)")
    if not ok:
        return
    removed = {i.upper() for i in id_list}
    lesions = _get(data, "metastases.lesions")
    if not isinstance(lesions, list):
        return
    listed = [les.get("id") for les in lesions if isinstance(les, Mapping) and isinstance(les.get("id"), str)]
    img = data.get("imaging")
    from_images = isinstance(img, Mapping) and bool(img.get("labels") or img.get("masks"))
    if listed and not from_images:  # with images, the ids come from the label map
        for j, lid in enumerate(ids if isinstance(ids, list) else []):
            if isinstance(lid, str) and lid.strip() and lid.strip().upper() not in {x.upper() for x in listed}:
                c.add(f"volumetry.resect_lesions[{j}]", f"lesion {lid!r} is not among the case's "
                      f"lesions ({', '.join(listed)})", severity=WARNING, value=lid,
                      expected="an id of metastases.lesions", code="consistency")
    if not segments:
        return
    plan_text = f"{name} ({_segments_text(segments)})"
    for i, les in enumerate(lesions):
        if not isinstance(les, Mapping) or not isinstance(les.get("id"), str):
            continue
        segs = les.get("segments")
        if not isinstance(segs, list) or not segs or les["id"].strip().upper() in removed or any(
                isinstance(s, bool) or not isinstance(s, int) or s not in COUINAUD_SEGMENTS for s in segs):
            continue
        outside = set(segs) - segments
        if not outside:
            continue
        fix = ("add it to volumetry.resect_lesions" if wants_lesions else
               f"e.g. planned_resection {name}+lesions with resect_lesions [{les['id']}]")
        if outside == set(segs):
            c.add(f"metastases.lesions[{i}].segments", f"lesion {les['id']} in "
                  f"{_segments_text(segs)} is outside {plan_text}: it stays in the remnant unless "
                  "resected or ablated separately", severity=WARNING, value=segs,
                  expected=f"segments removed by the plan ({_segment_numbers(segments)})",
                  code="consistency", hint=f"{fix}, or plan its ablation")
        else:
            c.add(f"metastases.lesions[{i}].segments", f"lesion {les['id']} in "
                  f"{_segments_text(segs)} extends outside {plan_text} into "
                  f"{_segments_text(outside)}: the plan clears it only if the resection is extended",
                  severity=WARNING, value=segs,
                  expected=f"segments removed by the plan ({_segment_numbers(segments)})",
                  code="consistency", hint=f"check the plan; {fix}")


# The case fields that name image files, as the imaging step reads them (a path relative to
# the case file's folder, a file or a folder: DICOM series, TotalSegmentator output).
IMAGE_PATH_FIELDS = ("ct", "labels", "landmarks", "portal_branches")


def _image_paths(img: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(case field path, path as written) for every image file the case names."""
    for key in IMAGE_PATH_FIELDS:
        if isinstance(img.get(key), str) and img[key].strip():
            yield f"imaging.{key}", img[key]
    masks = img.get("masks")
    if isinstance(masks, Mapping):
        for role, paths in masks.items():
            if isinstance(paths, str):
                yield f"imaging.masks.{role}", paths
            elif isinstance(paths, list):
                for i, p in enumerate(paths):
                    if isinstance(p, str):
                        yield f"imaging.masks.{role}[{i}]", p


def _check_imaging(data: dict[str, Any], c: _Collector, folder: Path | None) -> None:
    """Images the case names: are they used at all, do the label set and mask roles exist, and
    (when the case file's folder is known) do the files exist."""
    img = data.get("imaging")
    if not isinstance(img, Mapping):
        return
    from livermet.imaging.labelsets import (  # light: no numpy
        BUILTIN,
        ROLE_CODE,
        normalise_role,
    )

    maps = bool(img.get("labels")) or bool(img.get("masks"))
    named = [f"imaging.{k}" for k in ("ct", "landmarks", "portal_branches", "labelset") if img.get(k)]
    if named and not maps:
        typo = [k for k in img if isinstance(k, str) and k not in ("labels", "masks") and
                difflib.get_close_matches(k, ["labels", "masks"], n=1, cutoff=0.75)]
        c.add("imaging", f"{', '.join(named)} given without a label map (imaging.labels) or masks "
              "(imaging.masks): livermet measures volumes on label maps, so the images are not used",
              severity=WARNING, value=None, code="missing",
              expected="imaging.labels (with imaging.labelset) or imaging.masks {liver: PATH, tumour: PATH}",
              hint=(f"imaging.{typo[0]} is not read: did you mean imaging."
                    f"{difflib.get_close_matches(typo[0], ['labels', 'masks'], n=1, cutoff=0.75)[0]}?"
                    if typo else "`livermet segment CT OUT_DIR` writes label maps from the CT"))
    labelset = img.get("labelset")
    if isinstance(labelset, str) and labelset.strip() and labelset not in BUILTIN:
        builtin = sorted(BUILTIN)
        if labelset.strip().lower() in BUILTIN:
            c.add("imaging.labelset", f"{labelset!r}: built-in label sets are written in lower case",
                  value=labelset, expected="one of " + ", ".join(builtin) + ", or a JSON mapping file",
                  code="vocabulary", hint=f"write {labelset.strip().lower()!r}")
        elif not labelset.strip().lower().endswith(".json"):
            close = difflib.get_close_matches(labelset.strip().lower(), builtin, n=1, cutoff=0.6)
            c.add("imaging.labelset", f"{labelset!r} is not a label set livermet knows",
                  value=labelset, code="vocabulary",
                  expected="one of " + ", ".join(builtin) + ", or a JSON file mapping label "
                  "values to roles", hint=f"did you mean {close[0]!r}?" if close else None)
        elif folder is not None:
            _check_path(c, "imaging.labelset", labelset, folder)
    masks = img.get("masks")
    if isinstance(masks, Mapping):
        roles = list(ROLE_CODE)
        for role in masks:
            if role in ROLE_CODE:
                continue
            canon = normalise_role(str(role))
            close = difflib.get_close_matches(str(role).lower(), roles, n=1, cutoff=0.6)
            c.add(f"imaging.masks.{role}", f"{role!r} is not a mask role livermet knows",
                  value=role, expected="one of " + ", ".join(roles), code="vocabulary",
                  hint=f"write {canon!r}" if canon else f"did you mean {close[0]!r}?" if close else None)
    if folder is not None:
        for path, value in _image_paths(img):
            _check_path(c, path, value, folder)


def _check_path(c: _Collector, path: str, value: str, folder: Path) -> None:
    p = Path(value).expanduser()
    full = p if p.is_absolute() else folder / p
    if not full.exists():
        where = "" if p.is_absolute() else f" (read from the case file's folder: {full})"
        c.add(path, f"file not found: {value}{where}", value=value, code="file",
              expected="an existing file or folder, absolute or relative to the case file")


def _check_unknown_fields(node: Any, model: Any, path: str, c: _Collector) -> None:
    if not isinstance(node, Mapping) or model is None:
        return
    fields = model.model_fields
    names = list(fields)
    for key, value in node.items():
        sub = f"{path}.{key}" if path else str(key)
        if key not in fields:
            if key in names or sub in c.split_keys:
                continue
            close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.75)
            c.add(sub, f"unknown field {key!r}: kept, but livermet does not use it",
                  severity=WARNING, value=value if not isinstance(value, (dict, list)) else None,
                  expected="fields: " + ", ".join(names), code="unknown_field",
                  hint=f"did you mean {close[0]!r}?" if close else None)
            continue
        annotation = fields[key].annotation
        sub_model = _model_of(annotation)
        if sub_model is None or sub_model.__name__ == "LabValue":
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                _check_unknown_fields(item, sub_model, f"{sub}[{i}]", c)
        else:
            _check_unknown_fields(value, sub_model, sub, c)


_SECTION_ORDER = {name: i for i, name in enumerate(Case.model_fields)}


def _sort_key(p: Problem) -> tuple[int, int]:
    top = p.path.split(".", 1)[0].split("[", 1)[0]
    return (0 if p.is_error else 1, _SECTION_ORDER.get(top, -1))


def validate_case(data: Any, *, base_dir: str | Path | None = None,
                  check_files: bool = True) -> ValidationReport:
    """Check a raw case mapping; report every problem and, if there is no error, the case.

    Parameters
    ----------
    data
        The case as parsed from JSON/YAML (:func:`livermet.case.io.read_case_data`). It is
        not modified.
    base_dir
        The case file's folder, against which relative image paths in ``imaging`` are read.
        Default: the folder of the file ``data`` was read from (``read_case_data(path)``
        records it), else unknown.
    check_files
        When the folder is known, every file or folder ``imaging`` names must exist (an error
        per missing one). ``livermet assess --no-imaging`` does not read them: False.

    Returns
    -------
    ValidationReport
        ``report.ok`` is True when there is no error; ``report.case`` is then the
        normalised :class:`Case` (labs in canonical units as floats).
    """
    c = _Collector()
    if not isinstance(data, Mapping):
        c.add("", f"the case must be an object (mapping), got {type(data).__name__}",
              value=None, expected="an object {...}", code="type")
        return ValidationReport(tuple(c.problems))
    work = copy.deepcopy(dict(data))
    _check_nonfinite(work, "", c)
    _check_split_decimals(work, "", c)
    _normalise_labs(work, c)
    case = _pydantic_problems(work, c)
    _check_ranges(work, c)
    _check_lesions(work, c)
    _check_dates(work, c)
    _check_consistency(work, c)
    _check_resection(work, c)
    folder = Path(base_dir) if base_dir is not None else getattr(data, "folder", None)
    _check_imaging(work, c, folder if check_files else None)
    _check_unknown_fields(work, Case, "", c)
    problems = sorted(c.problems, key=_sort_key)
    ok = not any(p.is_error for p in problems)
    return ValidationReport(
        problems=tuple(problems),
        case=case if ok else None,
        conversions=tuple(c.conversions),
    )
