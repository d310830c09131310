"""The case editor's form, derived from the case model (``livermet.case.model``): every
field of the model becomes an input of the right kind, so fields added to the model appear
in the editor without a change here. Presentation only."""

from __future__ import annotations

import copy
import json
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from pydantic import BaseModel

SKIP_TOP = {"imaging", "mdt"}  # edited on the imaging and meeting pages
LESION_COLUMNS = ("id", "segments", "diameter_mm", "near_major_vessel", "target")


@dataclass
class FormField:
    path: str
    label: str
    kind: str  # text | number | integer | select | bool | lab | csv | json | date
    choices: tuple = ()
    description: str = ""


@dataclass
class Section:
    key: str
    title: str
    fields: list[FormField] = field(default_factory=list)


def _unwrap(tp):
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
        return tp
    return tp


def _is_lab(tp) -> bool:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        names = {getattr(a, "__name__", "") for a in typing.get_args(tp)}
        return "LabValue" in names
    return False


def _kind(tp, name: str) -> tuple[str, tuple]:
    if _is_lab(tp):
        return "lab", ()
    t = _unwrap(tp)
    origin = typing.get_origin(t)
    if origin is Literal:
        return "select", typing.get_args(t)
    if t is bool:
        return "bool", ()
    if t is int:
        return "integer", ()
    if t is float:
        return "number", ()
    if t is str:
        return ("date", ()) if name.endswith("date") else ("text", ())
    if origin is list and typing.get_args(t) and typing.get_args(t)[0] in (str, int, float):
        return "csv", ()
    return "json", ()


def _label(name: str) -> str:
    text = name.replace("_", " ")
    for unit in ("cm", "kg", "mm", "ml", "percent", "months", "weeks"):
        text = re.sub(rf"\b{unit}$", f"({'%' if unit == 'percent' else unit})", text)
    return text[:1].upper() + text[1:]


_SECTIONS: dict = {}


def build_sections(model=None) -> list[Section]:
    """The editor's sections and fields for ``model`` (default: the case model). Derived
    from the model's classes, which do not change while the server runs: built once per
    model and shared, so callers must not change them (none does: they are read only)."""
    if model is None:
        from livermet.case.model import Case as model
    sections = _SECTIONS.get(model)
    if sections is None:
        sections = _SECTIONS[model] = _build_sections(model)
    return sections


def _build_sections(model) -> list[Section]:
    sections: list[Section] = [Section("case", "Case")]
    for name, info in model.model_fields.items():
        if name in SKIP_TOP:
            continue
        t = _unwrap(info.annotation)
        if isinstance(t, type) and issubclass(t, BaseModel):
            sec = Section(name, _label(name))
            _walk(t, name, sec)
            sections.append(sec)
        else:
            kind, choices = _kind(info.annotation, name)
            sections[0].fields.append(FormField(name, _label(name), kind, choices, info.description or ""))
    return sections


def _walk(model, prefix: str, sec: Section) -> None:
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}"
        if path == "metastases.lesions":
            sec.fields.append(FormField(path, "Lesions", "lesions"))
            continue
        t = _unwrap(info.annotation)
        if isinstance(t, type) and issubclass(t, BaseModel) and not _is_lab(info.annotation):
            _walk(t, path, sec)
            continue
        kind, choices = _kind(info.annotation, name)
        label = _label(name) if prefix.count(".") == 0 else f"{_label(prefix.rsplit('.', 1)[-1])}: {name.replace('_', ' ')}"
        sec.fields.append(FormField(path, label, kind, choices, info.description or ""))


def get_path(data: dict, path: str):
    cur: Any = data
    for part in path.split("."):
        if isinstance(cur, dict):
            cur = cur.get(part)
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return None
    return cur


def set_path(data: dict, path: str, value) -> None:
    parts = path.split(".")
    cur = data
    for part in parts[:-1]:
        nxt = cur.get(part)
        if not isinstance(nxt, dict):
            if value is None:
                return
            nxt = {}
            cur[part] = nxt
        cur = nxt
    cur[parts[-1]] = value


