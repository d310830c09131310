"""Structured findings the rules return: reasons, missing inputs, option assessments, the report.

All frozen. ``to_dict()`` gives the JSON that ``livermet assess --json`` merges into the
assessment; the CLI, the report and the web app render these, never the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Mapping

from livermet.calculators.base import Source
from livermet.plain import to_plain
from livermet.decision.knowledge.sources import REVIEW, label, source_dict

Status = Literal["recommended", "consider", "not_suitable"]
STATUSES: tuple[str, ...] = ("recommended", "consider", "not_suitable")

# What a reason does to the option:
#   supports  - a criterion is met
#   against   - a criterion is not met, but the option may still be discussed (caps at consider)
#   excludes  - the option is not suitable for this patient
#   caution   - met, but close to a limit or a stricter source disagrees (caps at consider)
#   info      - context (intent, agents, technique); no effect on the status
Effect = Literal["supports", "against", "excludes", "caution", "info"]
EFFECTS: tuple[str, ...] = ("supports", "against", "excludes", "caution", "info")


def _dedup_sources(items: list[Source]) -> list[Source]:
    seen: set[str] = set()
    out: list[Source] = []
    for s in items:
        key = label(s)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


@dataclass(frozen=True)
class Reason:
    """One reason: the patient's value against the criterion, with the criterion's source."""

    text: str
    effect: Effect
    sources: tuple[Source, ...] = ()
    criterion: str | None = None  # a THRESHOLDS key or rule name

    def __post_init__(self) -> None:
        if self.effect not in EFFECTS:
            raise ValueError(f"Reason.effect={self.effect!r}: expected one of {', '.join(EFFECTS)}")
        object.__setattr__(self, "sources", tuple(self.sources))

    @property
    def basis(self) -> list[str]:
        """Where the statement comes from: review, external (paper/guideline), judgement."""
        kinds = set()
        for s in self.sources:
            if s.citation == REVIEW:
                kinds.add("review")
            elif s.citation.startswith("livermet convention"):
                kinds.add("judgement")
            else:
                kinds.add("external")
        return sorted(kinds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "effect": self.effect,
            "criterion": self.criterion,
            "basis": self.basis,
            "sources": [label(s) for s in self.sources],
        }


@dataclass(frozen=True)
class Missing:
    """An input the case lacks that would change (or firm up) the assessment."""

    field: str  # case field path, e.g. "volumetry.remnant_ml", or a named test
    why: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "why": self.why}


@dataclass(frozen=True)
class Evidence:
    """An outcome figure the review (or a cited paper) reports for the option."""

    text: str
    source: Source

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "source": label(self.source)}


@dataclass(frozen=True)
class Note:
    """Technique or practical note (not a criterion)."""

    text: str
    source: Source

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "source": label(self.source)}


def status_from(reasons: tuple[Reason, ...] | list[Reason], recommend: bool) -> Status:
    """The status a list of reasons implies.

    Any ``excludes`` -> not_suitable. Otherwise recommended only when the rule's own
    recommendation condition holds and no reason is ``against`` or ``caution``; else consider.
    """
    effects = {r.effect for r in reasons}
    if "excludes" in effects:
        return "not_suitable"
    if recommend and not ({"against", "caution"} & effects):
        return "recommended"
    return "consider"


@dataclass(frozen=True)
class OptionAssessment:
    code: str
    title: str
    status: Status
    reasons: tuple[Reason, ...]
    missing: tuple[Missing, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    notes: tuple[Note, ...] = ()
    sources: tuple[Source, ...] = ()  # the option's general sources (knowledge base)
    intent: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"{self.code}: status={self.status!r}: expected one of {STATUSES}")
        for name in ("reasons", "missing", "evidence", "notes", "sources"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    def all_sources(self) -> list[Source]:
        items: list[Source] = []
        for r in self.reasons:
            items.extend(r.sources)
        items.extend(self.sources)
        items.extend(e.source for e in self.evidence)
        return _dedup_sources(items)

    def to_dict(self) -> dict[str, Any]:
        # Reasons that decide come first: excludes, against, caution, supports, info.
        order = {"excludes": 0, "against": 1, "caution": 2, "supports": 3, "info": 4}
        reasons = sorted(self.reasons, key=lambda r: order[r.effect])
        return {
            "code": self.code,
            "title": self.title,
            "status": self.status,
            "intent": self.intent,
            "reasons": [r.text for r in reasons],
            "reason_details": [r.to_dict() for r in reasons],
            "sources": [source_dict(s) for s in self.all_sources()],
            "missing": [m.field for m in self.missing],
            "missing_details": [m.to_dict() for m in self.missing],
            "evidence": [e.to_dict() for e in self.evidence],
            "notes": [n.to_dict() for n in self.notes],
            "details": to_plain(dict(self.details)),
        }


@dataclass(frozen=True)
class Finding:
    """A non-option finding (a work-up item, a flag) with reasons and sources."""

    code: str
    status: str  # e.g. needed | done | not_indicated | at_surgery | flagged | ok | missing
    title: str
    reasons: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reasons", tuple(self.reasons))
        object.__setattr__(self, "sources", tuple(self.sources))
        object.__setattr__(self, "evidence", tuple(self.evidence))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "status": self.status,
            "title": self.title,
            "reasons": list(self.reasons),
            "sources": [source_dict(s) for s in _dedup_sources(list(self.sources))],
            "evidence": [e.to_dict() for e in self.evidence],
            "details": to_plain(dict(self.details)),
        }


@dataclass(frozen=True)
class DecisionReport:
    """Everything the decision layer says about one case."""

    case_id: str
    options: tuple[OptionAssessment, ...]
    workup: tuple[Finding, ...]
    primary_workup: Finding
    disappearing_metastases: Finding
    response: Finding
    pathology: Finding
    mdt: Finding
    knowledge_version: str
    intent: str | None = None
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", tuple(self.options))
        object.__setattr__(self, "workup", tuple(self.workup))
        object.__setattr__(self, "warnings", tuple(self.warnings))

    def option(self, code: str) -> OptionAssessment:
        for o in self.options:
            if o.code == code:
                return o
        raise KeyError(f"no option {code!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "options": [o.to_dict() for o in self.options],
            "treatment_intent": self.intent,
            "workup": [w.to_dict() for w in self.workup],
            "primary_workup": self.primary_workup.to_dict(),
            "disappearing_metastases": self.disappearing_metastases.to_dict(),
            "response": self.response.to_dict(),
            "pathology": self.pathology.to_dict(),
            "mdt": self.mdt.to_dict(),
            "knowledge_version": self.knowledge_version,
            "decision_warnings": list(self.warnings),
        }
