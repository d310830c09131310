"""FHIR R4 (mCODE STU4) export and import of a livermet case.

Export (:func:`case_to_bundle`) writes a ``collection`` Bundle, validated by the
``fhir.resources`` R4B models, with:

- ``Patient`` (mCODE CancerPatient): case id and MRN as identifiers, name, birth date, gender;
- ``Condition`` mCODE PrimaryCancerCondition: the primary site coded in SNOMED CT and, where a
  single code exists, ICD-10 (table :data:`PRIMARY_SITE_CODES`, sources beside each entry);
  ``verificationStatus`` from ``primary.confirmed``;
- ``Condition`` mCODE SecondaryCancerCondition for the liver: SNOMED CT 94381002
  "Secondary malignant neoplasm of liver" and ICD-10 C78.7, body site SNOMED CT 10200004 (liver);
- laboratory ``Observation`` s with LOINC codes (:data:`LAB_CODES`): total bilirubin 1975-2,
  albumin 1751-7, INR 6301-6, creatinine 2160-0, sodium 2951-2, platelets 777-3; CEA 2039-6 as
  an mCODE TumorMarkerTest. ICG retention at 15 min has no LOINC code we could verify: it uses
  the local code ``icg-r15``;
- ECOG performance status (LOINC 89247-1, mCODE ECOGPerformanceStatus); body height 8302-2 and
  weight 29463-7 (FHIR vital signs);
- biomarkers: KRAS, NRAS, BRAF as mCODE GenomicVariant (LOINC 69548-6 "Genetic variant
  assessment", value LA9633-4 Present / LA9634-2 Absent, gene in component 48018-6 with its
  HGNC id, BRAF V600E as amino-acid change 48005-3); MSI as LOINC 81695-9 (LA26203-2 MSI-H,
  LA14122-8 stable); HER2 as mCODE TumorMarkerTest LOINC 48676-1 (LA6576-8 positive,
  LA6577-6 negative);
- everything livermet needs that has no standard code (volumetry, FLR, lesions and their
  segments, liver condition, pathology, the scores): plain ``Observation`` s coded in the local
  code system :data:`LOCAL_SYSTEM` ``https://livermet.org/fhir/CodeSystem/livermet``
  (codes in :data:`LOCAL_FIELDS`, documented in ``docs/fhir.md``); no mCODE profile exists for
  the future liver remnant;
- the treatment options as one ``CarePlan`` (status ``draft``, intent ``proposal``), one
  activity per option: the option code (:data:`OPTION_SYSTEM`), the status (recommended /
  consider / not_suitable, :data:`OPTION_STATUS_SYSTEM`) in ``detail.statusReason``, each
  reason in ``detail.reasonCode``, the sources in an extension.

Import (:func:`bundle_to_case`) reads such a bundle, or a hospital's mCODE bundle with the
same resources, and returns ``(case_dict, unmapped)``: every entry or value that could not be
placed in the case is listed in ``unmapped``, never dropped silently. Derived resources that
livermet recomputes (scores, the options CarePlan) are recognised and skipped.

References: mCODE STU4 (http://hl7.org/fhir/us/mcode/STU4); LOINC (https://loinc.org);
HL7 Genomics Reporting IG (MSI, variant components).
"""

from __future__ import annotations

import datetime as _dt
import json
import uuid
from pathlib import Path
from typing import Any, Iterable, Mapping

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
HGNC = "http://www.genenames.org/geneId"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

LOCAL_SYSTEM = "https://livermet.org/fhir/CodeSystem/livermet"
OPTION_SYSTEM = "https://livermet.org/fhir/CodeSystem/livermet-option"
OPTION_STATUS_SYSTEM = "https://livermet.org/fhir/CodeSystem/livermet-option-status"
SOURCE_EXTENSION = "https://livermet.org/fhir/StructureDefinition/source"
CASE_ID_SYSTEM = "https://livermet.org/fhir/sid/case-id"
MRN_SYSTEM = "https://livermet.org/fhir/sid/mrn"

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
PROFILE_PATIENT = MCODE + "mcode-cancer-patient"
PROFILE_PRIMARY = MCODE + "mcode-primary-cancer-condition"
PROFILE_SECONDARY = MCODE + "mcode-secondary-cancer-condition"
PROFILE_ECOG = MCODE + "mcode-ecog-performance-status"
PROFILE_TUMOR_MARKER = MCODE + "mcode-tumor-marker-test"
PROFILE_GENOMIC_VARIANT = MCODE + "mcode-genomic-variant"

# Secondary malignant neoplasm of liver (issue 5): SNOMED CT 94381002, ICD-10 C78.7.
LIVER_METASTASIS_SNOMED = ("94381002", "Secondary malignant neoplasm of liver")
LIVER_METASTASIS_ICD10 = ("C78.7", "Secondary malignant neoplasm of liver and intrahepatic bile duct")
LIVER_BODY_SITE = ("10200004", "Liver structure")
CIRRHOSIS_SNOMED = ("19943007", "Cirrhosis of liver")

# Primary site -> (SNOMED CT code, display), (ICD-10 code, display) or None.
# Codes checked against published value sets/examples (mCODE STU4, IPS, public code lists);
# where no single ICD-10 code covers the site (colorectal: C18-C20; uveal melanoma; GIST) only
# SNOMED CT is given. "other" is the SNOMED CT parent "Malignant neoplastic disease".
PRIMARY_SITE_CODES: dict[str, tuple[tuple[str, str] | None, tuple[str, str] | None]] = {
    "colorectal": (("363510005", "Malignant tumor of large intestine"), None),
    "neuroendocrine": (None, ("C7A.00", "Malignant carcinoid tumor of unspecified site")),
    "breast": (("254837009", "Malignant neoplasm of breast"), ("C50.9", "Malignant neoplasm of breast, unspecified")),
    "uveal_melanoma": (("1197334002", "Malignant melanoma of uveal tract"), None),
    "gist": (("420120006", "Gastrointestinal stromal tumor"), None),
    "sarcoma": (("424413001", "Sarcoma"), ("C49.9", "Malignant neoplasm of connective and soft tissue, unspecified")),
    "gastric": (("363349007", "Malignant tumor of stomach"), ("C16.9", "Malignant neoplasm of stomach, unspecified")),
    "pancreatic": (("363418001", "Malignant tumor of pancreas"), ("C25.9", "Malignant neoplasm of pancreas, unspecified")),
    "lung": (("363358000", "Malignant tumor of lung"), ("C34.9", "Malignant neoplasm of bronchus or lung, unspecified")),
    "melanoma": (("372244006", "Malignant melanoma"), ("C43.9", "Malignant melanoma of skin, unspecified")),
    "other": (("363346000", "Malignant neoplastic disease"), None),
}
# ICD-10 code prefixes of a hospital's primary diagnosis -> livermet site (import only).
ICD10_PREFIX_SITE = [
    ("C18", "colorectal"), ("C19", "colorectal"), ("C20", "colorectal"),
    ("C7A", "neuroendocrine"), ("C50", "breast"), ("C69.3", "uveal_melanoma"),
    ("C69.4", "uveal_melanoma"), ("C49.A", "gist"), ("C49", "sarcoma"), ("C16", "gastric"),
    ("C25", "pancreatic"), ("C34", "lung"), ("C43", "melanoma"), ("C80", "other"),
]
SNOMED_SITE = {codes[0][0]: site for site, codes in PRIMARY_SITE_CODES.items() if codes[0]}
SNOMED_SITE["363406005"] = "colorectal"  # Malignant tumor of colon

