"""Systemic therapy: intent (perioperative, conversion, palliative) and agents by primary and
biomarkers. Statements from the review cite it; agent choices it does not make cite the
external guideline or trial (ESMO 2023 for metastatic colorectal cancer, and others).
"""

from __future__ import annotations

from livermet.decision.facts import Facts
from livermet.decision.findings import OptionAssessment
from livermet.decision.rules.base import S, Builder, Context, fmt, num, site_name, th


def _decompensated(f: Facts) -> bool:
    """Refractory ascites or Child-Pugh C (the gate the regional options use)."""
    cp = f.score("child_pugh")
    return f.ascites == "refractory" or (cp is not None and cp.category == "C")


def intent(f: Facts, ctx: Context) -> str:
    """perioperative | conversion | palliative, from the surgical options already assessed."""
    upfront = [c for c in ("resection", "pve_then_resection", "two_stage_hepatectomy",
                           "resection_with_ablation", "ablation") if c in ctx]
    if any(ctx[c].status == "recommended" for c in upfront):
        return "perioperative"
    if not f.lesions and not f.diffuse and not f.extrahepatic:
        return "undetermined"
    if f.unresectable_extrahepatic or f.diffuse:
        return "palliative"
    if f.ecog is not None and f.ecog >= th("ecog_supportive"):
        return "palliative"
    if _decompensated(f):
        # The liver, not the tumour, is what stands in the way: no conversion intent.
        return "palliative"
    if "resection" in ctx and ctx["resection"].status == "consider":
        return "perioperative"
    if f.extrahepatic is False:
        return "conversion"
    return "palliative"


