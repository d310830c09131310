"""livermet.decision: every treatment option in the review, assessed for one case.

>>> from livermet.decision import assess_options
>>> report = assess_options(case, scores)     # scores: {NAME: Result or Result.to_dict()}
>>> report.to_dict()["options"][0]["status"]  # recommended | consider | not_suitable

Rules live in :mod:`livermet.decision.rules` (plain functions, one per option) and read every
threshold, citation and evidence figure from the versioned knowledge base
:mod:`livermet.decision.knowledge`. The output is data (:class:`DecisionReport`); the CLI, the
report and the web app render it (:func:`render_options` for a Rich table).
"""

from __future__ import annotations

from typing import Any, Mapping

from livermet.decision import knowledge
from livermet.decision.findings import (
    DecisionReport, Evidence, Finding, Missing, Note, OptionAssessment, Reason, STATUSES,
)
from livermet.decision.knowledge import KNOWLEDGE_VERSION, OPTION_CODES
from livermet.decision.mdt import MINIMUM_TEAM, missing_members

__all__ = [
    "assess_options", "DecisionReport", "OptionAssessment", "Reason", "Missing", "Evidence",
    "Note", "Finding", "STATUSES", "OPTION_CODES", "KNOWLEDGE_VERSION", "knowledge",
    "render_options", "MINIMUM_TEAM", "missing_members",
]


def _as_case(case: Any) -> Any:
    from livermet.case.model import Case

    if isinstance(case, Case):
        return case
    if isinstance(case, Mapping):
        return Case.model_validate(dict(case))
    raise TypeError(f"assess_options: case must be a livermet Case or a mapping, got "
                    f"{type(case).__name__}")


def assess_options(case: Any, scores: Mapping[str, Any] | None = None) -> DecisionReport:
    """Assess every treatment option of the review for ``case``.

    Parameters
    ----------
    case
        A :class:`livermet.case.model.Case` (or a mapping that validates as one). Lab values
        may be canonical numbers or ``{"value", "unit"}``.
    scores
        Calculator results by name (``Result`` objects or their ``to_dict()``), as
        ``livermet assess`` computes them. Scores the rules need that are absent are computed
        from the case when it holds their inputs.

    Returns
    -------
    DecisionReport
        Frozen; ``to_dict()`` gives ``options`` (one entry per code in
        :data:`OPTION_CODES`), ``workup``, ``primary_workup``, ``disappearing_metastases``,
        ``response``, ``pathology``, ``mdt`` and ``knowledge_version``.

    References
    ----------
    The bundled review (shared/reference/liver-metastasis-review.txt) and the primary papers
    cited in :mod:`livermet.decision.knowledge.sources`.
    """
    from livermet.decision.facts import gather
    from livermet.decision.mdt import mdt_team
    from livermet.decision.pathology import pathology_checklist
    from livermet.decision.response import recist_timeline
    from livermet.decision.rules import assess_all
    from livermet.decision.rules.systemic import intent
    from livermet.decision.workup import disappearing_metastases, imaging_workup, primary_workup

    c = _as_case(case)
    facts, warnings = gather(c, scores)
    options = assess_all(facts)
    return DecisionReport(
        case_id=c.id,
        options=tuple(options[code] for code in OPTION_CODES),
        workup=tuple(imaging_workup(c, facts, options)),
        primary_workup=primary_workup(c, facts),
        disappearing_metastases=disappearing_metastases(c, facts),
        response=recist_timeline(c),
        pathology=pathology_checklist(c),
        mdt=mdt_team(c),
        knowledge_version=KNOWLEDGE_VERSION,
        intent=intent(facts, options),
        warnings=tuple(warnings),
    )


def render_options(decision: Any, width: int | None = None) -> Any:
    """A Rich table of the options (fits 100 columns); ``decision`` is a DecisionReport or
    its ``to_dict()`` (or the assessment dict holding ``options``)."""
    from livermet.decision.render import render_options as _render

    return _render(decision, width=width)