# livermet lab key -> (LOINC, display, UCUM unit of livermet's canonical unit, units quantity)
LAB_CODES: dict[str, tuple[str, str, str, str]] = {
    "bilirubin": ("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma", "mg/dL", "bilirubin"),
    "albumin": ("1751-7", "Albumin [Mass/volume] in Serum or Plasma", "g/dL", "albumin"),
    "inr": ("6301-6", "INR in Platelet poor plasma by Coagulation assay", "{INR}", "inr"),
    "creatinine": ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", "creatinine"),
    "sodium": ("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", "sodium"),
    "platelets": ("777-3", "Platelets [#/volume] in Blood by Automated count", "10*9/L", "platelets"),
    "cea": ("2039-6", "Carcinoembryonic Ag [Mass/volume] in Serum or Plasma", "ng/mL", "cea"),
}
# Other LOINC codes a hospital may send for the same analyte (import only).
LAB_ALIASES = {"14682-9": "creatinine"}  # Creatinine [Moles/volume] in Serum or Plasma
LOINC_ECOG = "89247-1"
LOINC_HEIGHT = ("8302-2", "Body height", "cm")
LOINC_WEIGHT = ("29463-7", "Body weight", "kg")
LOINC_VARIANT = "69548-6"  # Genetic variant assessment
LOINC_GENE = "48018-6"  # Gene studied [ID]
LOINC_AA_CHANGE = "48005-3"  # Amino acid change (pHGVS)
LOINC_MSI = "81695-9"  # Microsatellite instability [Interpretation] in Cancer specimen
LOINC_HER2 = "48676-1"  # HER2 [Interpretation] in Tissue
LA_PRESENT, LA_ABSENT = ("LA9633-4", "Present"), ("LA9634-2", "Absent")
LA_MSI_H, LA_MSI_STABLE, LA_MSI_L = ("LA26203-2", "MSI-H"), ("LA14122-8", "Stable"), "LA26202-4"
LA_POSITIVE, LA_NEGATIVE = ("LA6576-8", "Positive"), ("LA6577-6", "Negative")
GENES = {"kras_mutant": ("KRAS", "HGNC:6407"), "nras_mutant": ("NRAS", "HGNC:6342"),
         "braf_v600e": ("BRAF", "HGNC:1097")}
BRAF_V600E = "p.Val600Glu"

