"""Regional and palliative options: HAI, TACE, DEB-TACE, IHP, SIRT, SBRT, whole-liver RT and
best supportive care."""

from __future__ import annotations

from livermet.decision.facts import Facts
from livermet.decision.findings import OptionAssessment
from livermet.decision.rules.base import (
    S, Builder, Context, curative_open, surgical_route, fmt, gate_decompensation_regional, gate_ecog,
    gate_extrahepatic_regional, gate_pattern, num, resectable_first, site_name, th, tsrc,
)

LIVER_SYMPTOMS = ("pain", "abdominal pain", "nausea", "vomiting", "anorexia")


def _arterial_common(b: Builder, f: Facts, ctx: Context, what: str) -> None:
    resectable_first(b, ctx)
    gate_ecog(b, f, "ecog_max_surgery", what)
    gate_decompensation_regional(b, f)
    gate_extrahepatic_regional(b, f)


def hai(f: Facts, ctx: Context) -> OptionAssessment:
    b = Builder("hai")
    _arterial_common(b, f, ctx, "hepatic arterial infusion")
    if f.site == "colorectal":
        b.key("Colorectal metastases unsuitable for resection: HAI FUDR with systemic "
              "chemotherapy raises response (up to 80% first line, 50% second line)",
              "supports", S.R_HAI, criterion="primary")
    elif f.site is None:
        b.need("primary.site", "the review's HAI evidence is for colorectal metastases")
        b.add("Primary unknown", "against", S.R_HAI)
    else:
        b.add(f"{site_name(f.site).capitalize()}: the review's HAI evidence is for colorectal "
              "metastases", "excludes", S.R_HAI, criterion="primary")
    b.add("Needs an experienced centre (catheter/pump placement)", "caution", S.R_HAI)
    return b.done(False, intent="palliative")


def tace(f: Facts, ctx: Context) -> OptionAssessment:
    b = Builder("tace")
    _arterial_common(b, f, ctx, "chemoembolisation")
    if f.site == "colorectal":
        b.add("Colorectal: the role of TACE is limited (salvage median survival 11-14 months)",
              "caution", S.R_TACE, criterion="primary")
    elif f.site == "neuroendocrine":
        b.key("Neuroendocrine: arterial therapy targets arterially supplied metastases and can "
              "relieve hormonal syndromes refractory to drugs", "supports", S.R_NET,
              S.R_TACE, criterion="primary")
    else:
        b.key("For unresectable liver disease chemoembolisation is a palliative option "
              "(salvage median survival 14 months with mitomycin C, 11 with cisplatin/doxorubicin)",
              "supports", S.R_TACE, criterion="primary")
    abl = ctx.get("ablation")
    if abl is not None and abl.status != "not_suitable":
        b.add("With RFA in non-surgical candidates: local control 92%, 2-year OS 88%", "info",
              S.R_TACE)
    return b.done(False, intent="palliative")


def deb_tace(f: Facts, ctx: Context) -> OptionAssessment:
    b = Builder("deb_tace")
    _arterial_common(b, f, ctx, "drug-eluting bead chemoembolisation")
    if f.site == "colorectal":
        b.key("Colorectal: DEBIRI (irinotecan beads); fewer side effects than TACE (30%); with "
              "FOLFOX and bevacizumab it raised conversion to resection", "supports", S.R_TACE,
              criterion="primary")
        b.details["beads"] = "irinotecan (DEBIRI)"
    else:
        b.key("Doxorubicin-loaded beads (DEBIRI is the colorectal form): controlled release, "
              "better tolerated than conventional TACE", "supports", S.R_TACE,
              criterion="primary")
        b.details["beads"] = "doxorubicin"
    return b.done(False, intent="palliative")


