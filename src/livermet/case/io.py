"""Read a case document: JSON or YAML, from a file, a string or an already parsed mapping.

Reading only parses; :func:`livermet.case.validate.validate_case` checks the content.
:func:`load_case` does both and returns the normalised :class:`~livermet.case.model.Case`.
A broken document raises :class:`~livermet.case.errors.CaseParseError` with the line and
column of the fault. YAML scalars follow the YAML 1.2 core schema (``no`` is text, ``0012``
stays ``"0012"``; see ``_YAML12_RESOLVERS``), not PyYAML's YAML 1.1 defaults.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from livermet.case.errors import CaseError, CaseFileError, CaseParseError

if TYPE_CHECKING:  # pragma: no cover
    from livermet.case.model import Case

__all__ = ["CaseDocument", "load_case", "parse_case_text", "read_case_data", "read_case_file"]

_YAML_SUFFIXES = {".yaml", ".yml"}
_JSON_SUFFIXES = {".json"}


def _plain(obj: Any) -> Any:
    """YAML turns ``2026-11-27`` into a date; the case model keeps dates as ISO strings."""
    if isinstance(obj, dict):
        return {str(k) if not isinstance(k, str) else k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    if isinstance(obj, (_dt.date, _dt.datetime)):
        return obj.isoformat()
    return obj


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        self.key = key
        super().__init__(key)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON allows a key twice and Python keeps the last one silently: for a case that would
    # hide a value (two "albumin" entries). Refuse instead.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _line_of_second(text: str, key: str) -> tuple[int | None, int | None]:
    needle = json.dumps(key)
    first = text.find(needle)
    second = text.find(needle, first + 1) if first >= 0 else -1
    if second < 0 or text.count(needle) != 2:  # ambiguous: the key is used in other objects
        return None, None
    line = text.count("\n", 0, second) + 1
    column = second - (text.rfind("\n", 0, second) + 1) + 1
    return line, column


def _parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        line, column = _line_of_second(text, exc.key)
        raise CaseParseError(
            f"key {exc.key!r} appears twice in the same object", source=source, fmt="json",
            line=line, column=column, hint="keep one of them: livermet will not guess which",
        ) from None
    except json.JSONDecodeError as exc:
        hint = None
        if "Expecting property name enclosed in double quotes" in exc.msg:
            hint = "JSON needs double-quoted keys and no trailing comma before } or ]"
        elif "Expecting ',' delimiter" in exc.msg:
            hint = "a comma is missing between two items (or a bracket is not closed)"
        raise CaseParseError(
            exc.msg, source=source, fmt="json", line=exc.lineno, column=exc.colno, hint=hint
        ) from None


# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution) for plain scalars.
# PyYAML resolves YAML 1.1: `ascites: no` became False, `cirrhosis: yes` True, `id: 0012` the
# octal 10, `1:30` the number 90, `2026-11-27` a date. Here only true/false are booleans and
# only null/~/empty is null; a number written with a leading zero (`0012`, `061`) stays text:
# YAML 1.1 reads it as octal and YAML 1.2 as decimal, so the writer's intent is unknown, and
# text loses nothing (an id or MRN keeps its zeros; a numeric field reports it with a hint).
_YAML12_RESOLVERS = (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?(?:0|[1-9][0-9]*)|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    ("tag:yaml.org,2002:float",
     (r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+"
      r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), "-+.0123456789"),
    ("tag:yaml.org,2002:merge", r"^<<$", "<"),
)


def _yaml12_int(loader: Any, node: Any) -> int:
    # the resolver admits only decimal without leading zeros, 0o.. and 0x..: int(x, 0) reads all
    return int(loader.construct_scalar(node), 0)


def _parse_yaml(text: str, source: str) -> Any:
    import re

    import yaml

    class Loader(yaml.SafeLoader):
        yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {}  # none of YAML 1.1's

    for tag, pattern, first in _YAML12_RESOLVERS:
        Loader.add_implicit_resolver(tag, re.compile(pattern), list(first) + ([""] if tag.endswith("null") else []))
    Loader.add_constructor("tag:yaml.org,2002:int", _yaml12_int)

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor`: merged (and overridden) by construct_mapping
            key = loader.construct_object(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in the same mapping "
                    "(keep one of them: livermet will not guess which)", key_node.start_mark)
            seen.add(key)
        return loader.construct_mapping(node)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(x) for x in (exc.context, exc.problem) if x) or str(exc)
        raise CaseParseError(
            message,
            source=source,
            fmt="yaml",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            hint=None if "appears twice" in message else
            "YAML is indentation-sensitive: check the indentation and the ':' after each key",
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - errors without a position
        raise CaseParseError(str(exc), source=source, fmt="yaml") from None


def _top_level(data: Any, source: str, fmt: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        kind = "empty document" if data is None else f"a {type(data).__name__}"
        raise CaseParseError(
            f"the case must be an object (a mapping of fields) at the top level, got {kind}",
            source=source,
            fmt=fmt,
            hint='start from `livermet schema` or the demo case: {"id": "...", "patient": {...}, ...}',
        )
    return _plain(data)


def parse_case_text(text: str, fmt: str | None = None, *, source: str = "<text>") -> dict[str, Any]:
    """Parse a case document held in a string.

    Parameters
    ----------
    text
        The JSON or YAML document.
    fmt
        ``"json"`` or ``"yaml"``; None guesses: a document whose first character is ``{`` is
        JSON (so that JSON errors get JSON messages), anything else YAML.
    source
        Name used in error messages (a file name).
    """
    if fmt is None:
        fmt = "json" if text.lstrip().startswith("{") else "yaml"
    fmt = fmt.lower()
    if fmt not in ("json", "yaml"):
        raise CaseError(f"unknown case format {fmt!r}: expected json or yaml")
    data = _parse_json(text, source) if fmt == "json" else _parse_yaml(text, source)
    return _top_level(data, source, fmt)


class CaseDocument(dict):  # type: ignore[type-arg]
    """A case mapping read from a file. ``folder`` is that file's folder: relative image paths
    in ``imaging`` are read from there, and :func:`~livermet.case.validate.validate_case`
    checks that they exist. A plain dict in every other respect."""

    folder: Path | None = None


def read_case_file(path: str | Path) -> dict[str, Any]:
    """Parse a case file; the suffix (.json, .yaml, .yml) chooses the parser.

    The mapping returned remembers the file's folder (:class:`CaseDocument`).
    """
    p = Path(path)
    if not p.exists():
        raise CaseFileError(str(p), "file not found", hint="check the path (relative to the current directory)")
    if p.is_dir():
        raise CaseFileError(str(p), "is a directory, not a case file")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CaseFileError(str(p), "is not UTF-8 text", hint="save the case as UTF-8 JSON or YAML") from None
    except OSError as exc:
        raise CaseFileError(str(p), exc.strerror or str(exc)) from None
    if not text.strip():
        raise CaseFileError(str(p), "is empty",
                            hint="a case is a JSON or YAML document: start from `livermet schema` or the demo case")
    suffix = p.suffix.lower()
    fmt = "yaml" if suffix in _YAML_SUFFIXES else "json" if suffix in _JSON_SUFFIXES else None
    doc = CaseDocument(parse_case_text(text, fmt, source=str(p)))
    doc.folder = p.resolve().parent
    return doc


def read_case_data(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """The raw case mapping from a path, a JSON/YAML string or a mapping (copied).

    A string that contains a newline or starts with ``{`` is a document; any other string
    is a path.
    """
    if isinstance(source, Mapping):
        data = _plain(copy.deepcopy(dict(source)))
        if getattr(source, "folder", None) is not None:  # a CaseDocument keeps its folder
            data = CaseDocument(data)
            data.folder = source.folder  # type: ignore[attr-defined]
        return data
    if isinstance(source, Path):
        return read_case_file(source)
    if isinstance(source, str):
        stripped = source.lstrip()
        if "\n" in source or stripped.startswith("{"):
            return parse_case_text(source)
        return read_case_file(source)
    raise CaseError(f"cannot read a case from a {type(source).__name__}: give a path, a string or a mapping")


def load_case(source: "str | Path | Mapping[str, Any] | Case", *,
              base_dir: str | Path | None = None, check_files: bool = True) -> "Case":
    """Read and validate a case; return it normalised (labs as canonical floats).

    Image files named in ``imaging`` must exist, relative to ``base_dir`` (default: the case
    file's folder when ``source`` is a path; not checked when the folder is unknown or
    ``check_files`` is False, for a use that never reads the images).

    Raises
    ------
    CaseFileError, CaseParseError
        The document cannot be read.
    CaseValidationError
        The document has errors; ``exc.report`` lists them all (warnings do not raise).
    """
    from livermet.case.errors import CaseValidationError
    from livermet.case.model import Case
    from livermet.case.validate import validate_case

    if isinstance(source, Case):
        data: Any = source.model_dump(mode="json", exclude_unset=False)
    else:
        data = read_case_data(source)
    report = validate_case(data, base_dir=base_dir, check_files=check_files)
    if not report.ok:
        raise CaseValidationError(report)
    return report.case  # type: ignore[return-value]  # ok implies a case
