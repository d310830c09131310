"""livermet's decision knowledge base: one versioned set of rules, thresholds and evidence.

* :mod:`.sources` - every citation (the review's section and reference number, primary
  papers, guidelines, and livermet conventions where the review is silent);
* :mod:`.thresholds` - every cut-off the rules read, beside its source;
* :mod:`.options` - each treatment option's rules in words, evidence and technique notes;
* :mod:`.workup` - imaging work-up, primary search, disappearing metastases, pathology
  checklist, MDT minimum team.

Bump :data:`KNOWLEDGE_VERSION` whenever a rule, threshold or citation changes: assessments
record the version they were made with ("never change results silently").
"""

from __future__ import annotations

from typing import Any

from livermet.decision.knowledge.options import OPTION_CODES, OPTION_SPECS, OptionSpec, Rule
from livermet.decision.knowledge.thresholds import THRESHOLDS, Threshold
from livermet.decision.knowledge import workup as WORKUP

KNOWLEDGE_VERSION = "1.3.0"  # 1.3.0: the resection option reads the planned resection (Brisbane 2000)

__all__ = [
    "KNOWLEDGE_VERSION", "OPTION_CODES", "OPTION_SPECS", "OptionSpec", "Rule", "THRESHOLDS",
    "Threshold", "WORKUP", "listing", "explain",
]


def explain(code: str) -> dict[str, Any]:
    """One option's rules, thresholds, evidence, notes and sources (``livermet explain``).

    Raises KeyError naming the unknown code and the known ones.
    """
    try:
        spec = OPTION_SPECS[code]
    except KeyError:
        raise KeyError(
            f"unknown option code {code!r}: expected one of {', '.join(OPTION_CODES)}"
        ) from None
    d = spec.to_dict()
    d["knowledge_version"] = KNOWLEDGE_VERSION
    return d


def listing() -> dict[str, Any]:
    """The whole base (``livermet knowledge``): options, thresholds, work-up lists, version."""
    return {
        "knowledge_version": KNOWLEDGE_VERSION,
        "options": [
            {"code": s.code, "title": s.title, "summary": s.summary, "rules": len(s.rules),
             "evidence": len(s.evidence)}
            for s in OPTION_SPECS.values()
        ],
        "thresholds": [t.to_dict() for t in THRESHOLDS.values()],
        "imaging_workup": [i.to_dict() for i in WORKUP.IMAGING],
        "primary_sources": list(WORKUP.PRIMARY_SOURCES),
        "examinations": list(WORKUP.EXAMINATIONS),
        "pathology_checklist": [
            {"code": c, "title": t, "field": f} for c, t, f, _ in WORKUP.PATHOLOGY_CHECKLIST
        ],
        "mdt_minimum": [r for r, _ in WORKUP.MDT_MINIMUM],
    }
