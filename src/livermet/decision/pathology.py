"""After resection: the review's pathology checklist and the margin status."""

from __future__ import annotations

from typing import Any

from livermet.decision.findings import Finding
from livermet.decision.knowledge import sources as S
from livermet.decision.knowledge import workup as K
from livermet.decision.knowledge.thresholds import fmt

GROWTH_NOTES = {
    "desmoplastic": "desmoplastic growth pattern: more favourable outcome in colorectal "
                    "metastases",
}


def _get(p: Any, path: str) -> Any:
    values = [getattr(p, f.split(".", 1)[1], None) for f in path.split("|")]
    return next((v for v in values if v is not None), None)


def pathology_checklist(case: Any) -> Finding:
    p = case.pathology
    title = "Pathology of the resected liver"
    srcs = (S.R_CONCLUSIONS, S.review("Histological Patterns"))
    if p is None:
        return Finding("pathology", "not_applicable", title,
                       ("No resection specimen recorded (case.pathology)",), srcs,
                       details={"checklist": [{"item": c, "title": t, "field": f,
                                               "recorded": False}
                                              for c, t, f, _ in K.PATHOLOGY_CHECKLIST]})
    items, reasons, absent = [], [], []
    for code, text, path, _src in K.PATHOLOGY_CHECKLIST:
        v = _get(p, path)
        items.append({"item": code, "title": text, "field": path, "value": v,
                      "recorded": v is not None})
        if v is None:
            absent.append(text)
    margin_status = None
    if p.margin_mm is not None:
        try:
            from livermet.calculators import run

            res = run("margin", {"margin_mm": p.margin_mm})
            margin_status = res.category
        except (ImportError, ValueError):  # pragma: no cover
            margin_status = None
        rel = ">=" if margin_status == "R0" else "<"
        reasons.append(f"Margin {p.margin_mm:g} mm {rel} {fmt('margin_min_mm')}: "
                       f"{margin_status or 'status not computed'}")
        if margin_status == "R1":
            reasons.append("R1 resection: discuss re-resection, ablation of the margin or close "
                           "follow-up (team)")
    resp = None
    if p.viable_tumour_percent is not None:
        try:
            from livermet.calculators import run

            resp = run("pathological_response",
                       {"viable_tumour_percent": p.viable_tumour_percent}).category
            reasons.append(f"Viable tumour {p.viable_tumour_percent:g}%: {resp} pathological "
                           "response (Blazer)")
        except (ImportError, ValueError):  # pragma: no cover
            pass
    if p.trg is not None:
        reasons.append(f"Tumour regression grade TRG {p.trg} (Rubbia-Brandt)")
    gp = (p.growth_pattern or "").lower()
    for key, note in GROWTH_NOTES.items():
        if key in gp:
            reasons.append(note.capitalize())
    if p.micrometastases:
        reasons.append("Micrometastases present")
    if absent:
        reasons.append("Not yet reported: " + "; ".join(absent))
    status = "complete" if not absent else "incomplete"
    return Finding("pathology", status, title, tuple(reasons),
                   srcs + (S.BLAZER_2008, S.RUBBIA_BRANDT_2007),
                   details={"checklist": items, "margin_status": margin_status,
                            "pathological_response": resp})
