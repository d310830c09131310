"""livermet.case: the case document, reading it and checking it.

>>> from livermet.case import load_case
>>> case = load_case("case.json")          # doctest: +SKIP

Public API: :class:`Case` (the model), :func:`load_case` (read + validate -> normalised Case),
:func:`read_case_data` (parse only), :func:`validate_case` (-> :class:`ValidationReport` of
every :class:`Problem`), and the errors :class:`CaseError` (base), :class:`CaseFileError`,
:class:`CaseParseError`, :class:`CaseValidationError`.
"""

from typing import TYPE_CHECKING

from livermet.case.errors import CaseError, CaseFileError, CaseParseError, CaseValidationError

if TYPE_CHECKING:
    from livermet.case.io import load_case, parse_case_text, read_case_data, read_case_file
    from livermet.case.model import Case
    from livermet.case.validate import Problem, ValidationReport, validate_case

# The model, reader and validator load pydantic models (~0.1 s): they are imported when first
# used (PEP 562), so that light modules of this package (``livermet.case.ranges``) stay light.
_LAZY = {
    "load_case": "livermet.case.io",
    "parse_case_text": "livermet.case.io",
    "read_case_data": "livermet.case.io",
    "read_case_file": "livermet.case.io",
    "Case": "livermet.case.model",
    "Problem": "livermet.case.validate",
    "ValidationReport": "livermet.case.validate",
    "validate_case": "livermet.case.validate",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'livermet.case' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

__all__ = [
    "Case",
    "CaseError",
    "CaseFileError",
    "CaseParseError",
    "CaseValidationError",
    "Problem",
    "ValidationReport",
    "load_case",
    "parse_case_text",
    "read_case_data",
    "read_case_file",
    "validate_case",
]