# Local code system: case path -> (code, display, kind, UCUM unit). kind: bool, int, float,
# str, date, list (comma-separated string).
LOCAL_FIELDS: list[tuple[tuple[str, ...], str, str, str, str | None]] = [
    (("meeting_date",), "mdt-meeting-date", "MDT meeting date", "date", None),
    (("patient", "age"), "age", "Age at the MDT", "float", "a"),
    (("patient", "symptoms"), "liver-symptoms", "Liver-related symptoms", "list", None),
    (("primary", "side"), "primary-side", "Side of a colorectal primary (left/right)", "str", None),
    (("primary", "histology"), "primary-histology", "Histology of the primary", "str", None),
    (("primary", "t_stage"), "primary-t-stage", "T category of the primary", "str", None),
    (("primary", "node_positive"), "primary-node-positive", "Node-positive primary", "bool", None),
    (("primary", "serosal_invasion"), "primary-serosal-invasion", "Serosal invasion", "bool", None),
    (("primary", "resected"), "primary-resected", "Primary resected", "bool", None),
    (("primary", "months_since_resection"), "months-since-primary-resection",
     "Months since resection of the primary", "float", "mo"),
    (("primary", "portal_drainage"), "primary-portal-drainage", "Primary drained by the portal system", "bool", None),
    (("primary", "ki67_percent"), "ki67", "Ki-67 index", "float", "%"),
    (("primary", "differentiation"), "primary-differentiation", "Differentiation", "str", None),
    (("metastases", "synchronous"), "synchronous", "Synchronous liver metastases", "bool", None),
    (("metastases", "disease_free_interval_months"), "disease-free-interval",
     "Disease-free interval", "float", "mo"),
    (("metastases", "pattern"), "metastasis-pattern", "Pattern of liver metastases", "str", None),
    (("metastases", "liver_involvement_percent"), "liver-involvement", "Liver involvement", "float", "%"),
    (("metastases", "response_to_chemotherapy"), "response-to-chemotherapy",
     "Response to chemotherapy", "str", None),
    (("metastases", "stable_months"), "stable-months", "Months of stable disease or response", "float", "mo"),
    (("metastases", "recurrence_after_resection"), "recurrence-after-resection",
     "Recurrence after liver resection", "bool", None),
    (("metastases", "new_lesions"), "new-lesions", "New lesions", "bool", None),
    (("metastases", "extrahepatic", "present"), "extrahepatic-disease", "Extrahepatic disease", "bool", None),
    (("metastases", "extrahepatic", "resectable"), "extrahepatic-resectable",
     "Extrahepatic disease resectable", "bool", None),
    (("metastases", "extrahepatic", "sites"), "extrahepatic-sites", "Extrahepatic sites", "list", None),
    (("labs", "icg_r15"), "icg-r15", "Indocyanine green retention at 15 minutes", "float", "%"),
    (("labs", "dialysis"), "dialysis", "Dialysis twice in the past week", "bool", None),
    (("labs", "cea_rising"), "cea-rising", "CEA rising on serial measurements", "bool", None),
    (("liver", "cirrhosis"), "liver-fibrosis-cirrhosis", "Fibrosis or cirrhosis", "bool", None),
    (("liver", "ascites"), "ascites", "Ascites (none/controlled/refractory)", "str", None),
    (("liver", "encephalopathy"), "encephalopathy", "Hepatic encephalopathy", "str", None),
    (("liver", "chemotherapy_weeks"), "chemotherapy-weeks", "Weeks of chemotherapy", "float", "wk"),
    (("liver", "chemotherapy_lines"), "chemotherapy-lines", "Lines of chemotherapy", "int", None),
    (("volumetry", "total_liver_ml"), "total-liver-volume", "Total liver volume", "float", "mL"),
    (("volumetry", "tumour_ml"), "tumour-volume", "Tumour volume in the liver", "float", "mL"),
    (("volumetry", "remnant_ml"), "flr-volume", "Future liver remnant volume", "float", "mL"),
    (("volumetry", "planned_resection"), "planned-resection", "Planned resection", "str", None),
    (("volumetry", "source"), "volumetry-source", "Source of the volumes", "str", None),
    (("volumetry", "remnant_ml_after_pve"), "flr-volume-after-pve", "FLR volume after PVE", "float", "mL"),
    (("volumetry", "weeks_since_pve"), "weeks-since-pve", "Weeks since PVE", "float", "wk"),
    (("pathology", "lesion_count"), "pathology-lesion-count", "Lesions in the specimen", "int", None),
    (("pathology", "largest_diameter_mm"), "pathology-largest-diameter", "Largest lesion", "float", "mm"),
    (("pathology", "margin_mm"), "resection-margin", "Resection margin", "float", "mm"),
    (("pathology", "viable_tumour_percent"), "viable-tumour", "Viable tumour cells", "float", "%"),
    (("pathology", "trg"), "tumour-regression-grade", "Tumour regression grade (Rubbia-Brandt)", "int", None),
    (("pathology", "growth_pattern"), "growth-pattern", "Growth pattern", "str", None),
    (("pathology", "micrometastases"), "micrometastases", "Micrometastases", "bool", None),
    (("pathology", "non_tumour_liver"), "non-tumour-liver", "Non-tumour liver", "str", None),
    (("pathology", "halo"), "malignant-halo", "Malignant halo", "bool", None),
    (("mdt", "date"), "mdt-decision-date", "MDT decision date", "date", None),
    (("mdt", "decision"), "mdt-decision", "MDT decision", "str", None),
    (("mdt", "follow_up"), "mdt-follow-up", "MDT follow-up", "str", None),
    (("radiotherapy", "dose_per_fraction_gy"), "rt-dose-per-fraction", "Dose per fraction", "float", "Gy"),
    (("radiotherapy", "fractions"), "rt-fractions", "Fractions", "int", None),
    (("radiotherapy", "alpha_beta"), "rt-alpha-beta", "alpha/beta ratio", "float", "Gy"),
    (("sirt", "device"), "sirt-device", "SIRT device", "str", None),
    (("sirt", "lung_shunt_percent"), "lung-shunt-fraction", "Lung shunt fraction", "float", "%"),
    (("sirt", "target_dose_gy"), "sirt-target-dose", "SIRT target dose", "float", "Gy"),
    (("sirt", "target_mass_kg"), "sirt-target-mass", "SIRT target mass", "float", "kg"),
]
LOCAL_BY_CODE = {f[1]: f for f in LOCAL_FIELDS}
CODE_SEGMENT_VOLUMES = "segment-volumes"
CODE_LESION = "liver-lesion"
CODE_MEASUREMENT = "lesion-measurement"
SCORE_PREFIX = "score-"


class FhirImportError(ValueError):
    """The bundle is not readable FHIR R4 JSON (the message says where)."""


# ---------------------------------------------------------------------------- helpers


def _as_case_dict(case: Any) -> dict[str, Any]:
    if hasattr(case, "model_dump"):
        return case.model_dump(mode="json")
    return json.loads(json.dumps(case))


def _get(d: Mapping[str, Any], path: Iterable[str]) -> Any:
    cur: Any = d
    for p in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(p)
    return cur


def _set(d: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    cur = d
    for p in path[:-1]:
        cur = cur.setdefault(p, {})
    cur[path[-1]] = value


def _cc(system: str, code: str, display: str | None = None, text: str | None = None) -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    out: dict[str, Any] = {"coding": [coding]}
    if text:
        out["text"] = text
    return out


def _local(code: str, display: str) -> dict:
    return _cc(LOCAL_SYSTEM, code, display)


def _qty(value: float, unit: str | None) -> dict:
    q: dict[str, Any] = {"value": value}
    if unit:
        q.update(unit=unit, system=UCUM, code=unit)
    return q


def _value(kind: str, value: Any, unit: str | None) -> dict[str, Any]:
    if kind == "bool":
        return {"valueBoolean": bool(value)}
    if kind == "int":
        return {"valueInteger": int(value)}
    if kind == "float":
        return {"valueQuantity": _qty(float(value), unit)}
    if kind == "date":
        return {"valueDateTime": str(value)}
    if kind == "list":
        return {"valueString": ", ".join(str(v) for v in value)}
    return {"valueString": str(value)}


def _read_value(kind: str, obs: Mapping[str, Any]) -> Any:
    if kind == "bool":
        return obs.get("valueBoolean")
    if kind == "int":
        v = obs.get("valueInteger")
        if v is None and isinstance(obs.get("valueQuantity"), Mapping):
            v = obs["valueQuantity"].get("value")
        return None if v is None else int(v)
    if kind == "float":
        q = obs.get("valueQuantity")
        return None if not isinstance(q, Mapping) else q.get("value")
    if kind == "date":
        return obs.get("valueDateTime") or obs.get("valueString")
    if kind == "list":
        s = obs.get("valueString")
        return [x.strip() for x in s.split(",") if x.strip()] if s else []
    return obs.get("valueString")


def _num(x: Any) -> Any:
    """Keep integers integral in JSON (1650.0 -> 1650) so round trips compare equal."""
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


class _Builder:
    def __init__(self, case_id: str):
        self.case_id = case_id
        self.entries: list[dict[str, Any]] = []

    def urn(self, key: str) -> str:
        return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"livermet:{self.case_id}:{key}"))

    def add(self, key: str, resource: dict[str, Any]) -> str:
        url = self.urn(key)
        resource.setdefault("id", url.rsplit(":", 1)[1])
        self.entries.append({"fullUrl": url, "resource": resource})
        return url


