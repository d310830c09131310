"""The MDT report as data: what each section shows, gathered once from case and assessment.

:func:`build_report` reads the case, the assessment (``Assessment.to_dict()``) and the figures,
and returns a :class:`ReportDocument`; :mod:`livermet.report.render` turns it into HTML or PDF.
Every part is optional: a case without volumetry simply has no gauge, an assessment without
options has an empty options table that says so. Missing data is normal.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from livermet import __version__
from livermet.report import figures as F
from livermet.report.deidentify import deidentify as _deidentify

NOTICE = (
    "livermet is decision support for the multidisciplinary team. It is not a medical device "
    "and has no regulatory approval: every value, option and source shown here supports, and "
    "never replaces, the judgement of the treating team, who must check it against the "
    "patient's records."
)

# Order and titles of the calculators in the scores table (others follow alphabetically).
SCORE_TITLES = {
    "child_pugh": "Child-Pugh", "meld": "MELD", "meld_na": "MELD-Na", "meld_3": "MELD 3.0",
    "albi": "ALBI", "icg": "ICG clearance", "icgk_f": "ICGK-F", "makuuchi": "Makuuchi criteria",
    "bsa": "Body surface area", "standard_liver_volume": "Standard liver volume",
    "sflr": "Future liver remnant (sFLR)", "kgr": "Kinetic growth rate",
    "fong": "Fong clinical risk score", "tumour_burden_score": "Tumour burden score",
    "game": "GAME score", "nordlinger": "Nordlinger score", "milan_net": "Milan criteria (NET)",
    "transmet": "TRANSMET eligibility", "oslo": "Oslo score", "recist": "RECIST 1.1",
    "choi": "Choi criteria", "margin": "Resection margin",
    "pathological_response": "Pathological response", "bed": "Biologically effective dose",
    "sirt_bsa": "SIRT activity (BSA)", "sirt_mird": "SIRT activity (MIRD)",
}
# Canonical units of the case's labs (livermet.units; calculators.md "Units").
LAB_UNITS = {"bilirubin": "mg/dL", "albumin": "g/dL", "creatinine": "mg/dL",
             "sodium": "mmol/L", "cea": "ng/mL", "platelets": "10^9/L", "icg_r15": "%"}
STATUS_ORDER = {"recommended": 0, "consider": 1, "not_suitable": 2}
SECTION_IDS = ("summary", "scores", "volumetry", "lesions", "options", "workup", "pathology",
               "response", "sources", "versions", "notice")


@dataclass
class ReportDocument:
    """Everything the report shows; ``to_dict()`` is the ``--json`` form."""

    case_id: str
    title: str
    generated: str
    deidentified: bool
    deidentification: dict[str, Any] | None
    summary: list[tuple[str, str]]
    scores: list[dict[str, Any]]
    not_computed: list[dict[str, Any]]
    volumetry: dict[str, Any]
    gauge_svg: str | None
    figures: list[dict[str, str]]
    lesions: list[dict[str, Any]]
    options: list[dict[str, Any]]
    workup: list[dict[str, Any]]
    warnings: list[str]
    pathology: list[tuple[str, str]]
    response: list[dict[str, Any]]
    mdt: dict[str, Any] | None
    sources: list[dict[str, Any]]
    versions: dict[str, str]
    notice: str = NOTICE
    sections: tuple[str, ...] = SECTION_IDS
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["figures"] = [{"name": f["name"], "caption": f["caption"], "mime": f["mime"]}
                        for f in self.figures]
        return d


_PAPER = re.compile(r"(\d{4})\s*;\s*(\d+)\s*(?:\(\d+\))?\s*:\s*(\w?\d+)")
_REVIEW_TEXT = re.compile(r"^\s*review[,:]?\s*(.+?)\s*(?:\[(\d+)\])?\s*$", re.I)


class _Sources:
    """Deduplicated, numbered list of sources (first mention first).

    Sources arrive in several shapes (calculator ``Source.to_dict()``, the decision module's
    labels, plain strings). A paper is identified by year;volume:page, a pointer into the
    review by its section and reference number, so the same source cited by a score and by an
    option gets one number. A calculator source that cites both a paper and the review counts
    as two sources.
    """

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}

    def _put(self, key: str, entry: dict[str, Any]) -> int:
        if key not in self._index:
            self.items.append(dict(entry, number=len(self.items) + 1))
            self._index[key] = len(self.items)
        return self._index[key]

    def _review(self, section: str, ref: Any) -> int:
        text = f"review, {section}" + (f" [{ref}]" if ref not in (None, "") else "")
        return self._put(f"review|{section.lower().strip()}|{ref}", {"text": text,
                                                                    "kind": "review"})

    def _paper(self, text: str, doi: Any = None, url: Any = None) -> int:
        m = _PAPER.search(text)
        key = ("paper|" + "|".join(m.groups())) if m else "text|" + " ".join(text.lower().split())
        return self._put(key, {"text": text, "doi": doi, "url": url, "kind": "paper"})

    def add(self, src: Any) -> list[int]:
        if src is None:
            return []
        if isinstance(src, Mapping):
            citation = str(src.get("citation") or src.get("title") or "").strip()
            section, ref = src.get("review_section"), src.get("review_ref")
            nums = []
            is_review = "review" in citation.lower() or (not citation and section)
            if section and is_review:
                return [self._review(str(section), ref)]
            if citation:
                text = citation + (" (not confirmed against the primary paper)"
                                   if src.get("check") and "confirmed" not in citation else "")
                nums.append(self._paper(text, src.get("doi"), src.get("url")))
            elif src.get("text"):
                return self.add(str(src["text"]))
            if section:
                nums.append(self._review(str(section), ref))
            return nums
        text = str(src).strip()
        if not text:
            return []
        m = _REVIEW_TEXT.match(text)
        if m and not _PAPER.search(text):
            return [self._review(m.group(1), m.group(2))]
        return [self._paper(text)]

    def add_all(self, sources: Any) -> list[int]:
        if not sources:
            return []
        if not isinstance(sources, (list, tuple)):
            sources = [sources]
        nums = [n for s in sources for n in self.add(s)]
        return sorted(set(nums))


def _fmt(value: Any, unit: str | None = None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:.0f}"
    elif isinstance(value, Mapping) and "value" in value:
        return _fmt(value.get("value"), value.get("unit"))
    elif isinstance(value, (list, tuple)):
        text = ", ".join(str(v) for v in value) or "—"
    else:
        text = str(value)
    return f"{text} {unit}" if unit and unit not in ("1", "") else text


def _as_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json", exclude_none=False)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return dict(obj)


def knowledge_version(assessment: Mapping[str, Any]) -> str:
    """The knowledge base's version, from the assessment or the decision package."""
    for key in ("knowledge_version", "knowledge_base_version", "kb_version"):
        if assessment.get(key):
            return str(assessment[key])
    kb = assessment.get("knowledge")
    if isinstance(kb, Mapping) and kb.get("version"):
        return str(kb["version"])
    for mod, attrs in (("livermet.decision.knowledge", ("VERSION", "KNOWLEDGE_VERSION",
                                                       "__version__")),
                       ("livermet.decision", ("KNOWLEDGE_VERSION", "VERSION"))):
        try:
            m = importlib.import_module(mod)
        except Exception:  # noqa: BLE001 - the decision part may not be installed yet
            continue
        for a in attrs:
            v = getattr(m, a, None)
            if isinstance(v, str) and v:
                return v
        fn = getattr(m, "knowledge_version", None) or getattr(m, "version", None)
        if callable(fn):
            try:
                return str(fn())
            except Exception:  # noqa: BLE001
                pass
    return "not available"


