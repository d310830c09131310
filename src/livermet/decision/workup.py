"""Work-up findings: imaging the case still needs, primary search, disappearing metastases."""

from __future__ import annotations

from typing import Any

from livermet.decision.facts import Facts
from livermet.decision.findings import Finding, OptionAssessment
from livermet.decision.knowledge import sources as S
from livermet.decision.knowledge import workup as K
from livermet.decision.knowledge.thresholds import fmt, value as th

HEPATOCYTE_AGENTS = ("gadoxetate", "gadoxetic", "eovist", "primovist", "gadobenate",
                     "multihance", "hsca", "hepatocyte")
TRIPHASIC = ("triphasic", "three_phase", "3_phase", "multiphase", "multiphasic", "tri-phasic")


def _studies(case: Any) -> list[dict[str, Any]]:
    img = getattr(case, "imaging", None)
    if img is None:
        return []
    return [dict(s) for s in (img.studies or []) if isinstance(s, dict)]


def _text(study: dict[str, Any]) -> str:
    parts = []
    for k, v in study.items():
        if isinstance(v, (list, tuple)):
            parts.extend(str(x) for x in v)
        elif v is not None and k != "date":
            parts.append(str(v))
    return " ".join(parts).lower().replace(" ", "_")


def _modality(study: dict[str, Any]) -> str:
    return str(study.get("modality", "")).lower().replace("-", "_").replace(" ", "_")


def _describe(study: dict[str, Any]) -> str:
    d = study.get("date")
    return f"{study.get('modality', '?')}{' ' + str(d) if d else ''}"


def _item(code: str) -> K.ImagingItem:
    return next(i for i in K.IMAGING if i.code == code)


def _finding(code: str, status: str, reasons: list[str]) -> Finding:
    item = _item(code)
    return Finding(code=code, status=status, title=item.title, reasons=tuple(reasons),
                   sources=item.sources, evidence=item.evidence, details={"when": item.when})


def imaging_workup(case: Any, f: Facts, options: dict[str, OptionAssessment]) -> list[Finding]:
    studies = _studies(case)
    out: list[Finding] = []
    # Triphasic CECT: everyone.
    cts = [s for s in studies if _modality(s).startswith("ct") or _modality(s) == "cect"]
    tri = [s for s in cts if _modality(s) == "ct_triphasic" or any(t in _text(s) for t in TRIPHASIC)
           or len(s.get("phases") or []) >= 3]
    if tri:
        out.append(_finding("triphasic_ct", "done", [f"Triphasic CT done ({_describe(tri[-1])})"]))
    elif cts:
        out.append(_finding("triphasic_ct", "needed", [
            f"CT recorded ({_describe(cts[-1])}) but not as triphasic (non-contrast, arterial, "
            "venous): repeat or confirm the phases"]))
    else:
        ct_image = getattr(getattr(case, "imaging", None), "ct", None)
        why = ("a CT image is attached but its phases are not recorded"
               if ct_image else "no CT recorded in imaging.studies")
        out.append(_finding("triphasic_ct", "needed", [
            f"Triphasic contrast-enhanced CT is the minimum work-up: {why}"]))
    # MRI with DWI / hepatocyte-specific agent.
    small_key = "mri_small_lesion_mm"
    small = sorted({l.id for l in f.lesions if l.diameter_mm and l.diameter_mm < th(small_key)})
    for lesion in case.metastases.lesions:
        for m in lesion.measurements:
            if m.diameter_mm and 0 < m.diameter_mm < th(small_key):
                small = sorted(set(small) | {lesion.id})
    why: list[str] = []
    if small:
        why.append(f"lesion(s) {', '.join(small)} < {fmt(small_key)} are hard to characterise "
                   "on CT")
    if f.chemo_given:
        why.append("after chemotherapy the liver's background changes and hides metastases")
    mris = [s for s in studies if _modality(s).startswith("mri")]
    good = [s for s in mris if "dwi" in _text(s) or "diffusion" in _text(s)
            or any(a in _text(s) for a in HEPATOCYTE_AGENTS)]
    if good:
        out.append(_finding("mri_dwi_hsca", "done", [f"MRI with DWI/hepatocyte agent done "
                                                     f"({_describe(good[-1])})"]))
    elif why:
        extra = (f"; MRI {_describe(mris[-1])} lacks DWI or a hepatocyte-specific agent"
                 if mris else "")
        out.append(_finding("mri_dwi_hsca", "needed", ["; ".join(why) + extra]))
    else:
        out.append(_finding("mri_dwi_hsca", "not_indicated", [
            f"No lesion < {fmt(small_key)} and no chemotherapy recorded; MRI still helps for "
            "lesions CT cannot characterise"]))
        if f.chemo_given is None:
            out[-1] = Finding(**{**_kw(out[-1]), "reasons": out[-1].reasons + (
                "chemotherapy history unknown (liver.chemotherapy_weeks)",)})
    # PET-CT: rising CEA with CT not localising disease.
    pets = [s for s in studies if _modality(s) in K.IMAGING[2].modalities]
    ct_negative = not f.lesions or any("negative" in _text(s) for s in cts)
    if pets:
        out.append(_finding("pet_ct", "done", [f"PET-CT done ({_describe(pets[-1])})"]))
    elif f.cea_rising and ct_negative:
        cea = f" (CEA {f.cea:g} ng/mL)" if f.cea is not None else ""
        out.append(_finding("pet_ct", "needed", [f"Rising CEA{cea} with CT that does not "
                                                 "localise disease: PET-CT"]))
    else:
        reason = ("not routine; indicated for rising CEA with negative CT"
                  + ("" if f.cea_rising is not None else " (labs.cea_rising not recorded)"))
        out.append(_finding("pet_ct", "not_indicated", [reason]))
    # Ga-68 DOTATATE PET for NET.
    if f.site == "neuroendocrine":
        dots = [s for s in studies if _modality(s) in K.IMAGING[3].modalities
                or "dotatate" in _text(s)]
        if dots:
            out.append(_finding("dotatate_pet", "done", [f"DOTATATE PET done "
                                                         f"({_describe(dots[-1])})"]))
        else:
            out.append(_finding("dotatate_pet", "needed", [
                "Neuroendocrine primary: Ga-68 DOTATATE PET (highly sensitive and specific)"]))
    # IOUS at surgery.
    surgical = [c for c in ("resection", "pve_then_resection", "two_stage_hepatectomy", "alpps",
                            "resection_with_ablation") if c in options
                and (options[c].status == "recommended"
                     or (options[c].status == "consider" and f.lesions))]
    if surgical:
        reasons = [f"Surgery under discussion ({', '.join(surgical)}): plan intra-operative "
                   "ultrasound"]
        if f.chemo_given:
            reasons.append("after chemotherapy use contrast-enhanced IOUS")
        out.append(_finding("ious", "at_surgery", reasons))
    else:
        out.append(_finding("ious", "not_indicated", ["No liver surgery under discussion"]))
    return out