# ---------------------------------------------------------------------------- export


def case_to_bundle(case: Any, assessment: Mapping[str, Any] | Any | None = None,
                   mrn_system: str = MRN_SYSTEM):
    """Export a case (and optionally its assessment) as an R4 ``Bundle`` (fhir.resources R4B).

    Parameters
    ----------
    case : Case or dict
        The case in canonical units (``load_case`` output or its JSON).
    assessment : dict, optional
        ``Assessment.to_dict()``: scores become Observations, options a CarePlan.
    mrn_system : str
        The identifier system of the hospital's MRN.
    """
    from fhir.resources.R4B.bundle import Bundle

    c = _as_case_dict(case)
    a = (assessment.to_dict() if hasattr(assessment, "to_dict") else dict(assessment)) \
        if assessment is not None else {}
    case_id = str(c.get("id") or "case")
    b = _Builder(case_id)
    p = c.get("patient") or {}
    effective = {"effectiveDateTime": c["meeting_date"]} if c.get("meeting_date") else {}

    patient: dict[str, Any] = {
        "resourceType": "Patient", "meta": {"profile": [PROFILE_PATIENT]},
        "identifier": [{"use": "usual", "system": CASE_ID_SYSTEM, "value": case_id}],
    }
    if p.get("mrn"):
        patient["identifier"].append({
            "use": "official", "type": _cc(V2_0203, "MR", "Medical record number"),
            "system": mrn_system, "value": str(p["mrn"])})
    if p.get("name"):
        patient["name"] = [{"text": str(p["name"])}]
    if p.get("sex") in ("male", "female"):
        patient["gender"] = p["sex"]
    if p.get("birth_date"):
        patient["birthDate"] = str(p["birth_date"])[:10]
    subject = {"reference": b.add("patient", patient)}

    def obs(key: str, code: dict, value: dict, category: str = "exam",
            profile: str | None = None, **extra: Any) -> dict:
        res: dict[str, Any] = {"resourceType": "Observation", "status": "final",
                               "category": [_cc(OBS_CATEGORY, category)], "code": code,
                               "subject": subject, **effective, **value, **extra}
        if profile:
            res["meta"] = {"profile": [profile]}
        b.add(key, res)
        return res

    # Primary cancer and the liver metastases
    pr = c.get("primary") or {}
    if pr.get("site"):
        snomed, icd = PRIMARY_SITE_CODES.get(pr["site"], PRIMARY_SITE_CODES["other"])
        codings = []
        if snomed:
            codings.append({"system": SNOMED, "code": snomed[0], "display": snomed[1]})
        if icd:
            codings.append({"system": ICD10CM if icd[0].startswith("C7A") else ICD10,
                            "code": icd[0], "display": icd[1]})
        cond: dict[str, Any] = {
            "resourceType": "Condition", "meta": {"profile": [PROFILE_PRIMARY]},
            "clinicalStatus": _cc(CONDITION_CLINICAL, "active"),
            "category": [_cc("http://terminology.hl7.org/CodeSystem/condition-category",
                             "problem-list-item")],
            "code": {"coding": codings, "text": f"primary: {pr['site']}"},
            "subject": subject,
        }
        if pr.get("confirmed") is not None:
            cond["verificationStatus"] = _cc(CONDITION_VER, "confirmed" if pr["confirmed"]
                                             else "unconfirmed")
        b.add("primary", cond)
    b.add("secondary-liver", {
        "resourceType": "Condition", "meta": {"profile": [PROFILE_SECONDARY]},
        "clinicalStatus": _cc(CONDITION_CLINICAL, "active"),
        "category": [_cc("http://terminology.hl7.org/CodeSystem/condition-category",
                         "problem-list-item")],
        "code": {"coding": [
            {"system": SNOMED, "code": LIVER_METASTASIS_SNOMED[0], "display": LIVER_METASTASIS_SNOMED[1]},
            {"system": ICD10, "code": LIVER_METASTASIS_ICD10[0], "display": LIVER_METASTASIS_ICD10[1]}],
            "text": "liver metastases"},
        "bodySite": [_cc(SNOMED, *LIVER_BODY_SITE)], "subject": subject,
    })

    # Patient measurements
    if p.get("ecog") is not None:
        obs("ecog", _cc(LOINC, LOINC_ECOG, "ECOG Performance Status score"),
            {"valueInteger": int(p["ecog"])}, "survey", PROFILE_ECOG)
    if p.get("height_cm") is not None:
        obs("height", _cc(LOINC, LOINC_HEIGHT[0], LOINC_HEIGHT[1]),
            {"valueQuantity": _qty(float(p["height_cm"]), "cm")}, "vital-signs")
    if p.get("weight_kg") is not None:
        obs("weight", _cc(LOINC, LOINC_WEIGHT[0], LOINC_WEIGHT[1]),
            {"valueQuantity": _qty(float(p["weight_kg"]), "kg")}, "vital-signs")

    # Labs (canonical units; {value, unit} inputs are converted first)
    from livermet.units import UnitError, convert

    labs = c.get("labs") or {}
    for key, (code, display, ucum, quantity) in LAB_CODES.items():
        v = labs.get(key)
        if v is None:
            continue
        if isinstance(v, Mapping):
            try:
                v = convert(quantity, float(v["value"]), v.get("unit"))
            except (UnitError, KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"labs.{key}: {v!r}: {exc}") from None
        obs(f"lab-{key}", _cc(LOINC, code, display), {"valueQuantity": _qty(float(v), ucum)},
            "laboratory", PROFILE_TUMOR_MARKER if key == "cea" else None)

    # Biomarkers
    bio = pr.get("biomarkers") or {}
    for key, (gene, hgnc) in GENES.items():
        if bio.get(key) is None:
            continue
        comps = [{"code": _cc(LOINC, LOINC_GENE, "Gene studied [ID]"),
                  "valueCodeableConcept": _cc(HGNC, hgnc, gene)}]
        if key == "braf_v600e":
            comps.append({"code": _cc(LOINC, LOINC_AA_CHANGE, "Amino acid change (pHGVS)"),
                          "valueCodeableConcept": {"text": BRAF_V600E}})
        ans = LA_PRESENT if bio[key] else LA_ABSENT
        obs(f"variant-{gene}", _cc(LOINC, LOINC_VARIANT, "Genetic variant assessment"),
            {"valueCodeableConcept": _cc(LOINC, *ans)}, "laboratory", PROFILE_GENOMIC_VARIANT,
            component=comps)
    if bio.get("msi_high") is not None:
        ans = LA_MSI_H if bio["msi_high"] else LA_MSI_STABLE
        obs("msi", _cc(LOINC, LOINC_MSI,
                       "Microsatellite instability [Interpretation] in Cancer specimen Qualitative"),
            {"valueCodeableConcept": _cc(LOINC, *ans)}, "laboratory")
    if bio.get("her2_amplified") is not None:
        ans = LA_POSITIVE if bio["her2_amplified"] else LA_NEGATIVE
        obs("her2", _cc(LOINC, LOINC_HER2, "HER2 [Interpretation] in Tissue"),
            {"valueCodeableConcept": _cc(LOINC, *ans)}, "laboratory", PROFILE_TUMOR_MARKER)

    # Everything else with local codes
    for path, code, display, kind, unit in LOCAL_FIELDS:
        v = _get(c, path)
        if v is None or (kind == "list" and not v):
            continue
        obs(f"local-{code}", _local(code, display), _value(kind, v, unit))
    seg = _get(c, ("volumetry", "segments_ml"))
    if seg:
        obs("local-segments", _local(CODE_SEGMENT_VOLUMES, "Couinaud segment volumes"),
            {}, component=[{"code": _local(f"segment-{k}-volume", f"Segment {k} volume"),
                            "valueQuantity": _qty(float(v), "mL")} for k, v in seg.items()])
    for i, les in enumerate((c.get("metastases") or {}).get("lesions") or []):
        lid = str(les.get("id"))
        comps = [{"code": _local("lesion-id", "Lesion id"), "valueString": lid}]
        if les.get("segments"):
            comps.append({"code": _local("lesion-segments", "Couinaud segments"),
                          "valueString": ",".join(str(s) for s in les["segments"])})
        if les.get("diameter_mm") is not None:
            comps.append({"code": _local("lesion-diameter", "Largest diameter"),
                          "valueQuantity": _qty(float(les["diameter_mm"]), "mm")})
        for flag in ("near_major_vessel", "target"):
            if les.get(flag) is not None:
                comps.append({"code": _local(f"lesion-{flag.replace('_', '-')}", flag),
                              "valueBoolean": bool(les[flag])})
        obs(f"lesion-{i}", _local(CODE_LESION, "Liver lesion"), {}, "imaging",
            bodySite=_cc(SNOMED, *LIVER_BODY_SITE), component=comps)
        for j, m in enumerate(les.get("measurements") or []):
            mc = [{"code": _local("lesion-id", "Lesion id"), "valueString": lid}]
            if m.get("diameter_mm") is not None:
                mc.append({"code": _local("lesion-diameter", "Largest diameter"),
                           "valueQuantity": _qty(float(m["diameter_mm"]), "mm")})
            if m.get("visible") is not None:
                mc.append({"code": _local("lesion-visible", "Visible"),
                           "valueBoolean": bool(m["visible"])})
            if m.get("density_hu") is not None:  # UCUM Hounsfield unit: [hnsf'U]
                mc.append({"code": _local("lesion-density", "Mean attenuation"),
                           "valueQuantity": _qty(float(m["density_hu"]), "[hnsf'U]")})
            res = {"resourceType": "Observation", "status": "final",
                   "category": [_cc(OBS_CATEGORY, "imaging")],
                   "code": _local(CODE_MEASUREMENT, "Lesion measurement"), "subject": subject,
                   "effectiveDateTime": m.get("date"), "component": mc}
            b.add(f"lesion-{i}-m{j}", res)

    # Assessment: scores (derived) and options (CarePlan)
    for name, s in (a.get("scores") or {}).items():
        if not isinstance(s, Mapping) or s.get("value") is None:
            continue
        val = s["value"]
        value = ({"valueQuantity": _qty(float(val), s.get("unit") if s.get("unit") not in
                                        (None, "points", "1") else None)}
                 if isinstance(val, (int, float)) and not isinstance(val, bool)
                 else {"valueString": str(val)})
        comps = []
        if s.get("category") is not None:
            comps.append({"code": _local("score-category", "Category"),
                          "valueString": str(s["category"])})
        obs(f"score-{name}", _local(SCORE_PREFIX + name, f"livermet score {name}"), value,
            "exam", component=comps or None, note=[{"text": s.get("formula")}]
            if s.get("formula") else None)
    options = a.get("options") or []
    if options:
        acts = []
        for o in options:
            if not isinstance(o, Mapping):
                continue
            detail: dict[str, Any] = {
                "code": _cc(OPTION_SYSTEM, str(o.get("code")), str(o.get("code")).replace("_", " ")),
                "status": "not-started",
                "statusReason": _cc(OPTION_STATUS_SYSTEM, str(o.get("status"))),
                "description": f"{o.get('code')}: {o.get('status')}",
            }
            reasons = [r.get("text", str(r)) if isinstance(r, Mapping) else str(r)
                       for r in o.get("reasons") or []]
            if reasons:
                detail["reasonCode"] = [{"text": r} for r in reasons]
            srcs = [s.get("text") or s.get("citation") if isinstance(s, Mapping) else str(s)
                    for s in o.get("sources") or []]
            if srcs:
                detail["extension"] = [{"url": SOURCE_EXTENSION, "valueString": s}
                                       for s in srcs if s]
            acts.append({"detail": detail})
        b.add("options", {"resourceType": "CarePlan", "status": "draft", "intent": "proposal",
                          "title": "livermet: treatment options for the MDT",
                          "description": "Decision support (not a medical device): each "
                          "option with its status, reasons and sources.",
                          "subject": subject, "activity": acts})

    # drop None-valued keys produced above (component=None, note=None)
    for e in b.entries:
        for k in [k for k, v in e["resource"].items() if v is None]:
            del e["resource"][k]
    bundle = {"resourceType": "Bundle", "type": "collection",
              "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
              "identifier": {"system": CASE_ID_SYSTEM, "value": case_id},
              "entry": b.entries}
    return Bundle.model_validate(bundle)


