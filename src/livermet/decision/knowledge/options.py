"""The treatment options: what each is, its rules in words, the outcomes the review quotes.

This is the readable half of the knowledge base; the executable half is
``livermet.decision.rules`` (one function per option, reading thresholds from
:mod:`.thresholds`). Each rule statement here names the thresholds it uses, so ``livermet
explain CODE`` shows the rule, its numbers and its sources together.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from livermet.calculators.base import Source
from livermet.decision.findings import Evidence, Note
from livermet.decision.knowledge import sources as S
from livermet.decision.knowledge.thresholds import THRESHOLDS

OPTION_CODES: tuple[str, ...] = (
    "resection", "pve_then_resection", "two_stage_hepatectomy", "alpps", "ablation",
    "resection_with_ablation", "transplant", "systemic_therapy", "hai", "tace", "deb_tace",
    "ihp", "sirt", "sbrt", "whole_liver_rt", "best_supportive_care",
)


@dataclass(frozen=True)
class Rule:
    """One rule in words: ``effect`` on the option, the thresholds it reads, its basis."""

    text: str
    effect: str  # excludes | against | caution | supports | recommends
    sources: tuple[Source, ...]
    basis: str  # review | primary | guideline | judgement
    thresholds: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "effect": self.effect,
            "basis": self.basis,
            "thresholds": {k: THRESHOLDS[k].to_dict() for k in self.thresholds},
            "sources": [S.label(s) for s in self.sources],
        }


@dataclass(frozen=True)
class OptionSpec:
    code: str
    title: str
    summary: str
    rules: tuple[Rule, ...]
    evidence: tuple[Evidence, ...] = ()
    notes: tuple[Note, ...] = ()
    sources: tuple[Source, ...] = ()
    inputs: tuple[str, ...] = ()  # case fields the rules read

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "summary": self.summary,
            "rules": [r.to_dict() for r in self.rules],
            "evidence": [e.to_dict() for e in self.evidence],
            "notes": [n.to_dict() for n in self.notes],
            "sources": [S.source_dict(s) for s in self.sources],
            "inputs": list(self.inputs),
        }


# Shared rules (the same gate applies to several options) ---------------------------------
EXTRAHEPATIC_CURATIVE = Rule(
    "Unresectable extrahepatic disease excludes curative liver-directed treatment (surgery, "
    "ablation, transplant); beyond the liver, systemic therapy is the better option.",
    "excludes", (S.R_ABSTRACT,), "review")
EXTRAHEPATIC_RESECTABLE = Rule(
    "Resectable extrahepatic disease: liver treatment only as part of a plan that clears all "
    "disease (team decision).", "caution", (S.R_ABSTRACT, S.JUDGEMENT), "judgement")
ECOG_SURGERY = Rule(
    "ECOG above the surgical limit excludes surgery, ablation and invasive regional therapy.",
    "excludes", (S.JUDGEMENT, S.OKEN_1982), "judgement", ("ecog_max_surgery",))
PATTERN_DIFFUSE = Rule(
    "A diffuse or miliary pattern (typical of NET and uveal melanoma) cannot be cleared "
    "locally: resection and ablation are not suitable.",
    "excludes", (S.R_NET, S.R_UVEAL), "review")
DECOMPENSATED_REGIONAL = Rule(
    "Refractory ascites or Child-Pugh C: arterial and regional liver therapies are not suitable; "
    "bilirubin at or above the limit needs hepatology review (liver failure is a reported "
    "complication of chemoembolisation).",
    "excludes", (S.JUDGEMENT, S.R_TACE, S.PUGH_1973), "judgement", ("bilirubin_caution_regional",))
RESECTABLE_FIRST = Rule(
    "Where a curative surgical route (resection, PVE then resection, two-stage hepatectomy) is "
    "recommended, palliative liver-directed therapy is not the plan; it is kept for "
    "unresectable disease.", "excludes",
    (S.R_HAI, S.R_TACE, S.JUDGEMENT), "review")

_SURGERY_INPUTS = (
    "metastases.lesions[].segments", "metastases.lesions[].diameter_mm", "metastases.pattern",
    "metastases.extrahepatic", "patient.ecog", "labs.bilirubin", "labs.icg_r15", "liver.ascites",
    "liver.cirrhosis", "liver.chemotherapy_weeks", "volumetry.remnant_ml",
    "volumetry.total_liver_ml", "volumetry.tumour_ml", "metastases.response_to_chemotherapy",
)

_SPECS = [
    OptionSpec(
        "resection", "Liver resection (anatomic or parenchyma-sparing)",
        "The only curative treatment; parenchyma-sparing multiple metastasectomy is the standard "
        "for colorectal metastases. Goal: complete resection with a margin of at least 1 mm.",
        (
            EXTRAHEPATIC_CURATIVE, EXTRAHEPATIC_RESECTABLE, ECOG_SURGERY, PATTERN_DIFFUSE,
            Rule("Refractory ascites excludes resection (Makuuchi).", "excludes",
                 (S.MAKUUCHI_1993,), "primary"),
            Rule("Total bilirubin at or above the limit excludes resection (Makuuchi).", "excludes",
                 (S.MAKUUCHI_1993,), "primary", ("bilirubin_no_resection",)),
            Rule("The Makuuchi category (bilirubin, ICG-R15) sets the largest safe resection.",
                 "caution", (S.MAKUUCHI_1993,), "primary", ("icg_r15_normal",)),
            Rule("Child-Pugh C excludes resection; Child-Pugh B needs hepatology review.",
                 "excludes", (S.JUDGEMENT, S.PUGH_1973), "judgement"),
            Rule("The sFLR must reach the minimum for the liver's condition: normal 20%, after "
                 "prolonged (> 12 weeks) chemotherapy 30%, fibrosis/cirrhosis 40%. Values between "
                 "these and the review's stricter figures (25% insufficient, 40% with "
                 "chemotherapy toxicity, 50% decompensated) are cautions.",
                 "against", (S.KISHI_2009, S.SHINDOH_2013_CHEMO, S.KUBOTA_1997, S.R_FLR_MIN,
                             S.R_FLR_25), "primary",
                 ("sflr_min_normal", "sflr_min_chemotherapy", "sflr_min_cirrhosis",
                  "sflr_review_insufficient", "sflr_review_chemotherapy",
                  "sflr_review_decompensated", "chemotherapy_prolonged_weeks")),
            Rule("ICGK-F below the limit: high mortality after hepatectomy.", "against",
                 (S.NAGINO_2010,), "primary", ("icgk_f_min",)),
            Rule("At least two tumour-free segments must remain (remnant with inflow, outflow and "
                 "biliary drainage); otherwise not in one stage.", "against",
                 (S.ADAMS_2013, S.R_FLR), "primary", ("free_segments_min",)),
            Rule("Progression on chemotherapy: resection is deferred (worse outcome); the review "
                 "notes progression during neoadjuvant chemotherapy as the main concern.",
                 "against", (S.R_CHEMO, S.ADAM_2004), "primary"),
            Rule("Primary: standard for colorectal; with TKI for GIST; selected NET, sarcoma and "
                 "breast metastases (favourable biology) after team review.",
                 "supports", (S.R_ANATOMY, S.R_GIST, S.R_SARCOMA, S.R_NET, S.R_BREAST), "review"),
            Rule("Recommended when: liver disease clearable in one stage, adequate FLR for the "
                 "liver's condition, bilirubin below the limit, no refractory ascites, ECOG within "
                 "the limit, no unresectable extrahepatic disease, not progressing.",
                 "recommends", (S.R_FLR_MIN, S.MAKUUCHI_1993, S.R_ABSTRACT), "review"),
        ),
        evidence=(
            Evidence("5-year survival after resection of all detectable liver metastases up to 40%",
                     S.R_ABSTRACT),
            Evidence("only about 25% of patients with liver metastases are candidates for resection",
                     S.R_ABSTRACT),
            Evidence("operative mortality about 1-3% in large centres; main risks bleeding and "
                     "post-hepatectomy liver failure", S.R_SAFETY),
            Evidence("parenchyma-sparing resection does not worsen long-term oncological results "
                     "and keeps repeat resection possible", S.R_ANATOMY_SPARING),
            Evidence("with normal liver function up to 80% of the liver can be resected",
                     S.R_PHYSIOLOGY_80),
        ),
        notes=(
            Note("Margin goal: at least 1 mm (R0).", S.R_CONCLUSIONS),
            Note("Parenchymal transection: crush-clamp (simple, quick, cheap); CUSA gives a clean "
                 "plane near major vessels, in cirrhotic or normal liver, with low blood loss and "
                 "bile leak but no haemostasis.", S.R_TECHNIQUE),
            Note("LigaSure vessel sealing closes vessels up to 7 mm in diameter.", S.R_LIGASURE),
            Note("Radiofrequency-assisted resection: charring raises the risk of site infection.",
                 S.R_RF_RESECTION),
            Note("Intra-operative ultrasound maps lesions; finds new lesions in 16% of patients.",
                 S.R_IOUS),
        ),
        sources=(S.R_ABSTRACT, S.R_ANATOMY, S.R_FLR_MIN, S.R_SAFETY),
        inputs=_SURGERY_INPUTS,
    ),
    OptionSpec(
        "pve_then_resection", "Portal vein embolisation (or ligation), then resection",
        "FLR augmentation when resection is technically and oncologically feasible but the "
        "remnant is too small; the remnant is re-measured and the kinetic growth rate decides.",
        (
            EXTRAHEPATIC_CURATIVE, ECOG_SURGERY, PATTERN_DIFFUSE,
            Rule("Indicated when the sFLR is below the minimum for the liver's condition (the "
                 "review: a remnant of 25% is insufficient); not needed when the FLR is adequate.",
                 "recommends", (S.R_FLR_25, S.R_PVE, S.R_PHYSIOLOGY_PVE), "review",
                 ("sflr_review_insufficient",)),
            Rule("After PVE: KGR below the limit means a higher risk of liver insufficiency "
                 "(21.6% vs 0%); consider ALPPS or other strategies.", "against",
                 (S.SHINDOH_2013_KGR,), "primary", ("kgr_min",)),
            Rule("Same liver-function exclusions as resection (refractory ascites, bilirubin).",
                 "excludes", (S.MAKUUCHI_1993,), "primary", ("bilirubin_no_resection",)),
        ),
        evidence=(
            Evidence("PVE diverts portal flow to the FLR, causing hypertrophy (Makuuchi's "
                     "strategy)", S.R_PVE),
            Evidence("KGR < 2%/week: post-hepatectomy liver insufficiency 21.6% vs 0%",
                     S.SHINDOH_2013_KGR),
        ),
        sources=(S.R_PVE, S.R_FLR_25, S.SHINDOH_2013_KGR),
        inputs=_SURGERY_INPUTS + ("volumetry.remnant_ml_after_pve", "volumetry.weeks_since_pve"),
    ),
    OptionSpec(
        "two_stage_hepatectomy", "Two-stage hepatectomy",
        "For advanced multifocal (bilobar) disease: first stage clears the future remnant "
        "(resection and/or ablation), then PVE; if the remnant hypertrophies, the second stage "
        "removes the rest.",
        (
            EXTRAHEPATIC_CURATIVE, ECOG_SURGERY, PATTERN_DIFFUSE,
            Rule("Suits bilobar multifocal disease that one operation cannot clear with an "
                 "adequate remnant.", "recommends", (S.R_TWO_STAGE,), "review"),
            Rule("Single lesion, unilobar disease, or bilobar disease clearable in one stage with "
                 "an adequate FLR: not needed.", "excludes", (S.R_TWO_STAGE, S.JUDGEMENT),
                 "judgement"),
            Rule("Every segment involved: whether staged clearance is possible is the surgeon's "
                 "call (never recommended outright).", "caution", (S.R_TWO_STAGE, S.JUDGEMENT),
                 "judgement", ("free_segments_min",)),
        ),
        evidence=(Evidence("second stage completed only when post-PVE imaging confirms "
                           "satisfactory hypertrophy", S.R_TWO_STAGE),),
        sources=(S.R_TWO_STAGE,),
        inputs=_SURGERY_INPUTS,
    ),
    OptionSpec(
        "alpps", "ALPPS (portal vein ligation with liver partition for staged hepatectomy)",
        "Faster hypertrophy than PVE when the remnant is too small, including after PVE with "
        "insufficient growth; higher morbidity.",
        (
            EXTRAHEPATIC_CURATIVE, ECOG_SURGERY, PATTERN_DIFFUSE,
            Rule("Considered when the FLR is inadequate, or the KGR after PVE is below the limit.",
                 "supports", (S.R_FLR_25, S.SCHNITZBAUER_2012, S.SHINDOH_2013_KGR), "primary",
                 ("kgr_min",)),
            Rule("Not needed when the FLR is adequate.", "excludes", (S.R_FLR_25,), "review"),
            Rule("Never recommended outright: a specialist-centre option to consider.",
                 "caution", (S.JUDGEMENT,), "judgement"),
        ),
        evidence=(Evidence("the review lists portal vein ligation for staged hepatectomy among "
                           "the FLR-augmentation options", S.R_FLR_25),),
        sources=(S.R_FLR_25, S.SCHNITZBAUER_2012),
        inputs=_SURGERY_INPUTS,
    ),
    OptionSpec(
        "ablation", "Thermal ablation (RFA, MWA, cryoablation) or ethanol injection",
        "For isolated unresectable metastases without extrahepatic disease, recurrence after "
        "resection, or patients unfit for surgery; MWA near large vessels (less heat sink).",
        (
            Rule("Extrahepatic disease: not suitable for regional ablation.", "excludes",
                 (S.R_ABSTRACT,), "review"),
            ECOG_SURGERY, PATTERN_DIFFUSE, DECOMPENSATED_REGIONAL,
            Rule("Size: best local control up to 3 cm; between 3 and 7 cm only with caution "
                 "(the review reports a 7-cm tumour ablated in 30 minutes); above 7 cm not "
                 "suitable.", "excludes", (S.MULIER_2005, S.R_ABLATION), "primary",
                 ("ablation_best_mm", "ablation_max_mm")),
            Rule("Number: at most as many lesions as the randomised ablation trial treated.",
                 "against", (S.CLOCC_2017,), "primary", ("ablation_max_count",)),
            Rule("Lesion next to a major vessel: prefer microwave ablation (little heat-sink "
                 "effect).", "caution", (S.R_ABLATION,), "review"),
            Rule("Recurrence after previous liver resection: ablation is suitable.", "supports",
                 (S.R_ABLATION_RECURRENCE,), "review"),
            Rule("Recommended when: liver-only disease, every lesion within the best-control "
                 "size, count within the limit, and resection not suitable or recurrence after "
                 "resection.", "recommends", (S.R_ABSTRACT, S.MULIER_2005), "primary",
                 ("ablation_best_mm",)),
        ),
        evidence=(
            Evidence("RFA combined with TACE in non-surgical candidates: local control 92%, "
                     "2-year overall survival 88%", S.R_TACE),
            Evidence("coagulative necrosis at 50-52 C within 4-6 minutes", S.R_ABLATION),
        ),
        notes=(
            Note("MWA heats larger volumes faster with little heat loss to nearby vessels; "
                 "reports remain limited.", S.R_ABLATION),
            Note("Cryoablation freezes to -190 C, monitored by intra-operative ultrasound; "
                 "percutaneous ethanol injection dehydrates and denatures tumour cells.",
                 S.R_ABLATION),
            Note("Laparoscopic or open approaches localise lesions better and allow monitoring "
                 "of the ablation.", S.R_ABLATION),
        ),
        sources=(S.R_ABSTRACT, S.R_ABLATION, S.R_ABLATION_RECURRENCE),
        inputs=("metastases.lesions[].diameter_mm", "metastases.lesions[].near_major_vessel",
                "metastases.extrahepatic", "metastases.recurrence_after_resection",
                "metastases.pattern", "patient.ecog"),
    ),
    OptionSpec(
        "resection_with_ablation", "Resection combined with ablation",
        "Parenchyma-sparing strategy for multiple metastases: resect the larger ones, ablate "
        "small deep ones in the remnant.",
        (
            Rule("Extrahepatic disease: not suitable for regional ablation.", "excludes",
                 (S.R_ABSTRACT,), "review"),
            ECOG_SURGERY, PATTERN_DIFFUSE,
            Rule("Needs at least two lesions, at least one small enough to ablate well (single "
                 "lesion or none <= 3 cm: not suitable).",
                 "supports", (S.R_FLR_MIN, S.CLOCC_2017, S.MULIER_2005), "primary",
                 ("ablation_best_mm",)),
            Rule("Same liver-function exclusions as resection.", "excludes", (S.MAKUUCHI_1993,),
                 "primary", ("bilirubin_no_resection",)),
        ),
        evidence=(Evidence("thermal ablation is an adjunct of parenchyma-sparing metastasectomy "
                           "when tumours are large or multifocal", S.R_FLR_MIN),
                  Evidence("two-stage hepatectomy uses resection and ablation to clear the "
                           "future remnant", S.R_TWO_STAGE)),
        sources=(S.R_FLR_MIN, S.CLOCC_2017),
        inputs=_SURGERY_INPUTS,
    ),
    OptionSpec(
        "transplant", "Liver transplantation",
        "Neuroendocrine metastases by the Milan criteria as the review lists them; colorectal "
        "metastases by TRANSMET eligibility. Not established for other primaries.",
        (
            Rule("NET (Milan): Ki-67 < 10% (well differentiated), liver involvement < 50%, "
                 "age < 55 (relative: 55-59 to consider, >= 60 not suitable), primary resected "
                 "with stable disease >= 6 months, portal-drained primary, no extrahepatic "
                 "disease. Recommended when all are met and the liver disease is unresectable.",
                 "excludes", (S.R_TRANSPLANT, S.MAZZAFERRO_2007), "review",
                 ("milan_ki67_max", "milan_involvement_max", "milan_age_max",
                  "milan_age_relative_max", "milan_stable_months")),
            Rule("Colorectal (TRANSMET): age 18-65, ECOG 0-1, resected primary without BRAF "
                 "mutation, permanently unresectable liver-only disease, response or stability "
                 "on chemotherapy >= 3 months and <= 3 lines. Resection or PVE still under "
                 "discussion: not (yet) suitable.", "excludes", (S.TRANSMET_2024,),
                 "primary", ("transmet_age_min", "transmet_age_max", "ecog_max_transplant",
                             "transmet_chemo_months_min", "transmet_lines_max")),
            Rule("Other primaries: no transplant criteria in the review.", "excludes",
                 (S.R_TRANSPLANT,), "review"),
        ),
        evidence=(Evidence("the review: transplant is the only option for patients whose NET "
                           "liver disease cannot otherwise be treated", S.R_TRANSPLANT),),
        notes=(Note("Oslo score (colorectal) is shown for prognosis only.", S.OSLO),),
        sources=(S.R_TRANSPLANT, S.MAZZAFERRO_2007, S.TRANSMET_2024),
        inputs=("primary.site", "primary.ki67_percent", "patient.age", "patient.ecog",
                "metastases.liver_involvement_percent", "primary.resected",
                "primary.portal_drainage", "metastases.stable_months",
                "metastases.extrahepatic", "primary.biomarkers.braf_v600e",
                "liver.chemotherapy_lines", "metastases.response_to_chemotherapy"),
    ),
    OptionSpec(
        "systemic_therapy", "Systemic therapy (chemotherapy, biological and targeted agents)",
        "Perioperative, conversion or palliative; agents chosen by primary and biomarkers.",
        (
            Rule("Colorectal: fluoropyrimidine with oxaliplatin and/or irinotecan (FOLFOX, "
                 "FOLFIRI, FOLFOXIRI); bevacizumab or cetuximab in first line.", "supports",
                 (S.R_CHEMO, S.R_BIOLOGICS), "review"),
            Rule("Anti-EGFR (cetuximab, panitumumab) only for RAS wild-type, in first line for "
                 "left-sided primaries.", "supports", (S.ESMO_MCRC_2023,), "guideline"),
            Rule("Around resection of resectable metastases: chemotherapy without a biologic "
                 "(cetuximab shortened progression-free survival in New EPOC).", "caution",
                 (S.NEW_EPOC_2014, S.ESMO_MCRC_2023), "primary"),
            Rule("BRAF V600E: encorafenib + cetuximab after first line.", "supports",
                 (S.ESMO_MCRC_2023, S.BEACON_2019), "guideline"),
            Rule("MSI-high / dMMR: first-line pembrolizumab.", "supports",
                 (S.ESMO_MCRC_2023, S.KEYNOTE177_2020), "guideline"),
            Rule("HER2-amplified (RAS wild-type): anti-HER2 therapy in later lines.", "supports",
                 (S.ESMO_MCRC_2023, S.MOUNTAINEER_2023), "guideline"),
            Rule("GIST: imatinib, then sunitinib; resection of liver metastases can be more "
                 "aggressive with TKI.", "supports", (S.R_GIST,), "review"),
            Rule("Well-differentiated NET: somatostatin analogues (octreotide LAR, lanreotide).",
                 "supports", (S.CLARINET_2014, S.PROMID_2009, S.R_NET), "primary"),
            Rule("Breast: by subtype (HER2-targeted for HER2-positive, endocrine for HR-positive).",
                 "supports", (S.ABC5_2020, S.R_BREAST), "guideline"),
            Rule("Uveal melanoma: tebentafusp for HLA-A*02:01-positive patients.", "supports",
                 (S.TEBENTAFUSP_2021,), "primary"),
            Rule("Sarcoma: few systemic options; liver-directed therapy for favourable biology.",
                 "supports", (S.R_SARCOMA,), "review"),
            Rule("Extrahepatic disease: systemic therapy is the better option.", "recommends",
                 (S.R_ABSTRACT,), "review"),
            Rule("ECOG 3: only after individual discussion; ECOG 4: not suitable.", "excludes",
                 (S.JUDGEMENT, S.OKEN_1982), "judgement", ("ecog_max_systemic",)),
        ),
        evidence=(
            Evidence("preoperative chemotherapy can limit progression, treat micrometastases and "
                     "test chemosensitivity, but raises postoperative morbidity", S.R_CHEMO),
            Evidence("adding FOLFOX and bevacizumab to chemoembolisation increased conversion to "
                     "resection", S.R_TACE),
            Evidence("immunotherapy with chemotherapy has an additive effect", S.R_ABSTRACT),
        ),
        sources=(S.R_CHEMO, S.R_BIOLOGICS, S.ESMO_MCRC_2023),
        inputs=("primary.site", "primary.side", "primary.biomarkers", "patient.ecog",
                "metastases.extrahepatic"),
    ),
    OptionSpec(
        "hai", "Hepatic arterial infusion chemotherapy",
        "High intrahepatic drug concentrations (FUDR) with systemic chemotherapy, for liver-only "
        "or liver-dominant colorectal disease unsuitable for resection.",
        (
            RESECTABLE_FIRST, ECOG_SURGERY, DECOMPENSATED_REGIONAL,
            Rule("Review evidence is for colorectal metastases; other primaries not suitable "
                 "outside trials.", "excludes", (S.R_HAI,), "review"),
            Rule("Unresectable extrahepatic disease: liver-directed therapy only if the liver "
                 "dominates.", "against", (S.R_ABSTRACT, S.JUDGEMENT), "judgement"),
        ),
        evidence=(Evidence("response up to 80% as first-line and 50% as second-line therapy "
                           "(HAI FUDR with systemic chemotherapy)", S.R_HAI),),
        notes=(Note("Catheter/pump placement is technically demanding; limited to experienced "
                    "centres.", S.R_HAI),),
        sources=(S.R_HAI,),
        inputs=("primary.site", "metastases.extrahepatic", "patient.ecog", "labs.bilirubin",
                "liver.ascites"),
    ),
    OptionSpec(
        "tace", "Transarterial chemoembolisation (conventional)",
        "Palliative arterial chemotherapy with embolic particles; limited role in colorectal "
        "metastases.",
        (RESECTABLE_FIRST, ECOG_SURGERY, DECOMPENSATED_REGIONAL,
         Rule("Unresectable extrahepatic disease: liver-directed therapy only if the liver "
              "dominates.", "against", (S.R_ABSTRACT, S.JUDGEMENT), "judgement")),
        evidence=(
            Evidence("salvage TACE median survival 14 months (mitomycin C) and 11 months "
                     "(cisplatin/doxorubicin)", S.R_TACE),
            Evidence("RFA + TACE in non-surgical candidates: local control 92%, 2-year OS 88%",
                     S.R_TACE),
            Evidence("post-embolisation syndrome in about 2/3 of patients; also liver abscess, "
                     "liver failure, peptic ulcer", S.R_TACE),
        ),
        sources=(S.R_TACE,),
        inputs=("metastases.extrahepatic", "patient.ecog", "labs.bilirubin", "liver.ascites"),
    ),
    OptionSpec(
        "deb_tace", "Drug-eluting bead TACE (DEBIRI: irinotecan beads)",
        "Controlled intratumoral release (irinotecan for colorectal: DEBIRI; doxorubicin "
        "otherwise); better tolerated than conventional TACE.",
        (RESECTABLE_FIRST, ECOG_SURGERY, DECOMPENSATED_REGIONAL,
         Rule("Unresectable extrahepatic disease: liver-directed therapy only if the liver "
              "dominates.", "against", (S.R_ABSTRACT, S.JUDGEMENT), "judgement")),
        evidence=(
            Evidence("fewer patients (30%) had drug-related side effects than with TACE, mostly "
                     "minor", S.R_TACE),
            Evidence("adding FOLFOX and bevacizumab increased conversion to resection", S.R_TACE),
        ),
        sources=(S.R_TACE,),
        inputs=("primary.site", "metastases.extrahepatic", "patient.ecog", "labs.bilirubin"),
    ),
    OptionSpec(
        "ihp", "Isolated hepatic perfusion (open or percutaneous)",
        "Melphalan (+/- TNF) perfused through the hepatic artery with caval outflow filtered; "
        "for liver-dominant disease such as uveal melanoma.",
        (RESECTABLE_FIRST, ECOG_SURGERY, DECOMPENSATED_REGIONAL,
         Rule("Uveal melanoma with liver-dominant, unresectable disease: recommended (the "
              "review gives IHP's response rate without naming a primary; the uveal "
              "indication is the SCANDIUM trial's).",
              "recommends", (S.R_UVEAL, S.R_IHP, S.SCANDIUM_2023), "primary"),
         Rule("Extrahepatic disease: not suitable (the procedure treats the liver only).",
              "excludes", (S.R_IHP, S.JUDGEMENT), "judgement")),
        evidence=(Evidence("objective radiographic response 60-70% with TNF and melphalan",
                           S.R_IHP),
                  Evidence("the liver is the main site of metastasis in 70-90% of uveal melanoma",
                           S.R_UVEAL),
                  Evidence("SCANDIUM (uveal melanoma, IHP vs best alternative care): response 40% "
                           "vs 4.5%, median progression-free survival 7.4 vs 3.3 months (HR 0.21)",
                           S.SCANDIUM_2023),
                  Evidence("SCANDIUM final results: 24-month overall survival 46.5% vs 29.5%, "
                           "P = 0.12 (the primary end point was not met)", S.SCANDIUM_2025)),
        notes=(Note("Needs haemodynamic monitoring and support (invasive vascular access).",
                    S.R_IHP),),
        sources=(S.R_IHP, S.R_UVEAL),
        inputs=("primary.site", "metastases.extrahepatic", "patient.ecog"),
    ),
    OptionSpec(
        "sirt", "Selective internal radiation therapy (Y-90 microspheres)",
        "Arterial Y-90 glass or resin microspheres for larger, widespread liver disease.",
        (RESECTABLE_FIRST, ECOG_SURGERY, DECOMPENSATED_REGIONAL,
         Rule("Suits larger and more widespread liver involvement (multiple or diffuse "
              "lesions).", "supports", (S.R_RADIATION,), "review"),
         Rule("Unresectable extrahepatic disease: liver-directed therapy only if the liver "
              "dominates.", "against", (S.R_ABSTRACT, S.JUDGEMENT), "judgement")),
        evidence=(Evidence("SIRT can treat larger, more widespread liver involvement; SBRT "
                           "suits discrete lesions", S.R_RADIATION),),
        notes=(Note("Needs a lung-shunt study (sirt_bsa / sirt_mird calculators): lung shunt "
                    "> 20% do not treat (resin).", S.SIRTEX_US_CONTRAINDICATIONS),),
        sources=(S.R_RADIATION,),
        inputs=("metastases.pattern", "metastases.lesions", "metastases.extrahepatic",
                "patient.ecog", "labs.bilirubin"),
    ),
    OptionSpec(
        "sbrt", "Stereotactic body radiotherapy",
        "Ablative-intent non-invasive local treatment of a few discrete lesions, 6-10 Gy per "
        "fraction over 3-5 fractions.",
        (PATTERN_DIFFUSE, DECOMPENSATED_REGIONAL,
         Rule("Discrete lesions: 1-3 lesions, each below 6 cm.", "excludes",
              (S.R_RADIATION, S.RUSTHOVEN_2009), "primary", ("sbrt_max_count", "sbrt_max_mm")),
         Rule("An alternative where resection and ablation are unsuitable (e.g. next to major "
              "vessels).", "supports", (S.R_RADIATION, S.JUDGEMENT), "judgement"),
         Rule("Unresectable extrahepatic disease: SBRT only for symptoms or oligoprogression.",
              "against", (S.R_ABSTRACT, S.JUDGEMENT), "judgement")),
        evidence=(Evidence("6-10 Gy per fraction over 3-5 fractions gives a high biologically "
                           "effective dose", S.R_RADIATION),),
        notes=(Note("Motion management: breath-hold or abdominal compression.", S.R_RADIATION),
               Note("Dose check: `livermet calc bed dose_per_fraction_gy=... fractions=...`.",
                    S.R_RADIATION)),
        sources=(S.R_RADIATION,),
        inputs=("metastases.lesions", "metastases.pattern", "metastases.extrahepatic"),
    ),
    OptionSpec(
        "whole_liver_rt", "Palliative whole-liver radiotherapy",
        "Palliation of pain, nausea and anorexia from an enlarged liver when cure is no longer "
        "the aim.",
        (Rule("Palliative setting with liver symptoms (pain, nausea/vomiting, anorexia): "
              "recommended.", "recommends", (S.R_WLRT,), "review"),
         Rule("Not the plan while curative treatment is possible.", "excludes",
              (S.R_WLRT,), "review")),
        evidence=(Evidence("at least partial relief: abdominal pain 55%, nausea and vomiting "
                           "49%, anorexia 28%", S.R_WLRT),),
        sources=(S.R_WLRT,),
        inputs=("patient.symptoms", "metastases.pattern", "metastases.extrahepatic"),
    ),
    OptionSpec(
        "best_supportive_care", "Best supportive care",
        "Symptom control and quality of life (psychological, psychosocial and spiritual care); "
        "runs alongside every plan, leads it when active treatment cannot help.",
        (Rule("ECOG at or above the limit, no active option suitable, or a decompensated liver "
              "(refractory ascites, Child-Pugh C) without a recommended curative option: "
              "recommended.",
              "recommends", (S.R_CONCLUSIONS, S.JUDGEMENT, S.OKEN_1982), "judgement",
              ("ecog_supportive",)),
         Rule("A curative option is open and the patient is fit: not the plan (supportive care "
              "still accompanies treatment).", "excludes", (S.R_CONCLUSIONS, S.JUDGEMENT),
              "judgement")),
        evidence=(Evidence("more than half of patients die of metastatic liver disease",
                           S.R_ABSTRACT),),
        notes=(Note("Focus on present quality of life; adaptation, integration, psychological, "
                    "psychosocial and spiritual care.", S.R_CONCLUSIONS),),
        sources=(S.R_CONCLUSIONS,),
        inputs=("patient.ecog",),
    ),
]

OPTION_SPECS: Mapping[str, OptionSpec] = MappingProxyType({s.code: s for s in _SPECS})

if tuple(OPTION_SPECS) != OPTION_CODES:  # pragma: no cover - a broken knowledge base
    raise RuntimeError("OPTION_SPECS must list every option code, in order")