def _summary(case: Mapping[str, Any], deid: bool) -> list[tuple[str, str]]:
    p = case.get("patient") or {}
    pr = case.get("primary") or {}
    m = case.get("metastases") or {}
    ext = m.get("extrahepatic") or {}
    bio = pr.get("biomarkers") or {}
    rows: list[tuple[str, str]] = [("Case", str(case.get("id", "—")))]
    if not deid:
        if p.get("name"):
            rows.append(("Name", str(p["name"])))
        if p.get("mrn"):
            rows.append(("MRN", str(p["mrn"])))
        if p.get("birth_date"):
            rows.append(("Date of birth", str(p["birth_date"])))
    if case.get("meeting_date"):
        rows.append(("MDT meeting", str(case["meeting_date"])))
    rows.append(("Age / sex", f"{_fmt(p.get('age'))} / {_fmt(p.get('sex'))}"))
    rows.append(("ECOG", _fmt(p.get("ecog"))))
    rows.append(("Height / weight", f"{_fmt(p.get('height_cm'), 'cm')} / "
                                    f"{_fmt(p.get('weight_kg'), 'kg')}"))
    primary = ", ".join(x for x in [pr.get("site"), pr.get("side") and f"{pr['side']}-sided",
                                    pr.get("histology"), pr.get("t_stage"),
                                    pr.get("node_positive") is True and "node-positive" or
                                    pr.get("node_positive") is False and "node-negative" or None]
                        if x) or "—"
    rows.append(("Primary", primary))
    if pr.get("resected") is not None:
        extra = (f", {_fmt(pr.get('months_since_resection'))} months ago"
                 if pr.get("months_since_resection") is not None else "")
        rows.append(("Primary resected", _fmt(pr.get("resected")) + extra))
    markers = [f"{k.replace('_', ' ')}: {_fmt(v)}" for k, v in bio.items() if v is not None]
    if markers:
        rows.append(("Biomarkers", "; ".join(markers)))
    lesions = m.get("lesions") or []
    rows.append(("Liver metastases",
                 f"{len(lesions)} lesion(s)"
                 + (f", {m['pattern']}" if m.get("pattern") else "")
                 + (", synchronous" if m.get("synchronous") else
                    ", metachronous" if m.get("synchronous") is False else "")
                 + (f", disease-free interval {_fmt(m.get('disease_free_interval_months'))} months"
                    if m.get("disease_free_interval_months") is not None else "")))
    if ext.get("present") is not None:
        rows.append(("Extrahepatic disease",
                     _fmt(ext.get("present")) + (f" ({', '.join(ext.get('sites') or [])})"
                                                 if ext.get("sites") else "")
                     + ("" if ext.get("resectable") is None
                        else f", resectable: {_fmt(ext.get('resectable'))}")))
    if m.get("response_to_chemotherapy"):
        rows.append(("Response to chemotherapy", str(m["response_to_chemotherapy"])))
    labs = case.get("labs") or {}
    lab_text = "; ".join(f"{k}: {_fmt(v, LAB_UNITS.get(k))}" for k, v in labs.items()
                         if v is not None and not isinstance(v, bool))
    if labs.get("cea_rising") is not None:
        lab_text += f"; CEA rising: {_fmt(labs['cea_rising'])}"
    if labs.get("dialysis"):
        lab_text += "; on dialysis"
    if lab_text:
        rows.append(("Labs", lab_text.strip("; ")))
    if p.get("symptoms"):
        rows.append(("Symptoms", ", ".join(str(x) for x in p["symptoms"])))
    studies = ((case.get("imaging") or {}).get("studies") or [])
    if studies:
        rows.append(("Imaging done", "; ".join(
            " ".join(str(x) for x in (st.get("modality"), st.get("phase"), st.get("date")) if x)
            for st in studies if isinstance(st, Mapping))))
    liver = case.get("liver") or {}
    liv = "; ".join(f"{k.replace('_', ' ')}: {_fmt(v)}" for k, v in liver.items() if v is not None)
    if liv:
        rows.append(("Liver", liv))
    return rows