def _kw(f: Finding) -> dict[str, Any]:
    return {"code": f.code, "status": f.status, "title": f.title, "reasons": f.reasons,
            "sources": f.sources, "evidence": f.evidence, "details": dict(f.details)}


def primary_workup(case: Any, f: Facts) -> Finding:
    site = f.site
    unknown = site in (None, "other") or f.primary_confirmed is False
    details = {"primary_sources": list(K.PRIMARY_SOURCES),
               "bulky_secondaries": list(K.BULKY_SECONDARIES),
               "examinations": list(K.EXAMINATIONS)}
    if not unknown:
        return Finding("primary_workup", "not_needed", "Work-up of the primary",
                       (f"Primary known: {site}" + ("" if f.primary_confirmed else
                                                   " (confirmation not recorded)"),),
                       (S.R_PRIMARY_SOURCES, S.R_EXAM), details=details)
    what = "unknown" if site in (None, "other") else f"unconfirmed ({site})"
    reasons = (
        f"Primary {what}: search the review's list of primary sources",
        "Examine: " + "; ".join(K.EXAMINATIONS),
    )
    return Finding("primary_workup", "needed", "Work-up of the primary", reasons,
                   (S.R_PRIMARY_SOURCES, S.R_EXAM), details=details)


def disappearing_metastases(case: Any, f: Facts) -> Finding:
    flagged = []
    for lesion in case.metastases.lesions:
        ms = sorted(lesion.measurements, key=lambda m: m.date)
        seen: str | None = None
        for m in ms:
            gone = m.visible is False or (m.diameter_mm is not None and m.diameter_mm == 0)
            if not gone and (m.diameter_mm or m.visible):
                seen = m.date
            elif gone and seen is not None:
                flagged.append({"lesion": lesion.id, "last_seen": seen, "not_visible": m.date,
                                "segments": list(lesion.segments)})
                break
    srcs = (S.R_DISAPPEARING, S.R_MRI, S.R_CEIOUS, S.BENOIST_2006)
    if not flagged:
        return Finding("disappearing_metastases", "none", "Disappearing metastases",
                       ("No lesion has disappeared on serial measurements",), (S.R_DISAPPEARING,),
                       K.DISAPPEARING_EVIDENCE)
    ids = ", ".join(d["lesion"] for d in flagged)
    reasons = [f"{ids} no longer visible after treatment: do not assume cure"]
    if f.chemo_given is None:
        reasons.append("confirm that systemic therapy was given (liver.chemotherapy_weeks)")
    reasons.extend(text for text, _ in K.DISAPPEARING_ADVICE)
    return Finding("disappearing_metastases", "flagged", "Disappearing metastases",
                   tuple(reasons), srcs, K.DISAPPEARING_EVIDENCE, {"lesions": flagged})