def _colorectal(b: Builder, f: Facts, it: str) -> None:
    agents: list[str] = []
    b.add("Backbone: fluoropyrimidine (5-FU/folinic acid or capecitabine) with oxaliplatin "
          "and/or irinotecan (FOLFOX, FOLFIRI, FOLFOXIRI)", "info", S.R_CHEMO)
    agents.append("FOLFOX/FOLFIRI/FOLFOXIRI")
    if it == "perioperative":
        b.add("Perioperative FOLFOX around resection of colorectal liver metastases (EORTC "
              "40983); preoperative chemotherapy also tests chemosensitivity but adds "
              "postoperative morbidity", "info", S.NORDLINGER_2008, S.R_CHEMO)
    if f.msi:
        b.add("MSI-high/dMMR: first-line pembrolizumab (immunotherapy)", "supports",
              S.KEYNOTE177_2020, S.ESMO_MCRC_2023, criterion="msi_high")
        agents.insert(0, "pembrolizumab")
    elif f.msi is None:
        b.need("primary.biomarkers.msi_high", "MSI-high disease is treated with first-line "
               "immunotherapy")
    ras = f.ras
    # Around resection no biologic is added: cetuximab with perioperative chemotherapy
    # shortened progression-free survival in New EPOC (KRAS wild-type, operable CRLM); the
    # RAS/sidedness choice of biologic is for disease that is (or becomes) unresectable.
    periop = it == "perioperative"
    no_biologic = ("; around resection chemotherapy without a biologic (New EPOC: cetuximab "
                   "shortened progression-free survival)")
    periop_src = (S.NEW_EPOC_2014,) if periop else ()
    if ras is None:
        for field_, known in (("kras_mutant", f.kras), ("nras_mutant", f.nras)):
            if known is None:
                b.need(f"primary.biomarkers.{field_}", "anti-EGFR antibodies need RAS (KRAS "
                       "and NRAS) wild-type status")
        b.add("RAS status unknown: anti-EGFR antibodies cannot be chosen until KRAS/NRAS are "
              "tested", "against", S.ESMO_MCRC_2023, criterion="ras")
    elif ras == "mutant":
        b.add("RAS mutant: anti-EGFR antibodies (cetuximab, panitumumab) not suitable; "
              + ("bevacizumab with chemotherapy if unresectable" + no_biologic if periop
                 else "bevacizumab with chemotherapy"), "info", S.ESMO_MCRC_2023,
              S.R_BIOLOGICS, *periop_src, criterion="ras")
        if not periop:
            agents.append("bevacizumab")
    else:
        if f.side == "left" and f.braf:
            b.add("RAS wild-type, left-sided, but BRAF V600E: the benefit of first-line anti-EGFR "
                  "is limited; first-line biologic to discuss", "info", S.ESMO_MCRC_2023,
                  criterion="ras")
        elif f.side == "left" and f.msi:
            # MSI-high: immunotherapy is the first line; anti-EGFR stays the chemotherapy
            # partner if immunotherapy is not used or fails.
            b.add("RAS wild-type, left-sided primary: anti-EGFR antibody with doublet "
                  "chemotherapy when chemotherapy is used (after, or instead of, first-line "
                  "immunotherapy for MSI-high disease)", "info", S.ESMO_MCRC_2023,
                  S.R_BIOLOGICS, criterion="ras")
            agents.append("cetuximab/panitumumab (with chemotherapy)")
        elif f.side == "left" and periop:
            b.add("RAS wild-type, left-sided primary: anti-EGFR antibody (cetuximab or "
                  "panitumumab) with doublet chemotherapy in first line if unresectable"
                  + no_biologic, "info", S.ESMO_MCRC_2023, S.R_BIOLOGICS, *periop_src,
                  criterion="ras")
        elif f.side == "left":
            b.add("RAS wild-type, left-sided primary: anti-EGFR antibody (cetuximab or "
                  "panitumumab) with doublet chemotherapy in first line", "supports",
                  S.ESMO_MCRC_2023, S.R_BIOLOGICS, criterion="ras")
            agents.append("cetuximab/panitumumab")
        elif f.side == "right":
            b.add("RAS wild-type but right-sided primary: bevacizumab preferred in first line; "
                  "anti-EGFR not first line" + (no_biologic if periop else ""), "info",
                  S.ESMO_MCRC_2023, S.R_BIOLOGICS, *periop_src, criterion="ras")
            if not periop:
                agents.append("bevacizumab")
        else:
            b.need("primary.side", "anti-EGFR in first line only for left-sided RAS wild-type "
                   "primaries")
    if f.braf:
        b.key("BRAF V600E: poor prognosis; encorafenib + cetuximab after first line; excluded "
              "from transplant", "supports", S.BEACON_2019, S.ESMO_MCRC_2023, criterion="braf")
        agents.append("encorafenib + cetuximab (2nd line)")
    elif f.braf is None:
        b.need("primary.biomarkers.braf_v600e", "BRAF V600E changes targeted therapy and "
               "transplant eligibility")
    if f.her2:
        if ras == "wild_type":
            b.add("HER2-amplified, RAS wild-type: anti-HER2 therapy (e.g. tucatinib + "
                  "trastuzumab) after first line", "info", S.MOUNTAINEER_2023,
                  S.ESMO_MCRC_2023, criterion="her2")
            agents.append("anti-HER2 (later line)")
        else:
            b.add("HER2-amplified: anti-HER2 evidence is in RAS wild-type disease; check RAS",
                  "info", S.ESMO_MCRC_2023, criterion="her2")
    if it == "conversion":
        b.add("Liver-only disease not resectable now: conversion chemotherapy with a biologic, "
              "re-assessing resectability at each restaging (team)", "supports", S.R_TACE,
              S.ESMO_MCRC_2023)
    b.details["agents"] = agents


