"""The case: one structured document per patient, as the MDT discusses it.

Field names, vocabularies and units here are a public contract (issue 2): hospital scripts
and integrations rely on them. Add fields freely; never rename or re-unit one.
Labs are numbers in canonical units (``livermet.units``) or ``{"value": x, "unit": "..."}``;
``livermet.case.validate`` converts them and checks plausibility.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

Site = Literal[
    "colorectal", "neuroendocrine", "breast", "uveal_melanoma", "gist", "sarcoma",
    "gastric", "pancreatic", "lung", "melanoma", "other",
]
Side = Literal["left", "right"]
Differentiation = Literal["well", "moderate", "poor"]
Pattern = Literal["discrete", "diffuse", "miliary"]
Response = Literal["responding", "stable", "progressive"]
Ascites = Literal["none", "controlled", "refractory"]
Encephalopathy = Literal["none", "grade_1_2", "grade_3_4"]
Sex = Literal["female", "male"]


class _Model(BaseModel):
    # Unknown keys are kept (forward compatible), but never silently interpreted.
    model_config = ConfigDict(extra="allow", frozen=False)


class LabValue(_Model):
    """A lab value in any unit that converts to the canonical one (livermet.units)."""

    value: float = Field(description="the number as reported by the laboratory")
    unit: str = Field(description="its unit, e.g. umol/L, g/L, mmol/L")


LabInput = Union[float, LabValue, None]


class Patient(_Model):
    name: Optional[str] = None
    birth_date: Optional[str] = None
    mrn: Optional[str] = Field(None, description="hospital identifier (dropped when de-identified)")
    age: Optional[float] = Field(None, description="age in years")
    sex: Optional[Sex] = Field(None, description="female | male (MELD 3.0 uses it)")
    height_cm: Optional[float] = Field(None, description="height in cm")
    weight_kg: Optional[float] = Field(None, description="weight in kg")
    ecog: Optional[int] = Field(None, description="ECOG performance status 0-4")
    symptoms: list[str] = Field(
        default_factory=list,
        description="liver-related symptoms, e.g. pain, nausea, vomiting, anorexia, jaundice (palliation)",
    )


class Biomarkers(_Model):
    kras_mutant: Optional[bool] = None
    nras_mutant: Optional[bool] = None
    braf_v600e: Optional[bool] = None
    msi_high: Optional[bool] = None
    her2_amplified: Optional[bool] = None


class Primary(_Model):
    site: Optional[Site] = Field(None, description="organ of the primary tumour")
    confirmed: Optional[bool] = Field(None, description="false or null with site 'other': unknown primary")
    side: Optional[Side] = Field(None, description="colorectal: left (splenic flexure to rectum) or right")
    histology: Optional[str] = None
    t_stage: Optional[str] = Field(None, description="TNM T category of the primary, e.g. T3")
    node_positive: Optional[bool] = Field(None, description="lymph-node-positive primary")
    serosal_invasion: Optional[bool] = Field(None, description="primary invades the serosa (Nordlinger)")
    resected: Optional[bool] = Field(None, description="primary tumour removed")
    months_since_resection: Optional[float] = Field(
        None, description="months from resection of the primary to now (Oslo score)"
    )
    portal_drainage: Optional[bool] = Field(None, description="primary drained by the portal system (Milan-NET)")
    ki67_percent: Optional[float] = Field(None, description="Ki-67 proliferation index, percent 0-100")
    differentiation: Optional[Differentiation] = None
    biomarkers: Biomarkers = Field(default_factory=Biomarkers)


class Measurement(_Model):
    """One lesion measured at one time point (RECIST, disappearing metastases)."""

    date: str = Field(description="ISO date YYYY-MM-DD")
    diameter_mm: Optional[float] = Field(None, description="null or 0 when no longer visible")
    visible: Optional[bool] = None
    density_hu: Optional[float] = Field(
        None, description="mean attenuation of the lesion on contrast-enhanced CT, Hounsfield units "
        "(HU); used for the Choi response (GIST)"
    )


class Lesion(_Model):
    id: str = Field(description="unique within the case, e.g. L1")
    segments: list[int] = Field(default_factory=list, description="Couinaud segments 1-8 it occupies")
    diameter_mm: Optional[float] = Field(None, description="largest diameter now, mm")
    near_major_vessel: Optional[bool] = Field(
        None, description="abuts a hepatic vein, the portal bifurcation or the IVC"
    )
    target: Optional[bool] = Field(None, description="RECIST target lesion")
    measurements: list[Measurement] = Field(default_factory=list)


class Extrahepatic(_Model):
    present: Optional[bool] = Field(None, description="disease outside the liver")
    resectable: Optional[bool] = Field(None, description="all extrahepatic disease resectable")
    sites: list[str] = Field(default_factory=list, description="e.g. lung, peritoneum, nodes")


class Metastases(_Model):
    synchronous: Optional[bool] = Field(None, description="found at or before diagnosis of the primary")
    disease_free_interval_months: Optional[float] = Field(
        None, description="months from the primary to the liver metastases (synchronous: 0)"
    )
    lesions: list[Lesion] = Field(default_factory=list)
    pattern: Optional[Pattern] = Field(None, description="discrete | diffuse | miliary")
    liver_involvement_percent: Optional[float] = Field(
        None, description="share of the liver replaced by tumour, percent 0-100"
    )
    extrahepatic: Extrahepatic = Field(default_factory=Extrahepatic)
    response_to_chemotherapy: Optional[Response] = Field(
        None, description="responding | stable | progressive on current chemotherapy"
    )
    stable_months: Optional[float] = Field(None, description="months of stable disease or response")
    recurrence_after_resection: Optional[bool] = None
    new_lesions: Optional[bool] = None


class Labs(_Model):
    bilirubin: LabInput = Field(None, description="total bilirubin, mg/dL (or {value, unit})")
    albumin: LabInput = Field(None, description="serum albumin, g/dL (or {value, unit})")
    inr: LabInput = Field(None, description="international normalised ratio")
    creatinine: LabInput = Field(None, description="serum creatinine, mg/dL (or {value, unit})")
    sodium: LabInput = Field(None, description="serum sodium, mmol/L")
    cea: LabInput = Field(None, description="carcinoembryonic antigen, ng/mL (= ug/L)")
    platelets: LabInput = Field(None, description="platelet count, 10^9/L")
    icg_r15: LabInput = Field(None, description="indocyanine green retention at 15 min, percent")
    dialysis: Optional[bool] = Field(None, description="dialysed twice (or CVVHD) in the past week (MELD)")
    cea_rising: Optional[bool] = Field(None, description="CEA rising on serial measurements (PET-CT work-up)")


class Liver(_Model):
    cirrhosis: Optional[bool] = Field(None, description="fibrosis or cirrhosis of the background liver")
    ascites: Optional[Ascites] = Field(None, description="none | controlled | refractory (Child-Pugh)")
    encephalopathy: Optional[Encephalopathy] = Field(None, description="none | grade_1_2 | grade_3_4")
    chemotherapy_weeks: Optional[float] = Field(
        None, description="weeks of preoperative chemotherapy (> 12: sFLR minimum 30%)"
    )
    chemotherapy_lines: Optional[int] = Field(None, description="lines of chemotherapy so far")


class Volumetry(_Model):
    total_liver_ml: Optional[float] = Field(None, description="total liver volume on CT, mL")
    tumour_ml: Optional[float] = Field(None, description="tumour volume inside the liver, mL")
    remnant_ml: Optional[float] = Field(None, description="future liver remnant, mL (before PVE)")
    planned_resection: Optional[str] = Field(None, description="e.g. right_hemihepatectomy")
    segments_ml: Optional[dict[str, float]] = Field(None, description="volume per Couinaud segment, mL")
    source: Optional[str] = Field(None, description="'case' (typed in) or 'imaging' (computed)")
    # After portal vein embolisation: the remnant measured again, for the KGR.
    remnant_ml_after_pve: Optional[float] = Field(None, description="future liver remnant after PVE, mL")
    weeks_since_pve: Optional[float] = Field(None, description="weeks from PVE to the second volumetry")
    # Non-anatomic (parenchyma-sparing) part of the plan: planned_resection "lesions" or
    # "<anatomic>+lesions" with these lesion ids, removed with this margin (imaging.resection).
    resect_lesions: Optional[list[str]] = Field(None, description="lesion ids removed non-anatomically, e.g. ['L1', 'L2']")
    margin_mm: Optional[float] = Field(None, description="margin around the resected lesions, mm (default 10)")


class Imaging(_Model):
    ct: Optional[str] = None
    masks: dict[str, Union[str, list[str]]] = Field(default_factory=dict)
    labels: Optional[str] = None
    labelset: Optional[str] = None
    landmarks: Optional[str] = None
    portal_branches: Optional[str] = Field(
        None,
        description="label map of the portal branches (value N: the branch feeding segment N); "
                    "Couinaud segments as portal territories when the labels have no segments",
    )
    studies: list[dict[str, Any]] = Field(
        default_factory=list,
        description="imaging already done: {'modality': 'ct'|'mri'|'pet_ct'|'dotatate_pet'..., 'date', 'phase'...}",
    )


class Pathology(_Model):
    """Resection specimen (after surgery)."""

    lesion_count: Optional[int] = None
    largest_diameter_mm: Optional[float] = None
    margin_mm: Optional[float] = None
    viable_tumour_percent: Optional[float] = None
    trg: Optional[int] = Field(None, description="Rubbia-Brandt tumour regression grade 1-5")
    growth_pattern: Optional[str] = None
    micrometastases: Optional[bool] = None
    non_tumour_liver: Optional[str] = Field(
        None, description="injury of the non-tumour liver, e.g. none, steatohepatitis, sinusoidal obstruction"
    )
    halo: Optional[bool] = Field(None, description="malignant halo around the metastasis (review, Conclusions)")


class Radiotherapy(_Model):
    """A planned stereotactic body radiotherapy course (for the BED calculator)."""

    dose_per_fraction_gy: Optional[float] = Field(None, description="dose per fraction, Gy")
    fractions: Optional[int] = Field(None, description="number of fractions")
    alpha_beta: Optional[float] = Field(None, description="alpha/beta ratio, Gy (tumour default 10)")


class Sirt(_Model):
    """Work-up for selective internal radiation therapy (Y-90)."""

    device: Optional[Literal["resin", "glass"]] = Field(None, description="resin | glass microspheres")
    lung_shunt_percent: Optional[float] = Field(None, description="lung shunt fraction on MAA scan, percent")
    target_dose_gy: Optional[float] = Field(None, description="intended dose to the target (glass, MIRD), Gy")
    target_mass_kg: Optional[float] = Field(None, description="mass of the perfused target, kg (MIRD)")


class MdtDecision(_Model):
    date: Optional[str] = None
    decision: Optional[str] = None
    attendees: list[dict[str, str]] = Field(
        default_factory=list, description="[{'name': ..., 'role': 'hepatobiliary_surgeon'...}]"
    )
    follow_up: Optional[str] = None


class Case(_Model):
    id: str
    meeting_date: Optional[str] = None
    patient: Patient = Field(default_factory=Patient)
    primary: Primary = Field(default_factory=Primary)
    metastases: Metastases = Field(default_factory=Metastases)
    labs: Labs = Field(default_factory=Labs)
    liver: Liver = Field(default_factory=Liver)
    volumetry: Volumetry = Field(default_factory=Volumetry)
    imaging: Optional[Imaging] = None
    pathology: Optional[Pathology] = None
    mdt: Optional[MdtDecision] = None
    radiotherapy: Optional[Radiotherapy] = None
    sirt: Optional[Sirt] = None
    chemotherapy: Optional[dict[str, Any]] = Field(
        None, description="regimen details: {'regimen': 'FOLFOX', 'months': 4, 'lines': 1 ...}"
    )
