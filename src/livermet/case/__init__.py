"""livermet.case: the case document, reading it and checking it.

>>> from livermet.case import load_case
>>> case = load_case("case.json")          # doctest: +SKIP

Public API: :class:`Case` (the model), :func:`load_case` (read + validate -> normalised Case),
:func:`read_case_data` (parse only), :func:`validate_case` (-> :class:`ValidationReport` of
every :class:`Problem`), and the errors :class:`CaseError` (base), :class:`CaseFileError`,
:class:`CaseParseError`, :class:`CaseValidationError`.
"""

from livermet.case.errors import CaseError, CaseFileError, CaseParseError, CaseValidationError
from livermet.case.io import load_case, parse_case_text, read_case_data, read_case_file
from livermet.case.model import Case
from livermet.case.validate import Problem, ValidationReport, validate_case

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
