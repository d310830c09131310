"""Work-up, primary search, disappearing metastases, pathology and the MDT: the review's lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from livermet.calculators.base import Source
from livermet.decision.findings import Evidence
from livermet.decision.knowledge import sources as S


@dataclass(frozen=True)
class ImagingItem:
    code: str
    title: str
    when: str
    modalities: tuple[str, ...]  # case.imaging.studies[].modality values that satisfy it
    evidence: tuple[Evidence, ...]
    sources: tuple[Source, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code, "title": self.title, "when": self.when,
            "modalities": list(self.modalities),
            "evidence": [e.to_dict() for e in self.evidence],
            "sources": [S.label(s) for s in self.sources],
        }


IMAGING: tuple[ImagingItem, ...] = (
    ImagingItem(
        "triphasic_ct", "Triphasic contrast-enhanced CT (non-contrast, arterial, venous)",
        "every patient: the minimum evaluation and the basis of surgical planning",
        ("ct", "cect", "ct_triphasic"),
        (Evidence("CECT is the gold standard; 1-2 mm multiplanar reconstructions localise "
                  "tumours by segment", S.R_CECT),
         Evidence("NET metastases show best in the arterial phase, colorectal in the venous "
                  "phase", S.review("Work Up", 32)),
         Evidence("grey-scale ultrasound sensitivity for CRLM only 64%; CEUS 80-90% but no "
                  "surgical planning", S.R_WORKUP_US)),
        (S.R_WORKUP, S.R_CECT),
    ),
    ImagingItem(
        "mri_dwi_hsca", "Liver MRI with diffusion-weighted imaging and/or a hepatocyte-specific "
        "contrast agent",
        "lesions < 10 mm, lesions CT cannot characterise, or after chemotherapy (fatty liver)",
        ("mri", "mri_dwi", "mri_hsca", "mri_gadoxetate"),
        (Evidence("portal-venous phase detection rate 85%, positive predictive value 96%; CRLM "
                  "< 10 mm difficult on CT; chemotherapy-related liver changes limit detection",
                  S.R_MRI),
         Evidence("DWI raises sensitivity and specificity; hepatocyte-specific agents "
                  "(gadoxetate, gadobenate) are very sensitive for small lesions", S.R_HSCA)),
        (S.R_MRI, S.R_HSCA),
    ),
    ImagingItem(
        "pet_ct", "FDG PET-CT",
        "rising CEA with CT that does not localise disease; not routine",
        ("pet_ct", "fdg_pet", "pet"),
        (Evidence("can change management in up to 1/3 of patients; insensitive for tumour "
                  "< 1 cm and during chemotherapy; most centres do not use it routinely",
                  S.R_PET),),
        (S.R_PET,),
    ),
    ImagingItem(
        "dotatate_pet", "Ga-68 DOTATATE PET (neuroendocrine tumours)",
        "neuroendocrine primary",
        ("dotatate_pet", "ga68_dotatate_pet", "dotatate", "somatostatin_pet"),
        (Evidence("highly sensitive and specific for neuroendocrine tumours; somatostatin "
                  "receptor scintigraphy adds little to CT and MRI", S.R_DOTATATE),),
        (S.R_DOTATATE,),
    ),
    ImagingItem(
        "ious", "Intra-operative ultrasound (contrast-enhanced after chemotherapy)",
        "at every liver resection or surgical ablation",
        ("ious", "ceious"),
        (Evidence("finds new lesions in 16% of patients and changes management in 9%", S.R_IOUS),
         Evidence("contrast-enhanced IOUS is more sensitive, especially after neoadjuvant "
                  "chemotherapy", S.R_CEIOUS),
         Evidence("diagnostic laparoscopy with laparoscopic ultrasound helps select patients for "
                  "resection", S.R_LAPAROSCOPY)),
        (S.R_IOUS, S.R_CEIOUS),
    ),
)

# Primary Sources [21]: sources of liver secondaries, as the review lists them.
PRIMARY_SOURCES: tuple[str, ...] = (
    "colorectal cancer",
    "neuroendocrine tumours of the GI tract and pancreas",
    "breast carcinoma",
    "malignant melanoma (cutaneous and uveal)",
    "intra-abdominal and retroperitoneal sarcoma",
    "gallbladder carcinoma",
    "small-cell lung carcinoma",
    "malignant bone tumours",
    "urinary bladder carcinoma",
    "testicular and prostate carcinoma",
    "ovarian and endometrial carcinoma",
    "thyroid carcinoma",
)
BULKY_SECONDARIES: tuple[str, ...] = (
    "malignant melanoma", "carcinoid tumours",
    "mucinous carcinoma of breast, lung, pancreas, colon or rectum",
    "endometrial or ovarian cancer (women)",
)
# Physical Examination section (no reference number).
EXAMINATIONS: tuple[str, ...] = (
    "signs of liver disease: caput medusae, hepatosplenomegaly, ascites",
    "digital rectal examination",
    "proctoscopy, then colonoscopy (masses, blood in stool)",
    "skin inspection for cutaneous malignant lesions (melanoma)",
    "breast palpation",
    "lymph node examination (lymphadenopathy)",
    "chest auscultation (breath sounds)",
)

# Disappearing Metastasis [55]
DISAPPEARING_EVIDENCE: tuple[Evidence, ...] = (
    Evidence("complete radiological disappearance in 37% of patients after neoadjuvant systemic "
             "therapy", S.R_DISAPPEARING),
    Evidence("residual disease at the site at laparotomy in 11-67%", S.R_DISAPPEARING),
    Evidence("microscopic residual tumour in up to 80% of resected sites; radiological complete "
             "response is not pathological complete response", S.R_DISAPPEARING),
)
DISAPPEARING_ADVICE: tuple[tuple[str, Source], ...] = (
    ("Do not treat a vanished lesion as cured: complete radiological response differs from "
     "complete pathological response.", S.R_DISAPPEARING),
    ("Re-image with liver MRI (DWI and/or hepatocyte-specific contrast) before surgery.", S.R_MRI),
    ("At surgery, search the original sites with (contrast-enhanced) intra-operative "
     "ultrasound.", S.R_CEIOUS),
    ("Where feasible, resect or ablate the original sites; persistent disease or early "
     "recurrence is common at sites left untreated.", S.BENOIST_2006),
)

# Conclusions: routine pathology of the resected liver.
PATHOLOGY_CHECKLIST: tuple[tuple[str, str, str, Source], ...] = (
    # (code, title, case field, source)
    ("size", "tumour size (largest diameter)", "pathology.largest_diameter_mm", S.R_CONCLUSIONS),
    ("number", "number of metastases", "pathology.lesion_count", S.R_CONCLUSIONS),
    ("margin", "resection margin (>= 1 mm)", "pathology.margin_mm", S.R_CONCLUSIONS),
    ("regression", "response to chemotherapy: TRG and/or viable tumour cells",
     "pathology.trg|pathology.viable_tumour_percent", S.R_CONCLUSIONS),
    ("growth_pattern", "histological growth pattern (desmoplastic, replacement, pushing)",
     "pathology.growth_pattern", S.R_HISTOLOGY),
    ("micrometastases", "micrometastases", "pathology.micrometastases", S.R_CONCLUSIONS),
    ("non_tumour_liver", "injury of the non-tumour liver (chemotherapy toxicity)",
     "pathology.non_tumour_liver", S.R_CONCLUSIONS),
    ("halo", "malignant halo around the metastasis", "pathology.halo", S.R_CONCLUSIONS),
)

# Conclusions: minimum team.
MDT_MINIMUM: tuple[tuple[str, str], ...] = (
    ("colorectal_surgeon", "colorectal surgeon"),
    ("hepatobiliary_surgeon", "hepatobiliary surgeon"),
    ("medical_oncologist", "medical oncologist"),
    ("radiation_oncologist", "radiation oncologist"),
    ("radiologist", "radiologist"),
    ("pathologist", "pathologist"),
)
# Spellings hospitals use for the same roles (lower-case, spaces/hyphens -> underscore).
MDT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "colorectal_surgeon": ("crc_surgeon", "colorectal", "lower_gi_surgeon"),
    "hepatobiliary_surgeon": ("hpb_surgeon", "liver_surgeon", "hepatobiliary", "hpb",
                              "transplant_surgeon"),
    "medical_oncologist": ("oncologist", "medical_oncology"),
    "radiation_oncologist": ("clinical_oncologist", "radiotherapist", "radiation_oncology"),
    "radiologist": ("interventional_radiologist", "diagnostic_radiologist", "radiology"),
    "pathologist": ("histopathologist", "pathology"),
}
