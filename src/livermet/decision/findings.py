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


# to_dict() of these classes gives plain JSON data (what livermet.plain.to_plain would make of
# it), built in one pass: a value that is not a plain scalar goes through to_plain, an item
# of another type has its to_dict() converted. DecisionReport.to_dict() is then plain as it is.
_PLAIN = frozenset({str, int, bool, type(None)})


def _p(value: Any) -> Any:
    return value if type(value) in _PLAIN else to_plain(value)


def _d(item: Any) -> Any:
    """``to_plain(item)`` for a findings item: its to_dict(), already plain for our classes."""
    if type(item) in _PLAIN_TO_DICT:
        return item.to_dict()
    return to_plain(item.to_dict())


# A source's plain dict depends on nothing but the source's five fields (and this code): kept
# per source whose fields are all of exact plain types (so that equal sources give equal
# dicts), at most _SOURCE_CACHE_SIZE of them; each call returns its own copy.
_SOURCE_CACHE: dict[Source, dict[str, Any]] = {}
_SOURCE_CACHE_SIZE = 4096
_STR_OR_NONE = frozenset({str, type(None)})
_INT_OR_NONE = frozenset({int, type(None)})  # not bool: True == 1 would share a key


def _source(source: Source) -> dict[str, Any]:
    """``to_plain(source_dict(source))``."""
    if (type(source) is not Source or type(source.citation) is not str
            or type(source.review_section) not in _STR_OR_NONE
            or type(source.review_ref) not in _INT_OR_NONE
            or type(source.doi) not in _STR_OR_NONE or type(source.check) is not bool):
        return to_plain(source_dict(source))
    cached = _SOURCE_CACHE.get(source)
    if cached is None:
        cached = to_plain(source_dict(source))
        if len(_SOURCE_CACHE) >= _SOURCE_CACHE_SIZE:
            _SOURCE_CACHE.clear()
        _SOURCE_CACHE[source] = cached
    return dict(cached)  # its values are scalars: a full copy


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
            "text": _p(self.text),
            "effect": _p(self.effect),
            "criterion": _p(self.criterion),
            "basis": self.basis,
            "sources": [_p(label(s)) for s in self.sources],
        }


@dataclass(frozen=True)
class Missing:
    """An input the case lacks that would change (or firm up) the assessment."""

    field: str  # case field path, e.g. "volumetry.remnant_ml", or a named test
    why: str

    def to_dict(self) -> dict[str, str]:
        return {"field": _p(self.field), "why": _p(self.why)}


@dataclass(frozen=True)
class Evidence:
    """An outcome figure the review (or a cited paper) reports for the option."""

    text: str
    source: Source

    def to_dict(self) -> dict[str, Any]:
        return {"text": _p(self.text), "source": _p(label(self.source))}


@dataclass(frozen=True)
class Note:
    """Technique or practical note (not a criterion)."""

    text: str
    source: Source

    def to_dict(self) -> dict[str, Any]:
        return {"text": _p(self.text), "source": _p(label(self.source))}


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
            "code": _p(self.code),
            "title": _p(self.title),
            "status": _p(self.status),
            "intent": _p(self.intent),
            "reasons": [_p(r.text) for r in reasons],
            "reason_details": [_d(r) for r in reasons],
            "sources": [_source(s) for s in self.all_sources()],
            "missing": [_p(m.field) for m in self.missing],
            "missing_details": [_d(m) for m in self.missing],
            "evidence": [_d(e) for e in self.evidence],
            "notes": [_d(n) for n in self.notes],
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
            "code": _p(self.code),
            "status": _p(self.status),
            "title": _p(self.title),
            "reasons": [_p(r) for r in self.reasons],
            "sources": [_source(s) for s in _dedup_sources(list(self.sources))],
            "evidence": [_d(e) for e in self.evidence],
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
            "options": [_d(o) for o in self.options],
            "treatment_intent": _p(self.intent),
            "workup": [_d(w) for w in self.workup],
            "primary_workup": _d(self.primary_workup),
            "disappearing_metastases": _d(self.disappearing_metastases),
            "response": _d(self.response),
            "pathology": _d(self.pathology),
            "mdt": _d(self.mdt),
            "knowledge_version": _p(self.knowledge_version),
            "decision_warnings": [_p(w) for w in self.warnings],
        }


_PLAIN_TO_DICT = frozenset({Reason, Missing, Evidence, Note, OptionAssessment, Finding,
                            DecisionReport})