def bundle_json(bundle: Any) -> str:
    """The bundle as FHIR JSON text (2-space indent)."""
    text = bundle.model_dump_json(exclude_none=True) if hasattr(bundle, "model_dump_json") \
        else json.dumps(bundle)
    return json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------- import


def _codings(cc: Any) -> list[tuple[str, str, str]]:
    if not isinstance(cc, Mapping):
        return []
    return [(str(x.get("system", "")), str(x.get("code", "")), str(x.get("display", "")))
            for x in cc.get("coding") or [] if isinstance(x, Mapping)]


def _has(cc: Any, system: str, code: str) -> bool:
    return any(s == system and c == code for s, c, _ in _codings(cc))


def _loinc(cc: Any) -> list[str]:
    return [c for s, c, _ in _codings(cc) if s == LOINC]


def _label(res: Mapping[str, Any]) -> str:
    codes = _codings(res.get("code"))
    desc = ", ".join(f"{d or c} ({s.rsplit('/', 1)[-1]} {c})" for s, c, d in codes[:2])
    if not desc and isinstance(res.get("code"), Mapping):
        desc = str(res["code"].get("text", ""))
    return f"{res.get('resourceType')}/{res.get('id', '?')}" + (f" [{desc}]" if desc else "")


_UCUM_TO_LIVERMET = {"10*9/L": "10^9/L", "10*3/uL": "10^3/uL", "{INR}": "1", "{ratio}": "1",
                     "10*9/l": "10^9/L"}