def display_value(data: dict, f: FormField) -> dict:
    """What the input shows: {'value': str, 'unit': str}."""
    v = get_path(data, f.path)
    if f.kind == "lab":
        if isinstance(v, dict):
            return {"value": _s(v.get("value")), "unit": _s(v.get("unit"))}
        return {"value": _s(v), "unit": ""}
    if f.kind == "bool":
        return {"value": "" if v is None else ("true" if v is True else "false" if v is False else _s(v))}
    if f.kind == "csv":
        return {"value": ", ".join(_s(x) for x in v) if isinstance(v, list) else _s(v)}
    if f.kind == "json":
        return {"value": "" if v in (None, {}, []) else json.dumps(v, ensure_ascii=False)}
    return {"value": _s(v)}


def _s(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _num(text: str, integer: bool):
    t = text.strip().replace(",", ".")
    if t == "":
        return None
    try:
        x = float(t)
    except ValueError:
        return text.strip()  # kept as typed: validation names the field and the value
    if integer and x.is_integer():
        return int(x)
    return x


def apply_form(original: dict, form: dict[str, str], sections: list[Section]) -> dict:
    """A new case dict: the original with the form's values (unknown keys are kept)."""
    data = copy.deepcopy(original)
    for sec in sections:
        for f in sec.fields:
            if f.kind == "lesions":
                _apply_lesions(data, form)
                continue
            if f.path not in form:
                continue
            raw = str(form.get(f.path, ""))
            if f.kind == "lab":
                val = _num(raw, False)
                unit = str(form.get(f.path + "__unit", "")).strip()
                value = {"value": val, "unit": unit} if unit and val is not None else val
            elif f.kind in ("number",):
                value = _num(raw, False)
            elif f.kind == "integer":
                value = _num(raw, True)
            elif f.kind == "bool":
                value = {"true": True, "false": False}.get(raw.strip().lower(), None if not raw.strip() else raw)
            elif f.kind == "csv":
                items = [x.strip() for x in raw.split(",") if x.strip()]
                value = [_num(x, True) if re.fullmatch(r"-?\d+", x) else x for x in items]
            elif f.kind == "json":
                if not raw.strip():
                    value = None
                else:
                    try:
                        value = json.loads(raw)
                    except json.JSONDecodeError:
                        value = raw
            else:
                value = raw.strip() or None
            set_path(data, f.path, value)
    return data


def _apply_lesions(data: dict, form: dict[str, str]) -> None:
    ids = sorted({int(m.group(1)) for k in form if (m := re.fullmatch(r"lesion-(\d+)-id", k))})
    old = {l.get("id"): l for l in ((data.get("metastases") or {}).get("lesions") or []) if isinstance(l, dict)}
    lesions = []
    for n in ids:
        lid = str(form.get(f"lesion-{n}-id", "")).strip()
        if not lid:
            continue
        les = copy.deepcopy(old.get(lid, {}))
        les["id"] = lid
        seg = str(form.get(f"lesion-{n}-segments", ""))
        les["segments"] = [_num(x, True) for x in re.split(r"[,\s]+", seg) if x.strip()]
        les["diameter_mm"] = _num(str(form.get(f"lesion-{n}-diameter_mm", "")), False)
        for b in ("near_major_vessel", "target"):
            raw = str(form.get(f"lesion-{n}-{b}", "")).strip().lower()
            les[b] = {"true": True, "false": False}.get(raw)
        lesions.append(les)
    data.setdefault("metastases", {})
    if not isinstance(data["metastases"], dict):
        data["metastases"] = {}
    data["metastases"]["lesions"] = lesions


def problems_by_path(problems: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for p in problems:
        path = re.sub(r"\[(\d+)\]", r".\1", str(p.get("path") or "")).lstrip("$.").strip(".")
        out.setdefault(path, []).append(p)
    return out


def field_problems(by_path: dict[str, list[dict]], path: str) -> list[dict]:
    """Problems for this field (a lab's sub-paths such as labs.albumin.unit included)."""
    res = list(by_path.get(path, []))
    for k, v in by_path.items():
        if k.startswith(path + ".") and not k[len(path) + 1:].split(".")[0].isdigit():
            res.extend(v)
    return res


def unplaced_problems(by_path: dict[str, list[dict]], sections: list[Section]) -> list[dict]:
    known = [f.path for s in sections for f in s.fields]
    out = []
    for k, v in by_path.items():
        if any(k == p or k.startswith(p + ".") for p in known):
            continue
        out.extend(v)
    return out