def ihp(f: Facts, ctx: Context) -> OptionAssessment:
    b = Builder("ihp")
    resectable_first(b, ctx)
    gate_ecog(b, f, "ecog_max_surgery", "isolated hepatic perfusion")
    gate_decompensation_regional(b, f)
    if f.extrahepatic is None:
        b.need("metastases.extrahepatic.present", "IHP treats the liver only")
    elif f.extrahepatic:
        b.add("Extrahepatic disease: IHP treats the liver only", "excludes", S.R_IHP,
              S.JUDGEMENT, criterion="extrahepatic")
    else:
        b.add("Liver-only disease", "supports", S.R_IHP, criterion="extrahepatic")
    recommend = False
    if f.site == "uveal_melanoma":
        b.key("Uveal melanoma, liver-predominant (70-90% liver-first): isolated hepatic "
              "perfusion with melphalan (+/- TNF); the review reports 60-70% objective response "
              "for IHP without naming a primary, the uveal indication rests on the SCANDIUM "
              "trial", "supports", S.R_UVEAL, S.R_IHP, S.SCANDIUM_2023, criterion="primary")
        recommend = f.ecog is not None
    else:
        b.add(f"{site_name(f.site).capitalize()}: IHP mainly studied in liver-predominant "
              "disease such as uveal melanoma; specialist centre (livermet convention)",
              "caution", S.R_IHP, S.JUDGEMENT, criterion="primary")
    return b.done(recommend, intent="palliative")


def sirt(f: Facts, ctx: Context) -> OptionAssessment:
    b = Builder("sirt")
    _arterial_common(b, f, ctx, "radioembolisation")
    widespread = f.diffuse or f.lesion_count > th("sbrt_max_count") or (
        f.largest_mm is not None and f.largest_mm > th("sbrt_max_mm"))
    if not f.lesions and not f.diffuse:
        b.need("metastases.lesions", "SIRT suits larger, widespread liver disease")
    elif widespread:
        b.key(f"Large or widespread liver disease ({f.lesion_count} lesions, largest "
              f"{num(f.largest_mm)} mm, pattern {f.pattern or 'unknown'}): suits SIRT",
              "supports", S.R_RADIATION, criterion="extent")
    else:
        b.add("Few discrete lesions: SBRT or ablation suit better than SIRT", "caution",
              S.R_RADIATION, criterion="extent")
    k = "sirt_lung_shunt_max"
    lsf = f.lung_shunt
    if lsf is None:
        b.need("sirt.lung_shunt_percent", "MAA lung-shunt study before SIRT")
    elif lsf > th(k):
        b.add(f"Lung shunt {num(lsf)}% > {fmt(k)}: do not treat", "excludes", *tsrc(k),
              criterion=k)
    else:
        b.add(f"Lung shunt {num(lsf)}% <= {fmt(k)}", "supports", *tsrc(k), criterion=k)
    return b.done(False, intent="palliative")


def sbrt(f: Facts, ctx: Context) -> OptionAssessment:
    b = Builder("sbrt")
    gate_pattern(b, f, "SBRT")
    gate_decompensation_regional(b, f)
    cnt, size = "sbrt_max_count", "sbrt_max_mm"
    lesions = f.visible_lesions
    criteria_met = False
    if not lesions:
        b.need("metastases.lesions", "SBRT treats a few discrete lesions")
    else:
        ok = True
        if len(lesions) > th(cnt):
            ok = False
            b.add(f"{len(lesions)} lesions > {fmt(cnt)}: beyond SBRT for discrete lesions "
                  "(SIRT suits widespread disease)", "excludes", *tsrc(cnt), S.R_RADIATION,
                  criterion=cnt)
        if any(l.diameter_mm is None for l in lesions):
            ok = False
            b.need("metastases.lesions[].diameter_mm", "SBRT trial limit: each lesion < 6 cm")
        else:
            big = [l for l in lesions if l.diameter_mm >= th(size)]
            if big:
                ok = False
                b.add(f"{', '.join(f'{l.id} {num(l.diameter_mm)} mm' for l in big)} >= "
                      f"{fmt(size)}: beyond the SBRT trial limit", "excludes", *tsrc(size),
                      criterion=size)
        if ok:
            criteria_met = True
            b.key(f"{len(lesions)} discrete lesion(s), largest {num(f.largest_mm)} mm (<= "
                  f"{fmt(cnt).split()[0]} lesions, < {fmt(size)}): SBRT {th('sbrt_dose_min_gy'):g}-"
                  f"{th('sbrt_dose_max_gy'):g} Gy x {th('sbrt_fractions_min'):g}-"
                  f"{th('sbrt_fractions_max'):g} fractions", "supports", S.R_RADIATION,
                  *tsrc(cnt), criterion=cnt)
    if f.unresectable_extrahepatic:
        b.add("Unresectable extrahepatic disease: SBRT for symptoms or oligoprogression only",
              "against", S.R_ABSTRACT, S.JUDGEMENT, criterion="extrahepatic")
    if f.ecog is not None and f.ecog > th("ecog_max_surgery"):
        b.add(f"ECOG {f.ecog}: ablative-intent SBRT only if it serves symptom control",
              "against", S.JUDGEMENT, criterion="ecog_max_surgery")
    res, abl = ctx.get("resection"), ctx.get("ablation")
    route = surgical_route(ctx)
    if route is not None:
        b.add(f"{ctx[route].title} is recommended: SBRT is an alternative if surgery is "
              "declined", "caution", S.JUDGEMENT, criterion="resectable")
    near = [l.id for l in lesions if l.near_vessel]
    if near:
        b.add(f"{', '.join(near)} next to major vessels: SBRT avoids the heat-sink limit of "
              "thermal ablation", "info", S.R_RADIATION, S.R_ABLATION)
    recommend = (criteria_met and route is None and res is not None
                 and res.status == "not_suitable" and abl is not None
                 and abl.status != "recommended" and f.extrahepatic is False)
    return b.done(recommend, intent="local control")


