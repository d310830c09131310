"""CDS Hooks (https://cds-hooks.hl7.org, 2.0): a ``patient-view`` service built from an assessment.

The web service mounts the endpoints; the logic lives here and is pure and fast (no imaging,
no network): :func:`discovery` answers ``GET /cds-services``; :func:`cds_service_response`
answers ``POST /cds-services/livermet-mdt`` given a function that finds the patient's case (or
its precomputed assessment); :func:`build_cards` turns an assessment into cards.

Cards (spec section "Card Attributes"): ``summary`` (at most 140 characters), ``indicator``
(``info`` | ``warning`` | ``critical``), ``detail`` (GitHub-flavoured markdown: each option's
reasons and the sources), ``source`` (``label`` and ``url``), ``links`` (``absolute`` link to
the full report when a URL is given). Indicators: ``info`` for recommended options and for the
overview, ``warning`` for the assessment's warnings (e.g. an inadequate remnant) and for
missing data that blocks an option, ``critical`` when no option other than best supportive care
is suitable. The spec asks services to answer quickly (the hook is synchronous in the EHR's
user interface); segmentation never runs here: a case with images is assessed without them
unless the caller passes a precomputed assessment.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any, Callable, Mapping

SERVICE_ID = "livermet-mdt"
SUMMARY_MAX = 140  # CDS Hooks: "summary ... <140-character summary message"
SOURCE_LABEL = "livermet (decision support, not a medical device)"
SOURCE_URL = "https://livermet.org"
STATUS_WORDS = {"recommended": "Recommended", "consider": "Consider",
                "not_suitable": "Not suitable"}


class CdsRequestError(ValueError):
    """The hook request is malformed (the message names the field)."""


def discovery() -> dict[str, Any]:
    """The discovery document (``GET {base}/cds-services``)."""
    return {"services": [{
        "hook": "patient-view",
        "id": SERVICE_ID,
        "title": "livermet: liver-metastasis MDT decision support",
        "description": "Treatment options for liver metastases (resection, FLR augmentation, "
                       "ablation, transplant, systemic and regional therapies) with the "
                       "patient's values against the criteria, and their sources. Decision "
                       "support only, not a medical device.",
        "prefetch": {"patient": "Patient/{{context.patientId}}"},
        "usageRequirements": "The patient must have a livermet case.",
    }]}


def _short(text: str, limit: int = SUMMARY_MAX) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _src_text(s: Any) -> str:
    if isinstance(s, Mapping):
        return str(s.get("text") or s.get("citation") or "")
    return str(s)


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _card(summary: str, indicator: str, detail: str, links: list[dict[str, str]],
          source_url: str | None) -> dict[str, Any]:
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": _short(summary),
        "indicator": indicator,
        "detail": detail,
        "source": {"label": SOURCE_LABEL, "url": source_url or SOURCE_URL},
    }
    if links:
        card["links"] = links
    return card


def build_cards(assessment: Mapping[str, Any], report_url: str | None = None
                ) -> list[dict[str, Any]]:
    """Cards for a ``patient-view`` hook from ``Assessment.to_dict()``.

    One overview card (info; critical when nothing but best supportive care is suitable),
    one card per recommended option and per option to consider, and one warning card with the
    assessment's warnings. Each card links to the full report when ``report_url`` is given.
    """
    a = assessment.to_dict() if hasattr(assessment, "to_dict") else dict(assessment)
    links = ([{"label": "Full MDT report", "url": report_url, "type": "absolute"}]
             if report_url else [])
    options = [o for o in a.get("options") or [] if isinstance(o, Mapping)]
    case_id = a.get("case_id", "")
    cards: list[dict[str, Any]] = []

    def name(o: Mapping[str, Any]) -> str:
        return str(o.get("title") or str(o.get("code", "")).replace("_", " "))

    def option_detail(o: Mapping[str, Any]) -> str:
        lines = [f"**{name(o)}** — "
                 f"{STATUS_WORDS.get(str(o.get('status')), o.get('status'))}", ""]
        reasons = [r.get("text", str(r)) if isinstance(r, Mapping) else str(r)
                   for r in o.get("reasons") or []]
        if reasons:
            lines.append("Basis:")
            lines += [f"- {r}" for r in reasons]
        if o.get("missing"):
            lines.append("")
            lines.append("Would change with: " + ", ".join(str(m) for m in o["missing"]))
        srcs = [_src_text(s) for s in o.get("sources") or []]
        if srcs:
            lines.append("")
            lines.append("Sources: " + "; ".join(s for s in srcs if s))
        return "\n".join(lines)

    if options:
        counts = {k: sum(1 for o in options if o.get("status") == k) for k in STATUS_WORDS}
        suitable = [o for o in options if o.get("status") in ("recommended", "consider")]
        only_bsc = suitable and all(o.get("code") == "best_supportive_care" for o in suitable)
        table = ["| Option | Status | Basis |", "|---|---|---|"]
        for o in sorted(options, key=lambda o: list(STATUS_WORDS).index(o.get("status"))
                        if o.get("status") in STATUS_WORDS else 9):
            first = (o.get("reasons") or [""])[0]
            first = first.get("text", str(first)) if isinstance(first, Mapping) else str(first)
            table.append(f"| {_md_escape(name(o))} | "
                         f"{STATUS_WORDS.get(str(o.get('status')), o.get('status'))} | "
                         f"{_md_escape(first)} |")
        rec = ", ".join(str(o.get("code")).replace("_", " ") for o in options
                        if o.get("status") == "recommended") or "none"
        intent = a.get("treatment_intent")
        intent_line = [f"Treatment intent: {intent}", ""] if isinstance(intent, str) else []
        cards.append(_card(
            f"Liver metastases MDT: recommended {rec}; {counts['consider']} to consider",
            "critical" if only_bsc or not suitable else "info",
            "\n".join([f"livermet assessment of case {case_id}. Decision support for the "
                       "MDT, not a medical device.", "", *intent_line, *table]),
            links, None))
        for o in options:
            if o.get("status") not in ("recommended", "consider"):
                continue
            first = (o.get("reasons") or [""])[0]
            first = first.get("text", str(first)) if isinstance(first, Mapping) else str(first)
            label = STATUS_WORDS[str(o["status"])]
            cards.append(_card(f"{label}: {name(o)}"
                               + (f" — {first}" if first else ""),
                               "info", option_detail(o), links, None))
    warnings = [w.get("message", str(w)) if isinstance(w, Mapping) else str(w)
                for w in a.get("warnings") or []]
    sflr = (a.get("scores") or {}).get("sflr")
    if isinstance(sflr, Mapping) and sflr.get("category") == "inadequate":
        warnings.insert(0, f"Future liver remnant {sflr.get('value')}% is below the minimum "
                           f"({(sflr.get('details') or {}).get('threshold_percent', '?')}%)")
    if warnings:
        cards.append(_card(f"{len(warnings)} warning(s): {warnings[0]}", "warning",
                           "\n".join(f"- {w}" for w in warnings), links, None))
    if not cards:
        cards.append(_card("livermet: no treatment options assessed yet for this patient",
                           "info", "The case has too little data for an assessment. "
                           "Missing inputs: " + ", ".join(sorted(a.get("missing") or {})),
                           links, None))
    return cards


class UnknownServiceError(CdsRequestError):
    """The service id is not one this module offers (an HTTP 404 for the web layer)."""


def cds_service_response(request_json: Mapping[str, Any],
                         get_case: Callable[[str], Any],
                         report_url_template: str | None = None,
                         service_id: str | None = None) -> dict[str, Any]:
    """Answer a ``patient-view`` hook request.

    Parameters
    ----------
    request_json : the hook request (``hook``, ``hookInstance``, ``context.patientId``...).
    get_case : ``patient_id -> case | assessment dict | None``. A mapping with ``options`` or
        ``scores`` is used as a precomputed assessment; otherwise it is a case (Case or dict)
        and is assessed here, without its images.
    report_url_template : e.g. ``"https://mdt.example/cases/{case_id}/report"``.
    service_id : the id in the request path; when given it must be :data:`SERVICE_ID`
        (else :class:`UnknownServiceError`).

    Returns
    -------
    ``{"cards": [...]}``; no cards when the patient has no livermet case.
    """
    if service_id is not None and service_id != SERVICE_ID:
        raise UnknownServiceError(f"service {service_id!r}: unknown; this server offers "
                                  f"{SERVICE_ID!r}")
    if not isinstance(request_json, Mapping):
        raise CdsRequestError("request: expected a JSON object")
    hook = request_json.get("hook")
    if hook != "patient-view":
        raise CdsRequestError(f"hook: expected 'patient-view', got {hook!r}")
    context = request_json.get("context")
    if not isinstance(context, Mapping) or not context.get("patientId"):
        raise CdsRequestError("context.patientId: required for patient-view")
    found = get_case(str(context["patientId"]))
    if found is None:
        return {"cards": []}
    if isinstance(found, Mapping) and ("options" in found or "scores" in found):
        assessment = dict(found)
    else:
        from livermet.assess import assess_case  # the decision part

        case = found.model_dump(mode="json") if hasattr(found, "model_dump") else copy.deepcopy(dict(found))
        result = assess_case(case, imaging=False)  # never segment inside a hook
        assessment = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    url = None
    if report_url_template:
        url = report_url_template.format(case_id=assessment.get("case_id", ""),
                                          patient_id=context["patientId"])
    return {"cards": build_cards(assessment, url)}