def _volumetry(case: Mapping[str, Any], assessment: Mapping[str, Any],
               imaging: Mapping[str, Any] | None) -> dict[str, Any]:
    v = dict(case.get("volumetry") or {})
    img = dict(imaging or assessment.get("imaging") or assessment.get("volumetry") or {})
    if not any(k in img for k in ("liver_ml", "segments_ml", "resection", "lesions")):
        img = {}
    res = dict(img.get("resection") or {})
    out: dict[str, Any] = {
        "total_liver_ml": img.get("liver_ml", v.get("total_liver_ml")),
        "tumour_ml": img.get("tumour_ml", v.get("tumour_ml")),
        "functional_liver_ml": img.get("functional_liver_ml"),
        "remnant_ml": res.get("remnant_ml", v.get("remnant_ml")),
        "resected_ml": res.get("resected_ml"),
        "planned_resection": res.get("name") or v.get("planned_resection"),
        "segments_ml": img.get("segments_ml") or v.get("segments_ml") or {},
        "sflr_measured_percent": res.get("sflr_measured_percent"),
        "sflr_standardised_percent": res.get("sflr_standardised_percent"),
        "source": "imaging" if img else (v.get("source") or "case"),
        "segment_method": img.get("segment_method") or img.get("segments_method"),
    }
    if out["functional_liver_ml"] is None and out["total_liver_ml"] is not None:
        out["functional_liver_ml"] = out["total_liver_ml"] - (out["tumour_ml"] or 0)
    return out