def systemic(f: Facts, ctx: Context) -> OptionAssessment:
    b = Builder("systemic_therapy")
    it = intent(f, ctx)
    b.details["intent"] = it
    recommend = True
    if f.unresectable_extrahepatic:
        b.add("Unresectable extrahepatic disease: systemic therapy is the better option",
              "supports", S.R_ABSTRACT, criterion="extrahepatic")
    site = f.site
    if site == "colorectal":
        _colorectal(b, f, it)
        if it == "perioperative":
            fong = f.score("fong")
            risk = (f" (Fong score {fong.value}: {fong.category} risk)"
                    if fong is not None and fong.category else " (e.g. by Fong score)")
            b.add("Resectable disease: perioperative chemotherapy to discuss; benefit depends on "
                  f"recurrence risk{risk}", "caution", S.NORDLINGER_2008, S.ESMO_MCRC_2023)
    elif site == "neuroendocrine":
        g3 = "net_high_grade_ki67"
        if f.differentiation == "poor" or (f.ki67 is not None and f.ki67 > th(g3)):
            b.add(f"Poorly differentiated or high-grade (Ki-67 above {fmt(g3)}) neuroendocrine "
                  "disease: somatostatin analogues are for well-differentiated tumours; "
                  "chemotherapy per neuroendocrine guidelines (team)", "caution", S.JUDGEMENT,
                  S.WHO_NET_2019, S.R_NET, criterion=g3)
        else:
            b.add("Well-differentiated NET: somatostatin analogue (octreotide LAR or lanreotide) "
                  "controls growth and hormonal syndromes", "supports", S.CLARINET_2014,
                  S.PROMID_2009, S.R_NET, criterion="net")
            b.details["agents"] = ["octreotide LAR", "lanreotide"]
            if f.differentiation is None and f.ki67 is None:
                b.need("primary.ki67_percent", "grade decides between somatostatin analogues "
                       "and chemotherapy")
    elif site == "gist":
        b.add("GIST: imatinib first, sunitinib after; combine with metastasectomy", "supports",
              S.R_GIST, criterion="gist")
        b.details["agents"] = ["imatinib", "sunitinib (2nd line)"]
    elif site == "breast":
        if f.her2:
            b.add("HER2-positive breast cancer (the subtype most often in the liver): "
                  "HER2-targeted therapy", "supports", S.R_BREAST, S.ABC5_2020, criterion="her2")
            b.details["agents"] = ["HER2-targeted therapy"]
        else:
            b.add("Breast: systemic therapy by receptor subtype (endocrine-based for "
                  "HR-positive, chemotherapy otherwise)", "supports", S.ABC5_2020, S.R_BREAST)
            if f.her2 is None:
                b.need("primary.biomarkers.her2_amplified", "HER2 status selects HER2-targeted "
                       "therapy")
            b.need("primary.hormone_receptor", "hormone-receptor status selects endocrine "
                   "therapy (not in the case model: record in primary.histology)")
    elif site == "uveal_melanoma":
        b.add("Uveal melanoma: tebentafusp for HLA-A*02:01-positive patients; liver-directed "
              "therapy carries much of the treatment", "caution", S.TEBENTAFUSP_2021, S.R_UVEAL)
        b.need("primary.hla_a0201", "HLA-A*02:01 status selects tebentafusp (record in "
               "primary.histology)")
        recommend = False
    elif site == "sarcoma":
        b.add("Sarcoma: relatively few systemic options", "caution", S.R_SARCOMA)
    elif site is None or f.primary_confirmed is False or site == "other":
        b.add("Primary unknown or unconfirmed: the regimen depends on the primary; complete "
              "its work-up", "against", S.R_PRIMARY_SOURCES)
        b.need("primary.site", "systemic therapy is chosen by primary")
    else:
        b.add(f"{site_name(site).capitalize()} primary: regimen per the tumour-specific "
              "guideline (not covered by the review)", "info", S.JUDGEMENT)
    if _decompensated(f):
        cp = f.score("child_pugh")
        what = ("refractory ascites" if f.ascites == "refractory"
                else f"Child-Pugh C ({num(cp.value)} points)")
        b.add(f"Decompensated liver ({what}): cytotoxic chemotherapy is poorly tolerated; "
              "systemic therapy only after hepatology and oncology review (livermet "
              "convention)", "against", S.JUDGEMENT, S.PUGH_1973, criterion="decompensated")
    kb = "bilirubin_caution_regional"
    if f.bilirubin is not None and f.bilirubin >= th(kb):
        b.add(f"Bilirubin {num(f.bilirubin)} mg/dL >= {fmt(kb)}: find the cause (e.g. biliary "
              "obstruction) and review doses of drugs cleared by the liver, such as irinotecan "
              "(livermet convention)", "caution", S.JUDGEMENT, criterion=kb)
    k = "ecog_max_systemic"
    if f.ecog is None:
        b.need("patient.ecog", "performance status decides whether combination chemotherapy "
               "is tolerable")
    elif f.ecog >= 4:
        b.add(f"ECOG {f.ecog}: not fit for systemic anticancer therapy", "excludes",
              S.JUDGEMENT, S.OKEN_1982, criterion=k)
    elif f.ecog > th(k):
        b.add(f"ECOG {f.ecog} > {fmt(k)}: intensive chemotherapy rarely tolerated; individual "
              "discussion (single agent or supportive care)", "against", S.JUDGEMENT,
              S.OKEN_1982, criterion=k)
    else:
        b.add(f"ECOG {f.ecog} <= {fmt(k)}", "supports", S.JUDGEMENT, S.OKEN_1982, criterion=k)
    return b.done(recommend, intent=it)