def _load(bundle_json: Any) -> dict[str, Any]:
    if isinstance(bundle_json, Path) or (isinstance(bundle_json, str) and
                                         not bundle_json.lstrip().startswith("{")):
        try:
            bundle_json = Path(bundle_json).read_text("utf-8")
        except OSError as exc:
            raise FhirImportError(f"cannot read bundle {str(bundle_json)!r}: {exc.strerror}") from None
    if isinstance(bundle_json, (str, bytes)):
        try:
            data = json.loads(bundle_json)
        except json.JSONDecodeError as exc:
            raise FhirImportError(f"bundle is not JSON: {exc.msg} at line {exc.lineno} "
                                  f"column {exc.colno}") from None
    elif hasattr(bundle_json, "model_dump_json"):
        data = json.loads(bundle_json.model_dump_json(exclude_none=True))
    else:
        data = dict(bundle_json)
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        got = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        raise FhirImportError(f"resourceType: expected 'Bundle', got {got!r}")
    from fhir.resources.R4B.bundle import Bundle

    try:
        Bundle.model_validate(data)
    except Exception as exc:  # pydantic ValidationError: name the failing path
        errors = getattr(exc, "errors", lambda: [])()
        where = "; ".join(".".join(str(x) for x in e.get("loc", ())) + ": " + e.get("msg", "")
                          for e in errors[:5]) or str(exc).splitlines()[0]
        raise FhirImportError(f"bundle is not valid FHIR R4: {where}") from None
    return data