def _sflr_value(score: Mapping[str, Any] | None, vol: Mapping[str, Any]) -> float | None:
    if score and isinstance(score.get("value"), (int, float)):
        return float(score["value"])
    for key in ("sflr_standardised_percent", "sflr_measured_percent"):
        if isinstance(vol.get(key), (int, float)):
            return float(vol[key])
    rem, fl = vol.get("remnant_ml"), vol.get("functional_liver_ml")
    if isinstance(rem, (int, float)) and isinstance(fl, (int, float)) and fl > 0:
        # measured ratio: FLR / (TLV - tumour) x 100 (calculators.md, section 1)
        return 100.0 * rem / fl
    return None


def _lesions(case: Mapping[str, Any], imaging: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    out = []
    img_by_id = {str(l.get("id")): l for l in (imaging or {}).get("lesions") or []}
    for les in (case.get("metastases") or {}).get("lesions") or []:
        row = dict(les)
        extra = img_by_id.pop(str(les.get("id")), None)
        if extra:
            row.setdefault("volume_ml", extra.get("volume_ml"))
        out.append(row)
    for lid, les in img_by_id.items():  # lesions only imaging found
        out.append({"id": lid, "segments": les.get("segments") or [],
                    "diameter_mm": les.get("longest_axial_diameter_mm"),
                    "volume_ml": les.get("volume_ml"), "source": "imaging"})
    for row in out:
        for key in ("id", "diameter_mm", "volume_ml", "near_major_vessel"):
            row.setdefault(key, None)
        row["segments_text"] = ", ".join(str(s) for s in row.get("segments") or []) or "—"
        meas = row.get("measurements") or []
        row["measurements_text"] = "; ".join(
            f"{m.get('date')}: {_fmt(m.get('diameter_mm'), 'mm')}" for m in meas
            if isinstance(m, Mapping))
    return out


def _response(assessment: Mapping[str, Any]) -> list[dict[str, Any]]:
    resp = assessment.get("response")
    rows: list[dict[str, Any]] = []
    if isinstance(resp, Mapping):
        points = (resp.get("time_points") or resp.get("timepoints") or resp.get("points")
                  or (resp.get("details") or {}).get("time_points"))
        if isinstance(points, list):
            resp = points
        elif resp.get("title"):  # a finding without time points: shown with the findings
            return rows
        else:
            rows.append({"date": resp.get("date", "—"),
                         "category": resp.get("category") or resp.get("response") or "—",
                         "sum_mm": resp.get("sum_mm") or resp.get("current_sum_mm"),
                         "notes": "; ".join(resp.get("notes") or [])})
            return rows
    if isinstance(resp, list):
        for p in resp:
            if isinstance(p, Mapping):
                notes = [str(n) for n in p.get("notes") or []]
                if p.get("reason"):
                    notes.append(str(p["reason"]))
                if p.get("change_from_baseline_percent") is not None:
                    notes.append(f"{p['change_from_baseline_percent']:+.0f}% from baseline")
                rows.append({"date": p.get("date", "—"),
                             "category": p.get("category") or p.get("response") or "—",
                             "sum_mm": p.get("sum_mm") if p.get("sum_mm") is not None
                             else p.get("current_sum_mm"),
                             "notes": "; ".join(notes)})
    return rows


def _workup(assessment: Mapping[str, Any], srcs: _Sources) -> list[dict[str, Any]]:
    w = assessment.get("workup")
    items: list[Any] = []
    if isinstance(w, Mapping):
        for key in ("gaps", "items", "needed", "missing", "recommendations", "imaging"):
            if isinstance(w.get(key), list):
                items += w[key]
        if not items:
            items = [dict(v, item=k) if isinstance(v, Mapping) else {"item": k, "reason": v}
                     for k, v in w.items()]
    elif isinstance(w, list):
        items = w
    out = []
    for it in items:
        if isinstance(it, str):
            out.append({"item": it, "status": None, "gap": True, "reason": "", "evidence": [],
                        "refs": []})
        elif isinstance(it, Mapping):
            reason = it.get("reason") or it.get("reasons") or it.get("why") or ""
            if isinstance(reason, list):
                reason = "; ".join(str(r) for r in reason)
            evidence = it.get("evidence") or it.get("sensitivity") or []
            if not isinstance(evidence, list):
                evidence = [evidence]
            status = it.get("status")
            out.append({"item": str(it.get("title") or it.get("item") or it.get("name")
                                    or it.get("code") or it.get("examination")
                                    or it.get("modality") or "—"),
                        "status": status, "gap": str(status) not in WORKUP_NOT_GAP,
                        "reason": str(reason), "evidence": _text_refs(evidence, srcs),
                        "refs": srcs.add_all(it.get("sources") or it.get("source"))})
    out.sort(key=lambda w: not w["gap"])
    return out


EFFECT_MARK = {"excludes": "✗", "against": "−", "caution": "!", "supports": "+", "info": "·"}


def _text_refs(items: Any, srcs: _Sources) -> list[str]:
    """[{text, source(s)}] -> ["text [n]"]."""
    out = []
    for e in items or []:
        if isinstance(e, Mapping):
            n = srcs.add_all(e.get("sources") or e.get("source"))
            out.append(str(e.get("text") or e.get("outcome") or e)
                       + (f" [{', '.join(map(str, n))}]" if n else ""))
        else:
            out.append(str(e))
    return out


def _options(assessment: Mapping[str, Any], srcs: _Sources) -> list[dict[str, Any]]:
    out = []
    for opt in assessment.get("options") or []:
        if not isinstance(opt, Mapping):
            continue
        reasons: list[dict[str, Any]] = []
        if opt.get("reason_details"):
            for r in opt["reason_details"]:
                if isinstance(r, Mapping):
                    reasons.append({"text": str(r.get("text", "")), "effect": r.get("effect"),
                                    "mark": EFFECT_MARK.get(str(r.get("effect")), ""),
                                    "refs": srcs.add_all(r.get("sources"))})
        else:
            for r in opt.get("reasons") or []:
                text = r.get("text", str(r)) if isinstance(r, Mapping) else str(r)
                reasons.append({"text": text, "effect": None, "mark": "", "refs": []})
        evidence = opt.get("evidence") or []
        if not isinstance(evidence, list):
            evidence = [evidence]
        missing = [f"{m.get('field')} ({m.get('why')})" if isinstance(m, Mapping) else str(m)
                   for m in (opt.get("missing_details") or opt.get("missing") or [])]
        out.append({
            "code": str(opt.get("code", "—")),
            "title": str(opt.get("title") or opt.get("name") or
                         str(opt.get("code", "")).replace("_", " ")),
            "status": str(opt.get("status", "—")),
            "intent": opt.get("intent"),
            "reasons": reasons,
            "missing": missing,
            "evidence": _text_refs(evidence, srcs),
            "notes": _text_refs(opt.get("notes"), srcs),
            "refs": srcs.add_all(opt.get("sources")),
        })
    out.sort(key=lambda o: STATUS_ORDER.get(o["status"], 3))
    return out


# Work-up statuses that are not gaps (decision module vocabulary).
WORKUP_NOT_GAP = {"done", "not_indicated", "not_needed", "not_applicable", "none", "ok"}


def _finding(d: Any, srcs: _Sources) -> dict[str, Any] | None:
    """A decision finding ({code, status, title, reasons, sources, evidence, details})."""
    if not isinstance(d, Mapping) or not (d.get("title") or d.get("code")):
        return None
    return {"code": d.get("code"), "title": str(d.get("title") or d.get("code")),
            "status": str(d.get("status") or ""),
            "reasons": [str(r.get("text", r)) if isinstance(r, Mapping) else str(r)
                        for r in d.get("reasons") or []],
            "evidence": _text_refs(d.get("evidence"), srcs),
            "refs": srcs.add_all(d.get("sources")),
            "details": dict(d.get("details") or {})}


def build_report(case: Any, assessment: Mapping[str, Any] | Any | None,
                 figures: Mapping[str, bytes] | None = None, deidentify: bool = False,
                 volumetry: Mapping[str, Any] | None = None) -> ReportDocument:
    """Gather the report's content.

    Parameters
    ----------
    case : Case or dict
        The case (``livermet.case.model.Case`` or its JSON form).
    assessment : dict
        ``Assessment.to_dict()`` (case_id, scores, warnings, missing, options, workup, ...).
    figures : dict of name -> PNG/JPEG/SVG bytes, optional
        Pictures from the imaging part. When absent, a schematic Couinaud diagram is drawn.
    deidentify : bool
        Drop names, birth dates and identifiers, pseudonymise the id and shift dates
        (see :mod:`livermet.report.deidentify`).
    volumetry : dict, optional
        The imaging volumetry result (``volumetry_for_case``) when it is not in the assessment.
    """
    case_d = _as_dict(case)
    assess_d = _as_dict(assessment) if assessment is not None else {}
    imaging = dict(volumetry) if volumetry else None
    deid_info = None
    if deidentify:
        case_d, assess_d, deid_info = _deidentify(case_d, assess_d)
        if imaging:
            _c, imaging, _i = _deidentify({"id": deid_info["pseudonym"]}, imaging)
    srcs = _Sources()

    scores_in = assess_d.get("scores") or {}
    order = list(SCORE_TITLES) + sorted(k for k in scores_in if k not in SCORE_TITLES)
    scores = []
    for name in order:
        s = scores_in.get(name)
        if not isinstance(s, Mapping):
            continue
        scores.append({
            "name": name, "title": SCORE_TITLES.get(name, name.replace("_", " ")),
            "value": _fmt(s.get("value"), s.get("unit")), "category": _fmt(s.get("category")),
            "formula": s.get("formula") or "", "notes": list(s.get("notes") or []),
            "refs": srcs.add_all(s.get("sources")),
        })
    not_computed = [{"name": k, "title": SCORE_TITLES.get(k, k), "inputs": ", ".join(map(str, v))}
                    for k, v in (assess_d.get("missing") or {}).items()
                    if isinstance(v, (list, tuple))]

    vol = _volumetry(case_d, assess_d, imaging)
    sflr_score = scores_in.get("sflr") if isinstance(scores_in.get("sflr"), Mapping) else None
    sflr = _sflr_value(sflr_score, vol)
    gauge = None
    if sflr is not None or vol.get("remnant_ml") is not None:
        threshold, condition, tsrc = F.sflr_threshold(sflr_score, case_d)
        gauge = F.sflr_gauge_svg(sflr, threshold, condition)
        vol["sflr_percent"] = sflr
        vol["threshold_percent"] = threshold
        vol["liver_condition"] = condition
        vol["threshold_refs"] = srcs.add_all(tsrc) if tsrc else []
        vol["adequate"] = None if sflr is None else sflr >= threshold
        vol["cautions"] = list(((sflr_score or {}).get("details") or {}).get("cautions") or [])
    vol["resected_segments"] = list(F.resected_segments(vol.get("planned_resection")))

    lesions = _lesions(case_d, imaging)
    figs: list[dict[str, str]] = []
    for name, data in (figures or {}).items():
        if not data:
            continue
        mime = F.sniff_mime(data)
        figs.append({"name": name, "mime": mime, "uri": F.data_uri(data, mime),
                     "caption": name.rsplit(".", 1)[0].replace("_", " ")})
    if not figs:
        png = None
        try:  # the imaging part's schematic, when it is installed
            from livermet.imaging.figures import couinaud_schematic  # type: ignore

            png = couinaud_schematic(lesions, resected_segments=vol["resected_segments"] or None)
        except Exception:  # noqa: BLE001 - fall back to the report's own schematic
            png = None
        if png:
            mime = F.sniff_mime(png)
            figs.append({"name": "couinaud", "mime": mime, "uri": F.data_uri(png, mime),
                         "caption": "Couinaud segments (schematic) with lesions and the "
                                    "planned resection"})
        else:
            svg = F.couinaud_svg(lesions, vol["resected_segments"])
            figs.append({"name": "couinaud", "mime": "image/svg+xml",
                         "uri": F.data_uri(svg, "image/svg+xml"),
                         "caption": "Couinaud segments (schematic, not to scale) with lesions "
                                    "and the planned resection"})

    options = _options(assess_d, srcs)
    workup = _workup(assess_d, srcs)
    warnings = [w.get("message", str(w)) if isinstance(w, Mapping) else str(w)
                for w in assess_d.get("warnings") or []]
    warnings += [str(w) for w in assess_d.get("decision_warnings") or []]
    path = case_d.get("pathology") or {}
    pathology = [(k.replace("_", " "), _fmt(v)) for k, v in path.items() if v is not None]
    apath = assess_d.get("pathology")
    if isinstance(apath, Mapping) and not apath.get("title"):  # plain dict form
        for k in ("margin_status", "margin", "checklist_missing", "response", "status"):
            if apath.get(k) is not None:
                val = apath[k]
                if isinstance(val, Mapping):
                    val = val.get("category") or val.get("value") or val
                pathology.append((f"assessment: {k.replace('_', ' ')}", _fmt(val)))
        srcs.add_all(apath.get("sources"))
    response = _response(assess_d)
    findings = []
    for key in ("pathology", "response"):
        f = _finding(assess_d.get(key), srcs)
        if f and f["status"] not in ("not_applicable", "not_assessable") or (
                f and key == "response" and response):
            findings.append(f)
    workup_findings = [f for f in (_finding(assess_d.get(k), srcs) for k in
                                   ("primary_workup", "disappearing_metastases"))
                       if f and f["status"] not in WORKUP_NOT_GAP]
    mdt_in = assess_d.get("mdt") if isinstance(assess_d.get("mdt"), Mapping) else None
    mdt = None
    if mdt_in or case_d.get("mdt"):
        cm = case_d.get("mdt") or {}
        mi = mdt_in or {}
        missing_roles = (mi.get("missing_roles") or (mi.get("details") or {}).get("missing")
                         or (mi.get("missing") if isinstance(mi.get("missing"), list) else None)
                         or [])
        mdt = {"date": cm.get("date"), "decision": cm.get("decision"),
               "roles": [a.get("role") for a in cm.get("attendees") or [] if isinstance(a, Mapping)],
               "missing_roles": [str(r) for r in missing_roles],
               "reasons": [str(r) for r in mi.get("reasons") or []],
               "refs": srcs.add_all(mi.get("sources"))}
    intent = assess_d.get("treatment_intent")
    if isinstance(intent, Mapping):
        intent = intent.get("intent") or intent.get("title") or intent.get("status")

    versions = {"livermet": __version__, "knowledge base": knowledge_version(assess_d)}
    case_id = str(case_d.get("id") or assess_d.get("case_id") or "—")
    return ReportDocument(
        case_id=case_id,
        title=f"MDT report — liver metastases — {case_id}",
        generated=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        deidentified=bool(deidentify), deidentification=deid_info,
        summary=_summary(case_d, deidentify), scores=scores, not_computed=not_computed,
        volumetry=vol, gauge_svg=gauge, figures=figs, lesions=lesions, options=options,
        workup=workup, warnings=warnings, pathology=pathology, response=response, mdt=mdt,
        sources=srcs.items, versions=versions,
        extra={"findings": findings, "workup_findings": workup_findings,
               "treatment_intent": intent},
    )