def _symptomatic(f: Facts) -> list[str]:
    return [s for s in f.symptoms if any(k in s for k in LIVER_SYMPTOMS)]


def whole_liver_rt(f: Facts, ctx: Context) -> OptionAssessment:
    b = Builder("whole_liver_rt")
    open_ = curative_open(ctx)
    if open_:
        b.add(f"Curative options still open ({', '.join(open_)}): whole-liver RT is for "
              "palliation once cure is no longer the aim", "excludes", S.R_WLRT,
              criterion="palliative_setting")
    sym = _symptomatic(f)
    recommend = False
    if sym:
        b.add(f"Liver symptoms ({', '.join(sym)}): relief of pain 55%, nausea/vomiting 49%, "
              "anorexia 28%", "supports", S.R_WLRT, criterion="symptoms")
        recommend = True
    elif f.symptoms:
        b.add(f"Symptoms recorded ({', '.join(f.symptoms)}) are not those whole-liver RT "
              "relieves (pain, nausea/vomiting, anorexia)", "against", S.R_WLRT,
              criterion="symptoms")
    else:
        b.add("No liver symptoms recorded: whole-liver RT palliates pain, nausea and anorexia",
              "against", S.R_WLRT, criterion="symptoms")
        b.need("patient.symptoms", "symptoms from an enlarged liver make whole-liver RT useful")
    return b.done(recommend, intent="palliative")


def best_supportive_care(f: Facts, ctx: Context) -> OptionAssessment:
    b = Builder("best_supportive_care")
    k = "ecog_supportive"
    active = [c for c, o in ctx.items() if o.status != "not_suitable"]
    curative_recommended = [c for c in curative_open(ctx) if ctx[c].status == "recommended"]
    cp = f.score("child_pugh")
    decompensated = f.ascites == "refractory" or (cp is not None and cp.category == "C")
    recommend = False
    if f.ecog is not None and f.ecog >= th(k):
        b.add(f"ECOG {f.ecog} >= {fmt(k)}: supportive care leads the plan", "supports",
              *tsrc(k), S.R_CONCLUSIONS, criterion=k)
        recommend = True
    elif not active:
        b.add("No active treatment is suitable: supportive care", "supports", S.R_CONCLUSIONS,
              criterion="no_active_option")
        recommend = True
    elif decompensated and not curative_recommended:
        what = "Refractory ascites" if f.ascites == "refractory" else "Child-Pugh C"
        b.add(f"{what} (decompensated liver) without a recommended curative option: supportive "
              "care leads", "supports", S.R_CONCLUSIONS, S.JUDGEMENT, criterion="decompensated")
        recommend = True
    elif curative_recommended and f.ecog is not None:
        b.add(f"Curative-intent option recommended ({', '.join(curative_recommended)}) in a fit "
              "patient: supportive care accompanies treatment but is not the plan", "excludes",
              S.R_CONCLUSIONS, S.JUDGEMENT, criterion="curative_open")
    else:
        b.add("Symptom control and quality of life alongside any treatment under discussion",
              "supports", S.R_CONCLUSIONS)
        if f.ecog is None:
            b.need("patient.ecog", "ECOG 3-4 makes supportive care the plan")
    return b.done(recommend, intent="palliative")
