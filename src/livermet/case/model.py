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
    value: float
    unit: str


LabInput = Union[float, LabValue, None]


class Patient(_Model):
    name: Optional[str] = None
    birth_date: Optional[str] = None
    mrn: Optional[str] = Field(None, description="hospital identifier (dropped when de-identified)")
    age: Optional[float] = Field(None, description="years")
    sex: Optional[Sex] = None
    height_cm: Optional[float] = None
    weight_kg: Optional[float] = None
    ecog: Optional[int] = Field(None, description="ECOG performance status 0-4")


class Biomarkers(_Model):
    kras_mutant: Optional[bool] = None
    nras_mutant: Optional[bool] = None
    braf_v600e: Optional[bool] = None
    msi_high: Optional[bool] = None
    her2_amplified: Optional[bool] = None


class Primary(_Model):
    site: Optional[Site] = None
    confirmed: Optional[bool] = Field(None, description="false or null with site 'other': unknown primary")
    side: Optional[Side] = None
    histology: Optional[str] = None
    t_stage: Optional[str] = None
    node_positive: Optional[bool] = None
    serosal_invasion: Optional[bool] = None
    resected: Optional[bool] = None
    months_since_resection: Optional[float] = None
    portal_drainage: Optional[bool] = None
    ki67_percent: Optional[float] = None
    differentiation: Optional[Differentiation] = None
    biomarkers: Biomarkers = Field(default_factory=Biomarkers)


class Measurement(_Model):
    """One lesion measured at one time point (RECIST, disappearing metastases)."""

    date: str
    diameter_mm: Optional[float] = Field(None, description="null or 0 when no longer visible")
    visible: Optional[bool] = None


class Lesion(_Model):
    id: str
    segments: list[int] = Field(default_factory=list)
    diameter_mm: Optional[float] = None
    near_major_vessel: Optional[bool] = None
    target: Optional[bool] = Field(None, description="RECIST target lesion")
    measurements: list[Measurement] = Field(default_factory=list)


class Extrahepatic(_Model):
    present: Optional[bool] = None
    resectable: Optional[bool] = None
    sites: list[str] = Field(default_factory=list)


class Metastases(_Model):
    synchronous: Optional[bool] = None
    disease_free_interval_months: Optional[float] = None
    lesions: list[Lesion] = Field(default_factory=list)
    pattern: Optional[Pattern] = None
    liver_involvement_percent: Optional[float] = None
    extrahepatic: Extrahepatic = Field(default_factory=Extrahepatic)
    response_to_chemotherapy: Optional[Response] = None
    stable_months: Optional[float] = None
    recurrence_after_resection: Optional[bool] = None
    new_lesions: Optional[bool] = None


class Labs(_Model):
    bilirubin: LabInput = None
    albumin: LabInput = None
    inr: LabInput = None
    creatinine: LabInput = None
    sodium: LabInput = None
    cea: LabInput = None
    platelets: LabInput = None
    icg_r15: LabInput = None
    dialysis: Optional[bool] = None


class Liver(_Model):
    cirrhosis: Optional[bool] = None
    ascites: Optional[Ascites] = None
    encephalopathy: Optional[Encephalopathy] = None
    chemotherapy_weeks: Optional[float] = None
    chemotherapy_lines: Optional[int] = None


class Volumetry(_Model):
    total_liver_ml: Optional[float] = None
    tumour_ml: Optional[float] = None
    remnant_ml: Optional[float] = None
    planned_resection: Optional[str] = None
    segments_ml: Optional[dict[str, float]] = None
    source: Optional[str] = Field(None, description="'case' (typed in) or 'imaging' (computed)")
    # After portal vein embolisation: the remnant measured again, for the KGR.
    remnant_ml_after_pve: Optional[float] = None
    weeks_since_pve: Optional[float] = None


class Imaging(_Model):
    ct: Optional[str] = None
    masks: dict[str, Union[str, list[str]]] = Field(default_factory=dict)
    labels: Optional[str] = None
    labelset: Optional[str] = None
    landmarks: Optional[str] = None
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
    chemotherapy: Optional[dict[str, Any]] = Field(
        None, description="regimen details: {'regimen': 'FOLFOX', 'months': 4, 'lines': 1 ...}"
    )
