"""Results as plain JSON data: the one conversion every front end uses.

Calculator results, decision reports, assessments and imaging results all end as JSON (CLI
``--json``, the web API, the report, FHIR). This walks them once: objects with ``to_dict()``
(livermet's frozen results) or ``model_dump()`` (pydantic), mappings, sequences, numpy
values and dataclasses become dicts, lists and scalars. Non-finite floats become ``None``
(JSON has no NaN); anything else unknown becomes its string.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

_SCALARS = (str, int, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)  # exact types returned as they are


def to_plain(obj: Any) -> Any:
    """``obj`` as JSON-ready Python: dicts with string keys, lists, numbers, strings, None."""
    # Exact-type fast paths first: an assessment is a large tree of plain values. A container's
    # scalar items are taken without a call (the same as the call would return).
    t = type(obj)
    if t in _SCALAR_TYPES:
        return obj
    if t is float:
        return obj if obj - obj == 0 else None  # NaN and +-inf -> None
    if t is dict:
        return {k if type(k) is str else str(k): v if type(v) in _SCALAR_TYPES else to_plain(v)
                for k, v in obj.items()}
    if t is list or t is tuple:
        return [v if type(v) in _SCALAR_TYPES else to_plain(v) for v in obj]
    if isinstance(obj, (str, int)):  # str/int subclasses (enums)
        return obj.value if hasattr(obj, "value") and isinstance(obj.value, (str, int)) else obj
    if isinstance(obj, float):
        return float(obj) if obj - obj == 0 else None
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return to_plain(to_dict())
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump):
        return to_plain(model_dump(mode="json"))
    if isinstance(obj, Mapping):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return [to_plain(v) for v in sorted(obj, key=str)]
    if isinstance(obj, (_dt.date, _dt.datetime)):
        return obj.isoformat()
    if isinstance(obj, PurePath):
        return str(obj)
    if type(obj).__module__ == "numpy":  # numpy scalars and arrays, without importing numpy
        return to_plain(obj.tolist())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_plain(dataclasses.asdict(obj))
    return str(obj)
