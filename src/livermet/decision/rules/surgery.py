"""Surgical options: resection, FLR augmentation (PVE, two-stage, ALPPS), ablation and both.

The liver-side analysis (exclusions, FLR adequacy for the liver's condition, liver function,
one-stage feasibility from the segments) is done once in :func:`analyse` and shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from livermet.decision.facts import ALL_SEGMENTS, Facts
from livermet.decision.findings import Missing, OptionAssessment, Reason
from livermet.decision.rules.base import (
    S, Builder, Context, fmt, gate_decompensation_regional, gate_ecog, gate_extrahepatic_any,
    gate_extrahepatic_curative,
    gate_pattern, num, site_name, th, tsrc,
)


@dataclass
class LiverAnalysis:
    """What every surgical option needs to know about the liver."""

    exclusions: list[Reason] = field(default_factory=list)  # liver function
    function: list[Reason] = field(default_factory=list)    # supports / cautions
    flr: str = "unknown"  # adequate | borderline | inadequate | unknown
    flr_reasons: list[Reason] = field(default_factory=list)
    sflr: float | None = None
    sflr_min_key: str = "sflr_min_normal"
    feasibility: str = "unknown"  # one_stage | doubtful | not_one_stage | unknown
    feasibility_reasons: list[Reason] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    kgr: float | None = None
    sflr_before: float | None = None
    icgkf: list[Reason] = field(default_factory=list)  # upfront remnant (or after PVE)
    icgkf_low: bool = False
    after_pve: bool = False


def _r(text: str, effect: str, *sources, criterion: str | None = None) -> Reason:
    return Reason(text, effect, tuple(sources), criterion)  # type: ignore[arg-type]


def analyse(f: Facts) -> LiverAnalysis:
    a = LiverAnalysis()
    # --- Liver function: Makuuchi (ascites, bilirubin, ICG-R15), Child-Pugh, ICGK-F -------
    mk = f.score("makuuchi")
    if f.ascites == "refractory":
        a.exclusions.append(_r("Refractory ascites: no resection (Makuuchi)", "excludes",
                               S.MAKUUCHI_1993, criterion="ascites"))
    elif f.ascites is None:
        a.missing.append(Missing("liver.ascites", "refractory ascites excludes resection"))
    key = "bilirubin_no_resection"
    if f.bilirubin is None:
        a.missing.append(Missing("labs.bilirubin", f"bilirubin >= {fmt(key)} excludes resection"))
    elif f.bilirubin >= th(key):
        a.exclusions.append(_r(f"Bilirubin {num(f.bilirubin, near=th(key))} mg/dL >= {fmt(key)}: no resection "
                               "(Makuuchi)", "excludes", *tsrc(key), criterion=key))
    else:
        a.function.append(_r(f"Bilirubin {num(f.bilirubin, near=th(key))} mg/dL < {fmt(key)}", "supports",
                             *tsrc(key), criterion=key))
    if mk is not None and mk.category and f.ascites != "refractory" and \
            (f.bilirubin is None or f.bilirubin < th(key)):
        cat = str(mk.category)
        extent = cat.replace("_", " ")
        if cat == "no_resection":
            a.exclusions.append(_r("Makuuchi criteria: no resection", "excludes", S.MAKUUCHI_1993,
                                   criterion="makuuchi"))
        elif cat in ("enucleation", "limited_resection", "segmentectomy"):
            a.function.append(_r(f"Makuuchi criteria ({_mk_inputs(f)}) allow at most {extent}: "
                                 "the planned extent must fit", "caution", S.MAKUUCHI_1993,
                                 criterion="makuuchi"))
        else:
            a.function.append(_r(f"Makuuchi criteria ({_mk_inputs(f)}) allow up to {extent}",
                                 "supports", S.MAKUUCHI_1993, criterion="makuuchi"))
    if f.icg_r15 is None:
        a.missing.append(Missing("labs.icg_r15", "ICG-R15 (Makuuchi, ICGK-F) sets the safe "
                                 "extent of resection"))
    cp = f.score("child_pugh")
    if cp is not None and cp.category:
        if cp.category == "C":
            a.exclusions.append(_r(f"Child-Pugh C ({num(cp.value)} points): resection not "
                                   "suitable", "excludes", S.JUDGEMENT, S.PUGH_1973,
                                   criterion="child_pugh"))
        elif cp.category == "B":
            a.function.append(_r(f"Child-Pugh B ({num(cp.value)} points): hepatology review "
                                 "before resection", "caution", S.JUDGEMENT, S.PUGH_1973,
                                 criterion="child_pugh"))
        else:
            a.function.append(_r(f"Child-Pugh A ({num(cp.value)} points)", "supports",
                                 S.PUGH_1973, criterion="child_pugh"))
    icgkf = f.score("icgk_f")
    if icgkf is not None and icgkf.value is not None:
        key = "icgk_f_min"
        exact = float(icgkf.details.get("icgk_f_unrounded", icgkf.value))
        if exact < th(key):
            a.icgkf_low = True
            a.icgkf.append(_r(f"ICGK-F {num(float(icgkf.value), near=th(key))} < {th(key):g}: high "
                                   "mortality after hepatectomy", "excludes", *tsrc(key),
                                   criterion=key))
        else:
            a.icgkf.append(_r(f"ICGK-F {num(float(icgkf.value), near=th(key))} >= {th(key):g}", "supports",
                                 *tsrc(key), criterion=key))
    # --- FLR adequacy for the liver's condition -------------------------------------------
    _flr(f, a)
    # --- One-stage feasibility from the segments ------------------------------------------
    _feasibility(f, a)
    return a


def _mk_inputs(f: Facts) -> str:
    parts = [f"bilirubin {num(f.bilirubin)} mg/dL"]
    if f.icg_r15 is not None:
        parts.append(f"ICG-R15 {num(f.icg_r15)}%")
    return ", ".join(parts)


def _flr(f: Facts, a: LiverAnalysis) -> None:
    decompensated = f.ascites in ("controlled", "refractory") or (
        f.score("child_pugh") is not None and f.score("child_pugh").category in ("B", "C"))
    if f.cirrhosis:
        a.sflr_min_key, review_key, condition = "sflr_min_cirrhosis", (
            "sflr_review_decompensated" if decompensated else None), "fibrosis/cirrhosis"
    elif f.chemo_weeks is not None and f.chemo_weeks > th("chemotherapy_prolonged_weeks"):
        a.sflr_min_key, review_key = "sflr_min_chemotherapy", "sflr_review_chemotherapy"
        condition = f"{num(f.chemo_weeks)} weeks of chemotherapy (> " \
                    f"{fmt('chemotherapy_prolonged_weeks')})"
    else:
        a.sflr_min_key, review_key, condition = "sflr_min_normal", "sflr_review_insufficient", \
            "a normal liver"
        if f.cirrhosis is None:
            a.missing.append(Missing("liver.cirrhosis", "fibrosis/cirrhosis raises the sFLR "
                                     "minimum to 40%"))
        if f.chemo_weeks is None:
            a.missing.append(Missing("liver.chemotherapy_weeks", "> 12 weeks of chemotherapy "
                                     "raises the sFLR minimum to 30%"))
    sc = f.score("sflr")
    after = f.score("sflr_after_pve")
    kg = f.score("kgr")
    # Cut-offs are compared with the unrounded values (display rounding must not move a
    # patient across a threshold); the reason text shows enough decimals (num(near=...)).
    if kg is not None and kg.value is not None:
        a.kgr = float(kg.details.get("kgr_unrounded", kg.value))
    before = f.score("sflr_before_pve") or sc
    if before is not None and before.value is not None:
        a.sflr_before = float(before.value)
    if after is not None and after.value is not None:
        # After PVE the current remnant is the one that counts.
        sc = after
        a.after_pve = True
    if sc is None or sc.value is None:
        a.missing.append(Missing("volumetry.remnant_ml", "the sFLR decides whether the remnant "
                                 "is adequate (with total_liver_ml and tumour_ml, or height and "
                                 "weight)"))
        return
    a.sflr = float(sc.details.get("sflr_percent_unrounded", sc.value))
    minimum = th(a.sflr_min_key)
    name = "sFLR after PVE" if a.after_pve else "sFLR"
    if a.sflr < minimum:
        a.flr = "inadequate"
        a.flr_reasons.append(_r(f"{name} {num(a.sflr, near=th(a.sflr_min_key))}% < {fmt(a.sflr_min_key)} required for "
                                f"{condition}", "excludes", *tsrc(a.sflr_min_key),
                                criterion=a.sflr_min_key))
    elif review_key and a.sflr < th(review_key):
        a.flr = "borderline"
        a.flr_reasons.append(_r(
            f"{name} {num(a.sflr, near=th(a.sflr_min_key))}% >= {fmt(a.sflr_min_key)} required for {condition}, but below "
            f"the review's {fmt(review_key)} ({_review_band(review_key)})", "caution",
            *tsrc(a.sflr_min_key), *tsrc(review_key), criterion=review_key))
    else:
        a.flr = "adequate"
        a.flr_reasons.append(_r(f"{name} {num(a.sflr, near=th(a.sflr_min_key))}% >= {fmt(a.sflr_min_key)} required for "
                                f"{condition}", "supports", *tsrc(a.sflr_min_key),
                                criterion=a.sflr_min_key))


def _review_band(key: str) -> str:
    return {
        "sflr_review_insufficient": "it calls a 25% remnant insufficient",
        "sflr_review_chemotherapy": "stricter minimum with chemotherapy-induced hepatotoxicity",
        "sflr_review_decompensated": "minimum in a decompensated liver",
    }[key]


def _feasibility(f: Facts, a: LiverAnalysis) -> None:
    if not f.lesions:
        a.missing.append(Missing("metastases.lesions", "lesion segments and sizes decide "
                                 "resectability"))
        return
    if not f.segments_known:
        a.missing.append(Missing("metastases.lesions[].segments", "the segments involved decide "
                                 "whether one operation can clear the liver"))
        return
    involved = f.segments_involved
    free = sorted(ALL_SEGMENTS - involved)
    key = "free_segments_min"
    segs = ", ".join(str(s) for s in sorted(involved))
    if len(free) == 0:
        a.feasibility = "not_one_stage"
        a.feasibility_reasons.append(_r(
            f"All 8 segments involved ({segs}): no tumour-free remnant in one stage", "excludes",
            *tsrc(key), criterion=key))
    elif len(free) < th(key):
        a.feasibility = "doubtful"
        a.feasibility_reasons.append(_r(
            f"Only segment {free[0]} free of tumour (< {fmt(key)}): one-stage clearance "
            "doubtful (parenchyma-sparing resection may still work: surgeon to judge)",
            "against", *tsrc(key), criterion=key))
    else:
        a.feasibility = "one_stage"
        a.feasibility_reasons.append(_r(
            f"Lesions in segment(s) {segs}; {len(free)} segments free (>= {fmt(key)} to leave "
            "a drained, perfused remnant)", "supports", *tsrc(key), criterion=key))


def _primary_reason(b: Builder, f: Facts, curative_name: str) -> bool:
    """Primary-specific support or caution; returns whether the primary allows 'recommended'."""
    site = f.site
    if site == "colorectal":
        b.add("Colorectal primary: resection is the standard (parenchyma-sparing preferred)",
              "supports", S.R_ANATOMY, S.R_ANATOMY_SPARING)
        return True
    if site == "gist":
        b.add(f"GIST: {curative_name} can be more aggressive when combined with imatinib or "
              "sunitinib", "supports", S.R_GIST)
        return True
    if site == "neuroendocrine":
        b.add("Neuroendocrine: spread is often diffuse, so complete resection and durable "
              "control are less likely; resect when all disease can be removed", "caution",
              S.R_NET)
        return False
    if site == "sarcoma":
        b.add("Sarcoma: liver-directed treatment only in selected cases with favourable biology",
              "caution", S.R_SARCOMA)
        return False
    if site == "breast":
        b.add("Breast: liver metastases carry the worst prognosis (survival 24-36 months); "
              "resection only in selected patients after systemic control (team decision)",
              "caution", S.R_BREAST, S.JUDGEMENT)
        return False
    if site == "uveal_melanoma":
        b.add("Uveal melanoma: liver disease is often diffuse or miliary (70-90% liver "
              "predominant); resection only for limited discrete disease", "caution", S.R_UVEAL)
        return False
    if site is None or f.primary_confirmed is False or site == "other":
        b.add(f"Primary {site_name(site) if site else 'unknown'}: complete the primary "
              "work-up before liver surgery", "against", S.R_PRIMARY_SOURCES, S.R_EXAM)
        b.need("primary.site", "the primary decides the role of liver surgery")
        return False
    b.add(f"{site_name(site).capitalize()} primary: the review gives no resection criteria; "
          "team decision", "caution", S.JUDGEMENT)
    return False


def _progression(b: Builder, f: Facts) -> None:
    if f.response == "progressive":
        b.add("Progressing on chemotherapy: resection deferred until disease is controlled "
              "(worse outcome when progressing)", "against", S.R_CHEMO, S.ADAM_2004,
              criterion="response")
    elif f.response in ("responding", "stable"):
        b.add(f"Disease {f.response} on chemotherapy", "supports", S.R_CHEMO,
              criterion="response")


def _common_surgical(b: Builder, f: Facts, a: LiverAnalysis, what: str) -> None:
    if not f.lesions:
        b.add("No liver lesion recorded: nothing to plan yet (enter metastases.lesions)",
              "against", S.R_WORKUP, criterion="lesions")
    gate_extrahepatic_curative(b, f)
    gate_ecog(b, f, "ecog_max_surgery", what)
    gate_pattern(b, f, what)
    b.extend(a.exclusions, a.missing)
    b.reasons.extend(a.function)


def _planned_extent(b: Builder, f: Facts) -> None:
    """Does the planned anatomic resection take every listed lesion? A lesion whose segments
    all lie outside the plan's segments (Brisbane 2000) stays in the remnant unless it is
    removed separately; one that crosses the plan's border needs a wider or added resection.
    These are findings on the plan, not on resection as an option: they do not change its status."""
    if not f.planned_segments:
        return
    plan = set(f.planned_segments)
    segs = ",".join(map(str, sorted(plan)))
    extra = set(f.resect_lesions)
    left = [l for l in f.lesions if l.segments and not set(l.segments) & plan and l.id.upper() not in extra]
    astride = [l for l in f.lesions if set(l.segments) & plan and set(l.segments) - plan
               and l.id.upper() not in extra]
    if left:
        where = "; ".join(f"{l.id} in segment(s) {','.join(map(str, l.segments))}" for l in left)
        b.add(f"The planned {f.planned_resection} (segments {segs}) leaves {where}: resect it "
              "separately (parenchyma-sparing) or ablate it, or widen the plan", "info",
              S.BRISBANE_2000, S.R_ANATOMY_SPARING, criterion="planned_resection")
    if astride:
        where = "; ".join(f"{l.id} in segments {','.join(map(str, l.segments))}" for l in astride)
        b.add(f"{where} crosses the border of the planned {f.planned_resection} (segments {segs}): "
              "the margin at that border needs a wider or added resection", "info",
              S.BRISBANE_2000, criterion="planned_resection")
    if not left and not astride and f.lesions and all(l.segments for l in f.lesions):
        b.add(f"The planned {f.planned_resection} (segments {segs}) takes every listed lesion",
              "info", S.BRISBANE_2000, criterion="planned_resection")


def resection(f: Facts, a: LiverAnalysis, ctx: Context) -> OptionAssessment:
    b = Builder("resection")
    for r in a.flr_reasons:
        if r.effect == "excludes":
            b.add(r.text + ": upfront resection unsafe, see FLR augmentation", "excludes",
                  *r.sources, criterion=r.criterion)
        else:
            b.reasons.append(r)
    b.reasons.extend(a.feasibility_reasons)
    b.reasons.extend(a.icgkf)
    if a.kgr is not None and a.kgr < th("kgr_min"):
        b.add(f"KGR {num(a.kgr, near=th('kgr_min'))}%/week after PVE < {fmt('kgr_min')}: higher risk of liver "
              "insufficiency even with an adequate volume", "caution", *tsrc("kgr_min"),
              criterion="kgr_min")
    _planned_extent(b, f)
    primary_ok = _primary_reason(b, f, "metastasectomy")
    _common_surgical(b, f, a, "liver resection")
    _progression(b, f)
    b.details.update({"sflr_percent": a.sflr, "sflr_minimum_percent": th(a.sflr_min_key),
                      "flr": a.flr, "feasibility": a.feasibility,
                      "segments_involved": sorted(f.segments_involved)})
    if f.liver_specimen and not f.recurrence_after_resection:
        b.add("A liver resection specimen is already recorded (pathology): the listed lesions "
              "may be the resected ones; record the current disease (or "
              "metastases.recurrence_after_resection) before planning another resection",
              "caution", S.R_CONCLUSIONS, S.JUDGEMENT, criterion="already_resected")
    if f.recurrence_after_resection:
        b.add("Recurrence after previous hepatectomy: repeat resection remains possible "
              "(parenchyma-sparing surgery keeps it open)", "info", S.R_ANATOMY_SPARING,
              criterion="recurrence")
    if f.primary_resected is False:
        b.add("Primary still in place: simultaneous (possibly minimally invasive) resection of "
              "primary and liver metastases can be planned", "info", S.R_CONCLUSIONS,
              criterion="primary_in_place")
    b.add("Goal: complete resection with a margin of at least 1 mm; intra-operative "
          "ultrasound at surgery", "info", S.R_CONCLUSIONS, S.R_IOUS)
    if any(l.near_vessel for l in f.lesions):
        b.add("Lesion(s) next to major vessels: CUSA gives a defined plane near vessels; "
              "LigaSure seals vessels up to 7 mm", "info", S.R_TECHNIQUE, S.R_LIGASURE)
    recommend = (primary_ok and a.flr == "adequate" and a.feasibility == "one_stage"
                 and f.extrahepatic is False and f.ecog is not None and f.bilirubin is not None
                 and f.ascites is not None)
    return b.done(recommend, intent="curative")


def pve_then_resection(f: Facts, a: LiverAnalysis, ctx: Context) -> OptionAssessment:
    b = Builder("pve_then_resection")
    _common_surgical(b, f, a, "liver resection after PVE")
    recommend = False
    b.details.update({"sflr_percent": a.sflr, "kgr": a.kgr})
    if a.feasibility == "not_one_stage":
        b.reasons.extend(a.feasibility_reasons)
    if a.after_pve:
        b.reasons.extend(a.icgkf)
    elif a.icgkf_low:
        b.add(a.icgkf[0].text.split(":")[0] + " with the current remnant: PVE aims to enlarge "
              "the remnant and its function", "info", *a.icgkf[0].sources, criterion="icgk_f_min")
    if a.after_pve:
        b.add(f"PVE done: sFLR {num(a.sflr_before)}% before, {num(a.sflr)}% after", "info",
              S.R_PVE, criterion="sflr")
        if a.flr == "adequate":
            b.key(f"Remnant after PVE adequate (sFLR {num(a.sflr, near=th(a.sflr_min_key))}% >= "
                  f"{fmt(a.sflr_min_key)}): complete the resection", "supports",
                  *tsrc(a.sflr_min_key), criterion=a.sflr_min_key)
            recommend = a.feasibility in ("one_stage", "unknown") and f.extrahepatic is False \
                and f.ecog is not None
        else:
            b.add(f"Remnant after PVE still {'too small' if a.flr == 'inadequate' else 'borderline'} "
                  f"(sFLR {num(a.sflr)}%, minimum {fmt(a.sflr_min_key)}): consider ALPPS or "
                  "other strategies", "against", *tsrc(a.sflr_min_key), S.R_FLR_25,
                  criterion=a.sflr_min_key)
    elif a.flr == "unknown":
        b.add("FLR not measured: PVE is indicated only if the remnant is too small", "against",
              S.R_FLR_25, criterion="sflr")
    elif a.flr == "adequate":
        b.add(f"sFLR {num(a.sflr)}% is adequate: FLR augmentation not needed", "excludes",
              *tsrc(a.sflr_min_key), criterion=a.sflr_min_key)
    else:
        txt = "below" if a.flr == "inadequate" else "close to"
        b.key(f"sFLR {num(a.sflr)}% {txt} the minimum ({fmt(a.sflr_min_key)}): portal vein "
              "embolisation/ligation to grow the remnant", "supports", S.R_FLR_25, S.R_PVE,
              *tsrc(a.sflr_min_key), criterion=a.sflr_min_key)
        recommend = a.flr == "inadequate" and not f.bilobar and a.feasibility == "one_stage" \
            and f.extrahepatic is False and f.ecog is not None
        if f.bilobar:
            b.add("Bilobar disease: PVE is usually part of a two-stage hepatectomy", "caution",
                  S.R_TWO_STAGE, criterion="bilobar")
    key = "kgr_min"
    if a.kgr is not None:
        if a.kgr < th(key):
            b.add(f"KGR {num(a.kgr, near=th(key))}%/week after PVE < {fmt(key)}: higher risk of liver "
                  "insufficiency (21.6% vs 0%); consider ALPPS", "against", *tsrc(key),
                  criterion=key)
        else:
            b.add(f"KGR {num(a.kgr, near=th(key))}%/week after PVE >= {fmt(key)}: proceed to resection",
                  "supports", *tsrc(key), criterion=key)
    elif a.flr in ("inadequate", "borderline") and not a.after_pve:
        b.need("volumetry.remnant_ml_after_pve", "after PVE the KGR (>= 2%/week) decides "
               "whether to resect")
    _primary_reason(b, f, "metastasectomy")
    return b.done(recommend, intent="curative")


def two_stage(f: Facts, a: LiverAnalysis, ctx: Context) -> OptionAssessment:
    b = Builder("two_stage_hepatectomy")
    _common_surgical(b, f, a, "two-stage hepatectomy")
    b.details.update({"bilobar": f.bilobar, "flr": a.flr, "feasibility": a.feasibility})
    recommend = False
    if not f.segments_known:
        b.add("Lesion segments unknown: cannot tell whether disease is bilobar", "against",
              S.R_TWO_STAGE)
    elif len(f.lesions) < 2:
        b.add("Single lesion: two-stage hepatectomy is for multifocal disease (PVE then "
              "resection if the FLR is small)", "excludes", S.R_TWO_STAGE, criterion="multifocal")
    elif not f.bilobar:
        b.add("Disease confined to one hemiliver: two-stage hepatectomy not needed (PVE then "
              "resection if the FLR is small)", "excludes", S.R_TWO_STAGE, S.JUDGEMENT,
              criterion="bilobar")
    else:
        n = len(f.lesions)
        needed = a.flr in ("inadequate", "borderline") or a.feasibility in ("doubtful",
                                                                            "not_one_stage")
        if a.flr == "adequate" and a.feasibility == "one_stage":
            b.add(f"Bilobar disease ({n} lesions) but one stage can clear it with an adequate "
                  f"remnant (sFLR {num(a.sflr)}%): two stages not needed", "excludes",
                  S.R_TWO_STAGE, S.JUDGEMENT, criterion="bilobar")
        elif needed:
            why = (f"sFLR {num(a.sflr)}% too small for one stage" if a.flr != "adequate"
                   else "one operation cannot clear every segment")
            b.key(f"Bilobar multifocal disease ({n} lesions, segments "
                  f"{', '.join(map(str, sorted(f.segments_involved)))}); {why}: clear the "
                  "future remnant first, PVE, then complete", "supports", S.R_TWO_STAGE,
                  criterion="bilobar")
            recommend = f.extrahepatic is False and f.ecog is not None and a.flr != "unknown" \
                and a.feasibility != "not_one_stage"
            if a.feasibility == "not_one_stage":
                b.add("Every segment involved: whether a staged clearance is possible at all is "
                      "the surgeon's call", "caution", S.R_TWO_STAGE, S.JUDGEMENT,
                      criterion="free_segments_min")
        else:
            b.add(f"Bilobar disease ({n} lesions); FLR not measured", "against", S.R_TWO_STAGE)
    _primary_reason(b, f, "staged metastasectomy")
    _progression(b, f)
    return b.done(recommend, intent="curative")


def alpps(f: Facts, a: LiverAnalysis, ctx: Context) -> OptionAssessment:
    b = Builder("alpps")
    _common_surgical(b, f, a, "ALPPS")
    key = "kgr_min"
    if a.flr == "adequate":
        b.add(f"sFLR {num(a.sflr)}% adequate: ALPPS not needed", "excludes",
              *tsrc(a.sflr_min_key), criterion=a.sflr_min_key)
    elif a.flr == "unknown":
        b.add("FLR not measured: ALPPS only for a remnant too small to resect", "against",
              S.R_FLR_25)
    else:
        b.add(f"sFLR {num(a.sflr)}% below or near the minimum ({fmt(a.sflr_min_key)}): "
              "partition with portal ligation gives faster hypertrophy", "supports",
              S.R_FLR_25, S.SCHNITZBAUER_2012, criterion=a.sflr_min_key)
    if a.kgr is not None and a.kgr < th(key):
        b.add(f"KGR {num(a.kgr, near=th(key))}%/week after PVE < {fmt(key)}: rescue ALPPS is an option",
              "supports", *tsrc(key), S.SCHNITZBAUER_2012, criterion=key)
    b.add("Specialist-centre option with higher morbidity: to consider, not a default",
          "caution", S.JUDGEMENT)
    return b.done(False, intent="curative")


def ablation(f: Facts, a: LiverAnalysis, ctx: Context) -> OptionAssessment:
    b = Builder("ablation")
    gate_extrahepatic_any(b, f, "regional ablation")
    gate_ecog(b, f, "ecog_max_surgery", "ablation")
    gate_pattern(b, f, "ablation")
    gate_decompensation_regional(b, f)
    best, limit, count_key = "ablation_best_mm", "ablation_max_mm", "ablation_max_count"
    lesions = f.visible_lesions
    sizes_ok = False
    if not lesions:
        b.add("No visible liver lesion recorded: nothing to ablate yet", "against", S.R_WORKUP,
              criterion="lesions")
        b.need("metastases.lesions", "size and number decide ablation")
    elif any(l.diameter_mm is None for l in lesions):
        b.need("metastases.lesions[].diameter_mm", "ablation works best up to 3 cm")
    else:
        too_big = [l for l in lesions if l.diameter_mm > th(limit)]
        large = [l for l in lesions if th(best) < l.diameter_mm <= th(limit)]
        if too_big:
            ids = ", ".join(f"{l.id} {num(l.diameter_mm)} mm" for l in too_big)
            b.add(f"Too large to ablate: {ids} > {fmt(limit)} (the largest the review reports "
                  "ablated)", "excludes", *tsrc(limit), criterion=limit)
        elif large:
            ids = ", ".join(f"{l.id} {num(l.diameter_mm)} mm" for l in large)
            b.add(f"{ids} > {fmt(best)}: local control falls above 3 cm (ablation up to "
                  f"{fmt(limit)} reported)", "caution", *tsrc(best), *tsrc(limit), criterion=best)
        else:
            sizes_ok = True
            b.key(f"All lesions <= {fmt(best)} (largest {num(f.largest_mm)} mm): best local "
                  "control", "supports", *tsrc(best), criterion=best)
        n = len(lesions)
        if n > th(count_key):
            b.add(f"{n} lesions > {fmt(count_key)} treated in the randomised ablation trial",
                  "against", *tsrc(count_key), criterion=count_key)
            sizes_ok = False
    near = [l.id for l in lesions if l.near_vessel]
    if near:
        b.add(f"{', '.join(near)} next to a major vessel: prefer microwave ablation (RFA loses "
              "heat to flowing blood)", "info", S.R_ABLATION, criterion="heat_sink")
        b.details["preferred_modality"] = "MWA"
    if f.recurrence_after_resection:
        b.add("Recurrence after previous liver resection: ablation is suitable", "supports",
              S.R_ABLATION_RECURRENCE, criterion="recurrence")
    res = ctx.get("resection")
    alternative_needed = bool(f.recurrence_after_resection) or (
        res is not None and res.status == "not_suitable")
    if res is not None and res.status == "recommended" and not f.recurrence_after_resection:
        b.add("Resection is recommended: ablation is the alternative for small lesions or "
              "an unfit patient", "caution", S.R_ABSTRACT, S.JUDGEMENT)
    elif res is not None and res.status == "consider" and not f.recurrence_after_resection:
        b.add("Resection still under discussion: ablation mainly for isolated unresectable "
              "lesions, recurrence or an unfit patient", "caution", S.R_ABSTRACT, S.JUDGEMENT)
    elif res is not None and res.status == "not_suitable":
        b.add("Resection not suitable: ablation offers local treatment of isolated unresectable "
              "metastases", "supports", S.R_ABSTRACT)
    if f.ecog is None:
        alternative_needed = False
    recommend = sizes_ok and alternative_needed and f.extrahepatic is False
    b.details["lesions"] = [{"id": l.id, "diameter_mm": l.diameter_mm,
                             "near_major_vessel": l.near_vessel} for l in lesions]
    return b.done(recommend, intent="curative")


def resection_with_ablation(f: Facts, a: LiverAnalysis, ctx: Context) -> OptionAssessment:
    b = Builder("resection_with_ablation")
    gate_extrahepatic_any(b, f, "regional ablation")
    gate_ecog(b, f, "ecog_max_surgery", "resection with ablation")
    gate_pattern(b, f, "resection with ablation")
    b.extend(a.exclusions, a.missing)
    for r in a.icgkf:
        if r.effect == "excludes":
            b.add(r.text.split(":")[0] + " with the volumetry's remnant: ablation may spare more "
                  "liver than that plan (re-measure)", "against", *r.sources, criterion=r.criterion)
    best = "ablation_best_mm"
    lesions = f.visible_lesions
    if len(lesions) < 2:
        b.add(f"{len(lesions)} lesion(s): nothing to combine (resection or ablation alone)",
              "excludes", S.JUDGEMENT, criterion="lesion_count")
    elif any(l.diameter_mm is None for l in lesions):
        b.need("metastases.lesions[].diameter_mm", "small lesions (<= 3 cm) can be ablated "
               "while larger ones are resected")
    else:
        small = [l for l in lesions if l.diameter_mm <= th(best)]
        if not small:
            b.add(f"No lesion <= {fmt(best)}: none suits ablation well", "excludes", *tsrc(best),
                  criterion=best)
        else:
            b.key(f"{len(lesions)} lesions; {', '.join(l.id for l in small)} <= {fmt(best)} "
                  "could be ablated, sparing parenchyma while the others are resected",
                  "supports", *tsrc(best), S.R_FLR_MIN, criterion=best)
            if a.flr == "inadequate" or a.feasibility in ("doubtful", "not_one_stage"):
                b.add("Resection alone would leave too little liver: ablation of small deep "
                      "lesions spares parenchyma", "supports", S.R_FLR_MIN)
    if a.flr == "unknown":
        b.add("FLR not measured", "against", S.R_FLR_25)
    res = ctx.get("resection")
    if res is not None and res.status == "recommended":
        b.add("Resection alone is recommended: add ablation only to spare parenchyma (surgeon's "
              "choice)", "caution", S.R_FLR_MIN, S.JUDGEMENT, criterion="resectable")
    else:
        b.add("Adjunct to a parenchyma-sparing plan: to consider, decided at surgery planning",
              "caution", S.R_FLR_MIN, S.JUDGEMENT)
    _primary_reason(b, f, "metastasectomy")
    return b.done(False, intent="curative")
