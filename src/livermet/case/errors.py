"""Errors raised when a case cannot be read or is not valid.

All derive from :class:`CaseError` (a ``ValueError``), so a caller (the CLI, the web service)
can catch one type at its boundary and show the message; none carries a traceback to the user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from livermet.case.validate import ValidationReport


class CaseError(ValueError):
    """A case that cannot be used; the message says what is wrong and how to fix it."""

    hint: str | None = None


class CaseFileError(CaseError):
    """The case file does not exist or cannot be read."""

    def __init__(self, path: str, reason: str, hint: str | None = None):
        self.path = path
        self.reason = reason
        self.hint = hint
        super().__init__(f"{path}: {reason}")


class CaseParseError(CaseError):
    """The document is not valid JSON or YAML; ``line`` and ``column`` are 1-based."""

    def __init__(
        self,
        message: str,
        *,
        source: str = "<text>",
        fmt: str = "json",
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ):
        self.source, self.fmt, self.line, self.column = source, fmt, line, column
        self.problem = message
        self.hint = hint
        where = source
        if line is not None:
            where += f", line {line}"
            if column is not None:
                where += f", column {column}"
        super().__init__(f"{where}: invalid {fmt.upper()}: {message}")


class CaseValidationError(CaseError):
    """The case was read but has errors; ``report`` lists every problem."""

    def __init__(self, report: "ValidationReport"):
        self.report = report
        errors = report.errors
        first = "; ".join(f"{p.path or '(case)'}: {p.message}" for p in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        super().__init__(f"the case has {len(errors)} error(s): {first}{more}")
