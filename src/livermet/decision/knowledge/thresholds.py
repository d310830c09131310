"""Named thresholds used by the decision rules, each beside its source.

Rule code never holds a clinical number: it reads ``THRESHOLDS[key].value``. A hospital that
wants another cut-off changes it here (and the knowledge version), in one reviewed place.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from livermet.calculators.base import Source
from livermet.decision.knowledge import sources as S


@dataclass(frozen=True)
class Threshold:
    """One cut-off: ``value`` in ``unit``, what it means, where it comes from.

    ``basis`` is review | primary | guideline | judgement (see :mod:`.sources`).
    ``also`` records what another source says where sources disagree.
    """

    key: str
    value: float
    unit: str
    meaning: str
    sources: tuple[Source, ...]
    basis: str
    also: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "unit": self.unit,
            "meaning": self.meaning,
            "basis": self.basis,
            "also": self.also,
            "sources": [S.source_dict(s) for s in self.sources],
        }


_ALL = [
    # --- Future liver remnant -----------------------------------------------------------
    Threshold("sflr_min_normal", 20.0, "%",
              "minimum sFLR for a major hepatectomy in a normal liver",
              (S.KISHI_2009, S.R_FLR_MIN), "primary",
              also="the review: in a normal liver the ratio can be as low as 20% [38]"),
    Threshold("sflr_min_chemotherapy", 30.0, "%",
              "minimum sFLR after prolonged preoperative chemotherapy",
              (S.SHINDOH_2013_CHEMO,), "primary",
              also="the review is stricter: chemotherapy-induced hepatotoxicity may require 40% [38]"),
    Threshold("sflr_min_cirrhosis", 40.0, "%",
              "minimum sFLR with fibrosis or cirrhosis",
              (S.KUBOTA_1997,), "primary",
              also="the review: in severely decompensated (e.g. cirrhotic) livers the minimum can be 50% [38]"),
    Threshold("sflr_review_chemotherapy", 40.0, "%",
              "the review's stricter minimum with chemotherapy-induced hepatotoxicity (caution band)",
              (S.R_FLR_MIN,), "review"),
    Threshold("sflr_review_decompensated", 50.0, "%",
              "the review's minimum in severely decompensated livers (caution band)",
              (S.R_FLR_MIN,), "review"),
    Threshold("sflr_review_insufficient", 25.0, "%",
              "the review calls a remnant of 25% of the liver insufficient: consider FLR augmentation",
              (S.R_FLR_25,), "review"),
    Threshold("chemotherapy_prolonged_weeks", 12.0, "weeks",
              "chemotherapy longer than this counts as prolonged (sFLR minimum 30%)",
              (S.SHINDOH_2013_CHEMO,), "primary"),
    Threshold("kgr_min", 2.0, "%/week",
              "kinetic growth rate after PVE below which post-hepatectomy liver insufficiency is "
              "more frequent (21.6% vs 0%)",
              (S.SHINDOH_2013_KGR,), "primary"),
    Threshold("resection_max_fraction", 80.0, "%",
              "with normal liver function up to 80% of the liver can be resected",
              (S.R_PHYSIOLOGY_80,), "review"),
    Threshold("free_segments_min", 2.0, "segments",
              "segments free of tumour needed to leave a remnant (two contiguous segments with "
              "inflow, outflow and biliary drainage)",
              (S.ADAMS_2013, S.R_FLR), "primary",
              also="the review asks for a remnant that is well vascularised with venous and biliary drainage [37]"),
    # --- Liver function -----------------------------------------------------------------
    Threshold("bilirubin_no_resection", 2.0, "mg/dL",
              "total bilirubin at or above which Makuuchi's criteria exclude resection",
              (S.MAKUUCHI_1993,), "primary"),
    Threshold("bilirubin_caution_regional", 2.0, "mg/dL",
              "bilirubin at or above which arterial and regional liver therapies need hepatology "
              "review (the Makuuchi limit reused)",
              (S.JUDGEMENT, S.MAKUUCHI_1993, S.R_TACE), "judgement",
              also="the review lists liver failure among the complications of chemoembolisation [49]"),
    Threshold("icgk_f_min", 0.05, "1/min",
              "ICGK-F below which hepatectomy mortality is high",
              (S.NAGINO_2010,), "primary"),
    Threshold("icg_r15_normal", 10.0, "%",
              "ICG-R15 below this is normal",
              (S.MAKUUCHI_1993,), "primary"),
    # --- Performance status -------------------------------------------------------------
    Threshold("ecog_max_surgery", 2.0, "ECOG",
              "highest ECOG for liver surgery, ablation and invasive regional therapy",
              (S.JUDGEMENT, S.OKEN_1982), "judgement",
              also="ECOG 3 = in bed or chair more than half the waking day (Oken 1982); the review gives no limit"),
    Threshold("ecog_max_transplant", 1.0, "ECOG",
              "highest ECOG for liver transplantation in colorectal metastases (TRANSMET)",
              (S.TRANSMET_2024,), "primary"),
    Threshold("ecog_max_systemic", 2.0, "ECOG",
              "highest ECOG for combination chemotherapy; ECOG 3 only after individual discussion",
              (S.JUDGEMENT, S.OKEN_1982), "judgement"),
    Threshold("ecog_supportive", 3.0, "ECOG",
              "ECOG at or above which best supportive care leads the plan",
              (S.JUDGEMENT, S.OKEN_1982), "judgement"),
    # --- Ablation -----------------------------------------------------------------------
    Threshold("ablation_best_mm", 30.0, "mm",
              "largest diameter with the best local control after thermal ablation",
              (S.MULIER_2005,), "primary",
              also="the review gives no size limit for best control"),
    Threshold("ablation_max_mm", 70.0, "mm",
              "the largest tumour the review reports ablated (7 cm in 30 minutes)",
              (S.R_ABLATION,), "review"),
    Threshold("ablation_max_count", 9.0, "lesions",
              "most liver metastases treated in the randomised ablation trial (fewer than 10)",
              (S.CLOCC_2017,), "primary",
              also="the review gives no number limit"),
    # --- Transplantation (Milan-NET as the review lists them; TRANSMET) -----------------
    Threshold("milan_ki67_max", 10.0, "%",
              "Ki-67 must be below this (well-differentiated NET)",
              (S.R_TRANSPLANT, S.MAZZAFERRO_2007), "review"),
    Threshold("milan_involvement_max", 50.0, "%",
              "liver involvement must be below this",
              (S.R_TRANSPLANT, S.MAZZAFERRO_2007), "review"),
    Threshold("milan_age_max", 55.0, "years",
              "age must be below this (relative; later series used 60)",
              (S.R_TRANSPLANT, S.MAZZAFERRO_2007), "review",
              also="calculators.md: relative criterion, later series used 60"),
    Threshold("milan_age_relative_max", 60.0, "years",
              "age from which transplant for NET is not offered: the review's 55 is relative, "
              "later series used 60 (making 60 a hard line is livermet's convention)",
              (S.JUDGEMENT, S.MAZZAFERRO_2007), "judgement",
              also="calculators.md section 4 (the later series are not named there; check)"),
    Threshold("milan_stable_months", 6.0, "months",
              "primary resected and stable disease for at least this long before transplant",
              (S.R_TRANSPLANT, S.MAZZAFERRO_2007), "review"),
    Threshold("transmet_age_min", 18.0, "years", "TRANSMET lower age limit",
              (S.TRANSMET_2024,), "primary"),
    Threshold("transmet_age_max", 65.0, "years", "TRANSMET upper age limit",
              (S.TRANSMET_2024,), "primary"),
    Threshold("transmet_chemo_months_min", 3.0, "months",
              "response or stability on chemotherapy for at least this long",
              (S.TRANSMET_2024,), "primary"),
    Threshold("transmet_lines_max", 3.0, "lines", "at most this many lines of chemotherapy",
              (S.TRANSMET_2024,), "primary"),
    Threshold("net_high_grade_ki67", 20.0, "%",
              "Ki-67 above which a neuroendocrine neoplasm is high grade (G3 / carcinoma)",
              (S.WHO_NET_2019,), "primary"),
    Threshold("sirt_lung_shunt_max", 20.0, "%",
              "lung shunt fraction above which resin SIRT is not given (the manufacturer: "
              "greater than 20% lung shunting is a contraindication)",
              (S.SIRTEX_US_CONTRAINDICATIONS, S.SIRT_BSA), "primary"),
    # --- Radiation ----------------------------------------------------------------------
    Threshold("sbrt_max_count", 3.0, "lesions", "SBRT trial eligibility: 1-3 liver lesions",
              (S.RUSTHOVEN_2009, S.SCHEFTER_2005), "primary",
              also="the review: SBRT suits individual discrete lesions [53]"),
    Threshold("sbrt_max_mm", 60.0, "mm", "SBRT trial eligibility: each lesion below 6 cm",
              (S.RUSTHOVEN_2009, S.SCHEFTER_2005), "primary",
              also="the trial's phase I report: 'one to three liver metastases, tumor diameter "
                   "<6 cm' (a per-lesion limit, not a cumulative diameter)"),
    Threshold("sbrt_dose_min_gy", 6.0, "Gy", "lowest dose per fraction the review quotes for liver SBRT",
              (S.R_RADIATION,), "review"),
    Threshold("sbrt_dose_max_gy", 10.0, "Gy", "highest dose per fraction the review quotes",
              (S.R_RADIATION,), "review"),
    Threshold("sbrt_fractions_min", 3.0, "fractions", "fewest fractions the review quotes",
              (S.R_RADIATION,), "review"),
    Threshold("sbrt_fractions_max", 5.0, "fractions", "most fractions the review quotes",
              (S.R_RADIATION,), "review"),
    # --- Imaging and pathology ----------------------------------------------------------
    Threshold("mri_small_lesion_mm", 10.0, "mm",
              "lesions smaller than this are hard to characterise on CT: MRI",
              (S.R_MRI,), "review"),
    Threshold("margin_min_mm", 1.0, "mm", "minimum clear resection margin (R0)",
              (S.R_CONCLUSIONS,), "review"),
    Threshold("recist_measurable_mm", 10.0, "mm", "smallest measurable lesion (RECIST 1.1)",
              (S.RECIST_2009,), "primary"),
    Threshold("recist_max_targets_per_organ", 2.0, "lesions",
              "at most two target lesions per organ (the liver is one organ)",
              (S.RECIST_2009,), "primary"),
]

THRESHOLDS: Mapping[str, Threshold] = MappingProxyType({t.key: t for t in _ALL})


def value(key: str) -> float:
    """The threshold's number (KeyError names the unknown key)."""
    return THRESHOLDS[key].value


def fmt(key: str) -> str:
    """'20%' / '2.0 mg/dL' / 'ECOG 2' for messages."""
    t = THRESHOLDS[key]
    v = f"{t.value:g}"
    if t.unit == "%":
        return f"{v}%"
    if t.unit == "ECOG":
        return f"ECOG {v}"
    return f"{v} {t.unit}"
