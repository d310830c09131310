"""The MDT itself: the review's minimum team, and who was missing when a decision was made."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from livermet.decision.findings import Finding
from livermet.decision.knowledge import sources as S
from livermet.decision.knowledge import workup as K

MINIMUM_TEAM: tuple[str, ...] = tuple(role for role, _ in K.MDT_MINIMUM)
_TITLES = dict(K.MDT_MINIMUM)


def normalise_role(role: str) -> str:
    """'HPB surgeon' -> 'hepatobiliary_surgeon'; unknown roles come back normalised as given."""
    key = str(role).strip().lower().replace("-", "_").replace(" ", "_")
    if key in _TITLES:
        return key
    for canon, alts in K.MDT_SYNONYMS.items():
        if key in alts:
            return canon
    return key


def missing_members(attendees: Iterable[Mapping[str, Any]]) -> list[str]:
    """Roles of the minimum team that no attendee fills (in the review's order)."""
    present = {normalise_role(a.get("role", "")) for a in attendees if a.get("role")}
    return [r for r in MINIMUM_TEAM if r not in present]


def mdt_team(case: Any) -> Finding:
    title = "MDT composition (review minimum team)"
    mdt = getattr(case, "mdt", None)
    attendees = list(mdt.attendees) if mdt is not None else []
    required = [_TITLES[r] for r in MINIMUM_TEAM]
    if not attendees:
        return Finding("mdt", "not_recorded", title,
                       ("No attendees recorded; minimum team: " + ", ".join(required),),
                       (S.R_CONCLUSIONS,), details={"minimum_team": list(MINIMUM_TEAM),
                                                    "missing": list(MINIMUM_TEAM)})
    missing = missing_members(attendees)
    unknown_roles = sorted({normalise_role(a.get("role", "")) for a in attendees}
                           - set(MINIMUM_TEAM))
    if missing:
        reasons = ["Missing from the minimum team: " + ", ".join(_TITLES[r] for r in missing)]
        status = "incomplete"
    else:
        reasons = ["All roles of the review's minimum team were present"]
        status = "complete"
    if unknown_roles:
        reasons.append("Other roles present: " + ", ".join(r for r in unknown_roles if r))
    return Finding("mdt", status, title, tuple(reasons), (S.R_CONCLUSIONS,),
                   details={"minimum_team": list(MINIMUM_TEAM), "missing": missing,
                            "attendees": [dict(a) for a in attendees]})