def bundle_to_case(bundle_json: Any) -> tuple[dict[str, Any], list[str]]:
    """Build a case from a Bundle (livermet's own export or a hospital's mCODE bundle).

    Returns
    -------
    (case, unmapped)
        ``case`` is a case document (validate it with ``livermet.case.validate``); ``unmapped``
        lists, one line each, the entries and values that could not be placed in the case,
        and says when nothing clinical was found (an empty bundle, or a Patient alone).
    """
    from livermet.units import UnitError, convert

    data = _load(bundle_json)
    case: dict[str, Any] = {}
    unmapped: list[str] = []
    latest: dict[str, str] = {}  # field key -> effective date of the value kept

    def keep(key: str, res: Mapping[str, Any]) -> bool:
        """Several values for one field: keep the latest (by effective date)."""
        when = str(res.get("effectiveDateTime") or res.get("issued") or "")
        if key in latest:
            older = min(when, latest[key])
            unmapped.append(f"{_label(res)}: several values for {key}; kept the latest, "
                            f"ignored the one of {older or 'unknown date'}")
            if when < latest[key]:
                return False
        latest[key] = when
        return True

    patients = [e.get("resource") for e in data.get("entry") or []
                if isinstance(e, Mapping) and (e.get("resource") or {}).get("resourceType") == "Patient"]
    if len(patients) > 1:
        raise FhirImportError(f"entry: {len(patients)} Patient resources; a case is one patient "
                              "(split the bundle per patient)")
    patient_id = None
    lesions: dict[str, dict[str, Any]] = {}
    measurements: list[tuple[str, dict[str, Any]]] = []
    for entry in data.get("entry") or []:
        res = (entry or {}).get("resource") or {}
        rtype = res.get("resourceType")
        if rtype == "Patient":
            patient_id = res.get("id")
            pat = case.setdefault("patient", {})
            for ident in res.get("identifier") or []:
                system = ident.get("system")
                if system == CASE_ID_SYSTEM:
                    case["id"] = ident.get("value")
                elif _has(ident.get("type"), V2_0203, "MR") or system == MRN_SYSTEM:
                    pat["mrn"] = ident.get("value")
                else:
                    # the value is an identifier: never echo it into logs
                    unmapped.append(f"Patient identifier of system {system}: not used")
            if res.get("gender") in ("male", "female"):
                pat["sex"] = res["gender"]
            elif res.get("gender"):
                unmapped.append(f"Patient.gender {res['gender']!r}: livermet records female|male")
            if res.get("birthDate"):
                pat["birth_date"] = res["birthDate"]
            for n in res.get("name") or []:
                text = n.get("text") or " ".join([*(n.get("given") or []), n.get("family") or ""]).strip()
                if text:
                    pat["name"] = text
                    break
        elif rtype == "Condition":
            codes = _codings(res.get("code"))
            profiles = (res.get("meta") or {}).get("profile") or []
            if any(c == LIVER_METASTASIS_SNOMED[0] and s == SNOMED or
                   c.startswith("C78.7") and s in (ICD10, ICD10CM) for s, c, _ in codes):
                continue  # the liver metastases: the subject of the whole case
            if any(c == CIRRHOSIS_SNOMED[0] and s == SNOMED or c.startswith("K74.6")
                   for s, c, _ in codes):
                _set(case, ("liver", "cirrhosis"), True)
                continue
            secondary = PROFILE_SECONDARY in profiles or any(
                s in (ICD10, ICD10CM) and c[:3] in ("C77", "C78", "C79") for s, c, _ in codes)
            if secondary:
                _set(case, ("metastases", "extrahepatic", "present"), True)
                site = (res.get("code") or {}).get("text") or (codes[0][2] if codes else "")
                case["metastases"]["extrahepatic"].setdefault("sites", []).append(site or "unknown")
                continue
            site = None
            for s, c, _ in codes:
                if s == SNOMED and c in SNOMED_SITE:
                    site = SNOMED_SITE[c]
                elif s in (ICD10, ICD10CM):
                    site = next((v for pfx, v in ICD10_PREFIX_SITE if c.startswith(pfx)), site)
                if site:
                    break
            if site is None and PROFILE_PRIMARY in profiles:
                site = "other"
                unmapped.append(f"{_label(res)}: primary cancer code not in livermet's table; "
                                "site set to 'other'")
            if site is None:
                unmapped.append(f"{_label(res)}: condition not used by livermet")
                continue
            _set(case, ("primary", "site"), site)
            ver = [c for _, c, _ in _codings(res.get("verificationStatus"))]
            if "confirmed" in ver:
                _set(case, ("primary", "confirmed"), True)
            elif any(v in ("unconfirmed", "provisional", "differential") for v in ver):
                _set(case, ("primary", "confirmed"), False)
        elif rtype == "Observation":
            _import_observation(res, case, unmapped, keep, lesions, measurements, convert,
                                UnitError)
        elif rtype == "CarePlan" and any(_has((a.get("detail") or {}).get("code"), OPTION_SYSTEM,
                                             (_codings((a.get("detail") or {}).get("code")) or
                                              [("", "", "")])[0][1])
                                        for a in res.get("activity") or []):
            continue  # livermet's own options: recomputed by `livermet assess`
        else:
            unmapped.append(f"{_label(res)}: resource type not used by livermet")

    if lesions:
        for lid, m in measurements:
            if lid in lesions:
                lesions[lid].setdefault("measurements", []).append(m)
            else:
                unmapped.append(f"lesion measurement for unknown lesion {lid!r}")
        for les in lesions.values():
            les.get("measurements", []).sort(key=lambda m: m.get("date") or "")
        _set(case, ("metastases", "lesions"), list(lesions.values()))
    elif measurements:
        unmapped.append(f"{len(measurements)} lesion measurement(s) without their lesion")
    case_id_in_bundle = "id" in case  # livermet's own export names the case
    if "id" not in case:
        case["id"] = f"fhir-{patient_id or 'patient'}"
    pat = case.get("patient") or {}
    if pat.get("age") is None and pat.get("birth_date"):
        ref = str(case.get("meeting_date") or _dt.date.today().isoformat())[:10]
        try:
            bd = _dt.date.fromisoformat(str(pat["birth_date"])[:10])
            on = _dt.date.fromisoformat(ref)
            pat["age"] = on.year - bd.year - ((on.month, on.day) < (bd.month, bd.day))
        except ValueError:
            unmapped.append(f"Patient.birthDate {pat['birth_date']!r}: not a date; age unknown")
    clinical = [k for k in case if k not in ("id", "patient")] + [
        k for k in pat if k not in _IDENTITY_FIELDS]
    if not clinical and not case_id_in_bundle:
        # an empty bundle (or only a Patient) gave a valid case with nothing to assess
        n = len(data.get("entry") or [])
        holds = "the patient's identity and demographics" if pat else "an id"
        unmapped.append(f"nothing clinical found in the bundle ({n} entr{'y' if n == 1 else 'ies'}): "
                        f"the case holds only {holds}; is this the patient's clinical bundle?")
    return _order(case), unmapped


# Patient fields that identify the patient rather than describe the disease.
_IDENTITY_FIELDS = ("name", "mrn", "birth_date", "age", "sex")


