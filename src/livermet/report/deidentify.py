"""De-identification for reports and exports (``--deidentify``).

What is removed or changed, per case:

- names (patient, MDT attendees), birth dates, hospital identifiers (``mrn``) and file paths
  of images are dropped;
- the case ``id`` is replaced by a pseudonym, ``"anon-"`` + the first 12 hex digits of an
  HMAC-SHA256 of the id (the key is ``LIVERMET_PSEUDONYM_KEY`` when set, so a pseudonym cannot be
  reversed by hashing guessed ids; without it a fixed public salt is used);
- every ISO date (``YYYY-MM-DD``, alone or inside a text such as a reason "Latest (2026-02-20):
  PR") is shifted by a per-case offset of 1-365 days into the past, derived from the same hash,
  so intervals within a case are kept and the same case always gets the same offset (dates in
  other formats are not recognised: keep case data in ISO form);
- ages of 90 and above are reported as 90 (HIPAA Safe Harbor, 45 CFR 164.514(b)(2)(i)(C)).

Finally any remaining occurrence of an identifier string (name, MRN, id, birth date) anywhere in
the case or the assessment is replaced, and so is each part of a name (4 letters or more) as a
whole word, so free-text notes cannot leak them.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import hmac
import os
import re
from typing import Any

PUBLIC_SALT = b"livermet-pseudonym-v1"
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_DATE_ANYWHERE = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d])")
# Ages above 89 are aggregated (HIPAA Safe Harbor).
MAX_REPORTED_AGE = 90


def _key() -> bytes:
    env = os.environ.get("LIVERMET_PSEUDONYM_KEY")
    return env.encode() if env else PUBLIC_SALT


def _digest(case_id: str) -> str:
    return hmac.new(_key(), str(case_id).encode(), hashlib.sha256).hexdigest()


def pseudonym(case_id: str) -> str:
    """Stable pseudonym for a case id: ``anon-`` + 12 hex digits."""
    return "anon-" + _digest(case_id)[:12]


def date_offset_days(case_id: str) -> int:
    """Per-case date shift in days (negative: 1 to 365 days into the past)."""
    return -(int(_digest(case_id)[12:20], 16) % 365 + 1)


def shift_date(value: str, days: int) -> str:
    m = _DATE.match(value)
    if not m:
        return value
    try:
        d = _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return value
    return (d + _dt.timedelta(days=days)).isoformat() + value[10:]


def identifiers(case: dict[str, Any]) -> list[str]:
    """The identifying strings of a case (to drop and to check for leaks)."""
    out: list[str] = []
    patient = case.get("patient") or {}
    for key in ("name", "mrn", "birth_date"):
        if patient.get(key):
            out.append(str(patient[key]))
    if case.get("id"):
        out.append(str(case["id"]))
    for a in ((case.get("mdt") or {}).get("attendees") or []):
        if isinstance(a, dict) and a.get("name"):
            out.append(str(a["name"]))
    return [s for s in out if len(s) >= 3]


def _name_parts(case: dict[str, Any]) -> list[str]:
    """Given and family names alone (4+ letters), replaced as whole words."""
    names = [str((case.get("patient") or {}).get("name") or "")]
    names += [str(a.get("name")) for a in ((case.get("mdt") or {}).get("attendees") or [])
              if isinstance(a, dict) and a.get("name")]
    parts = {p.strip(".,") for n in names for p in re.split(r"[\s,^]+", n)}
    return sorted((p for p in parts if len(p) >= 4 and p[0].isalpha()), key=len, reverse=True)


def _walk(obj: Any, days: int, replace: list[tuple[str, str]], key: str = "",
          words: re.Pattern | None = None) -> Any:
    if isinstance(obj, dict):
        return {k: _walk(v, days, replace, str(k), words) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_walk(v, days, replace, key, words) for v in obj]
    if isinstance(obj, str):
        text = _DATE_ANYWHERE.sub(lambda m: shift_date(m.group(0), days), obj)
        for old, new in replace:
            if old in text:
                text = text.replace(old, new)
        if words is not None:
            text = words.sub("[removed]", text)
        return text
    return obj


def deidentify(case: dict[str, Any], assessment: dict[str, Any] | None = None
               ) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
    """Return (case, assessment, info) with identifiers removed and dates shifted.

    ``info`` holds the pseudonym and the offset (days) so that the report can say what was
    done (never the original identifiers).
    """
    case = copy.deepcopy(case)
    original_id = str(case.get("id") or "")
    pid = pseudonym(original_id)
    days = date_offset_days(original_id)
    secrets = identifiers(case)
    replace = [(s, pid if s == original_id else "[removed]") for s in
               sorted(secrets, key=len, reverse=True)]
    parts = _name_parts(case)
    words = re.compile(r"\b(?:" + "|".join(map(re.escape, parts)) + r")\b") if parts else None

    patient = case.get("patient") or {}
    for key in ("name", "birth_date", "mrn"):
        patient.pop(key, None)
    if isinstance(patient.get("age"), (int, float)) and patient["age"] >= MAX_REPORTED_AGE:
        patient["age"] = MAX_REPORTED_AGE
    if case.get("mdt"):
        for a in case["mdt"].get("attendees") or []:
            if isinstance(a, dict):
                a.pop("name", None)
    imaging = case.get("imaging")
    if isinstance(imaging, dict):
        # file paths often carry names or MRNs; the report keeps only what was done
        for key in ("ct", "labels", "landmarks"):
            if imaging.get(key):
                imaging[key] = "[path removed]"
        if imaging.get("masks"):
            imaging["masks"] = {k: "[path removed]" for k in imaging["masks"]}
    case["id"] = pid
    case = _walk(case, days, replace, words=words)
    if assessment is not None:
        assessment = _walk(copy.deepcopy(assessment), days, replace, words=words)
        if "case_id" in assessment:
            assessment["case_id"] = pid
    info = {"pseudonym": pid, "date_shift_days": days}
    return case, assessment, info