def _import_observation(res, case, unmapped, keep, lesions, measurements, convert, UnitError):
    code = res.get("code")
    loincs = _loinc(code)
    local = [c for s, c, _ in _codings(code) if s == LOCAL_SYSTEM]
    when = res.get("effectiveDateTime")
    if local:
        lc = local[0]
        if lc in LOCAL_BY_CODE:
            path, _, _, kind, unit = LOCAL_BY_CODE[lc]
            v = _read_value(kind, res)
            if v is None:
                unmapped.append(f"{_label(res)}: no value of the expected kind ({kind})")
            elif keep(lc, res):
                _set(case, path, _num(v))
            return
        if lc == CODE_SEGMENT_VOLUMES:
            seg = {}
            for comp in res.get("component") or []:
                cc = [c for s, c, _ in _codings(comp.get("code")) if s == LOCAL_SYSTEM]
                if cc and cc[0].startswith("segment-") and comp.get("valueQuantity"):
                    seg[cc[0].split("-")[1]] = _num(comp["valueQuantity"].get("value"))
            _set(case, ("volumetry", "segments_ml"), seg)
            return
        if lc in (CODE_LESION, CODE_MEASUREMENT):
            vals: dict[str, Any] = {}
            for comp in res.get("component") or []:
                cc = [c for s, c, _ in _codings(comp.get("code")) if s == LOCAL_SYSTEM]
                if not cc:
                    continue
                k = cc[0]
                if k == "lesion-id":
                    vals["id"] = comp.get("valueString")
                elif k == "lesion-segments":
                    vals["segments"] = [int(x) for x in str(comp.get("valueString", "")).split(",")
                                        if x.strip().isdigit()]
                elif k == "lesion-diameter":
                    vals["diameter_mm"] = _num((comp.get("valueQuantity") or {}).get("value"))
                elif k == "lesion-density":
                    vals["density_hu"] = _num((comp.get("valueQuantity") or {}).get("value"))
                elif k in ("lesion-near-major-vessel", "lesion-target", "lesion-visible"):
                    vals[k.split("-", 1)[1].replace("-", "_")] = comp.get("valueBoolean")
            if lc == CODE_LESION:
                lid = vals.get("id") or f"L{len(lesions) + 1}"
                vals["id"] = lid
                lesions[lid] = vals
            else:
                lid = vals.pop("id", None)
                vals["date"] = when
                measurements.append((lid, vals))
            return
        if lc.startswith(SCORE_PREFIX):
            return  # derived: livermet recomputes its scores
        unmapped.append(f"{_label(res)}: unknown livermet code {lc!r}")
        return
    for lc in loincs:
        key = LAB_ALIASES.get(lc) or next((k for k, v in LAB_CODES.items() if v[0] == lc), None)
        if key:
            q = res.get("valueQuantity") or {}
            if q.get("value") is None:
                unmapped.append(f"{_label(res)}: no numeric value")
                return
            unit = q.get("code") or q.get("unit")
            unit = _UCUM_TO_LIVERMET.get(unit, unit)
            quantity = LAB_CODES[key][3]
            try:
                value: Any = _num(round(convert(quantity, float(q["value"]), unit), 6))
            except UnitError as exc:
                value = {"value": q["value"], "unit": unit}
                unmapped.append(f"{_label(res)}: {exc}; kept as given for validation")
            if keep(key, res):
                _set(case, ("labs", key), value)
            return
        if lc == LOINC_ECOG:
            v = res.get("valueInteger")
            if v is None:
                v = (res.get("valueQuantity") or {}).get("value")
            if v is None:
                unmapped.append(f"{_label(res)}: no integer value")
            elif keep("ecog", res):
                _set(case, ("patient", "ecog"), int(v))
            return
        if lc in (LOINC_HEIGHT[0], LOINC_WEIGHT[0]):
            q = res.get("valueQuantity") or {}
            field, quantity = (("height_cm", "height") if lc == LOINC_HEIGHT[0]
                               else ("weight_kg", "mass"))
            try:
                v = convert(quantity, float(q["value"]), q.get("code") or q.get("unit"))
            except (UnitError, KeyError, TypeError, ValueError) as exc:
                unmapped.append(f"{_label(res)}: {exc}")
                return
            if keep(field, res):
                _set(case, ("patient", field), _num(round(v, 6)))
            return
        if lc == LOINC_VARIANT:
            genes = [c for comp in res.get("component") or []
                     if LOINC_GENE in _loinc(comp.get("code"))
                     for s, c, d in _codings(comp.get("valueCodeableConcept"))]
            gene_names = {c: d for comp in res.get("component") or []
                          for s, c, d in _codings(comp.get("valueCodeableConcept"))}
            aa = " ".join(str((comp.get("valueCodeableConcept") or {}).get("text", "")) + " " +
                          " ".join(c for _, c, _ in _codings(comp.get("valueCodeableConcept")))
                          for comp in res.get("component") or []
                          if LOINC_AA_CHANGE in _loinc(comp.get("code")))
            val = [c for _, c, _ in _codings(res.get("valueCodeableConcept"))]
            present = True if LA_PRESENT[0] in val else False if LA_ABSENT[0] in val else None
            found = False
            for key, (gene, hgnc) in GENES.items():
                if hgnc in genes or gene in gene_names.values() or gene in genes:
                    found = True
                    if present is None:
                        unmapped.append(f"{_label(res)}: {gene} result neither present nor absent")
                        continue
                    if key == "braf_v600e" and present and aa.strip() and not (
                            "V600E" in aa or "Val600Glu" in aa):
                        _set(case, ("primary", "biomarkers", key), False)
                        unmapped.append(f"{_label(res)}: BRAF variant {aa.strip()} is not "
                                        "V600E; braf_v600e set false")
                        continue
                    if key == "braf_v600e" and present and not aa.strip():
                        unmapped.append(f"{_label(res)}: BRAF variant without amino-acid "
                                        "change; V600E status left unknown")
                        continue
                    if keep(key, res):
                        _set(case, ("primary", "biomarkers", key), present)
            if not found:
                unmapped.append(f"{_label(res)}: variant in a gene livermet does not use")
            return
        if lc == LOINC_MSI:
            val = [c for _, c, _ in _codings(res.get("valueCodeableConcept"))]
            v = True if LA_MSI_H[0] in val else False if (LA_MSI_STABLE[0] in val or
                                                          LA_MSI_L in val) else None
            if v is None:
                unmapped.append(f"{_label(res)}: MSI answer not recognised")
            elif keep("msi_high", res):
                _set(case, ("primary", "biomarkers", "msi_high"), v)
            return
        if lc == LOINC_HER2:
            val = [c for _, c, _ in _codings(res.get("valueCodeableConcept"))]
            v = True if LA_POSITIVE[0] in val else False if LA_NEGATIVE[0] in val else None
            if v is None:
                unmapped.append(f"{_label(res)}: HER2 answer not recognised (equivocal?)")
            elif keep("her2_amplified", res):
                _set(case, ("primary", "biomarkers", "her2_amplified"), v)
            return
    unmapped.append(f"{_label(res)}: observation not used by livermet")


_TOP_ORDER = ["id", "meeting_date", "patient", "primary", "metastases", "labs", "liver",
              "volumetry", "pathology", "radiotherapy", "sirt", "mdt"]


def _order(case: dict[str, Any]) -> dict[str, Any]:
    return {k: case[k] for k in sorted(case, key=lambda k: (_TOP_ORDER.index(k)
                                                            if k in _TOP_ORDER else 99, k))}


def leaf_paths(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten a case to ``{"a.b.c": value}`` (non-empty leaves only) for comparisons."""
    out: dict[str, Any] = {}
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            out.update(leaf_paths(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, list) and obj and all(isinstance(x, Mapping) for x in obj):
        for i, v in enumerate(obj):
            out.update(leaf_paths(v, f"{prefix}[{i}]"))
    elif obj is not None and obj != [] and obj != {}:
        out[prefix] = obj
    return out


def export_gaps(case: Any) -> list[str]:
    """Case fields that a FHIR export does not carry (e.g. image paths, MDT attendees)."""
    c = _as_case_dict(case)
    back, _ = bundle_to_case(case_to_bundle(c))
    before, after = leaf_paths(c), leaf_paths(back)
    return sorted(k for k in before if k not in after)
