"""Liver transplantation for metastases: Milan-NET and TRANSMET eligibility, Oslo score.

Eligibility calculators check each criterion separately and report which were met, which
failed and which could not be assessed for lack of input. The category is ``not_eligible``
as soon as one criterion fails, ``eligible`` only when all are met, and ``indeterminate``
when none failed but some could not be assessed.

References
----------
Mazzaferro V, et al. Liver transplantation for hepatic metastases of neuroendocrine tumors.
J Hepatol 2007;47:460.
Adam R, et al. Liver transplantation plus chemotherapy versus chemotherapy alone in patients
with permanently unresectable colorectal liver metastases (TRANSMET). Lancet 2024;404:1107.
Dueland S, et al. (Oslo score), Ann Surg.
"""

from __future__ import annotations

from typing import Any, Callable

from livermet.calculators._common import check_note, fmt, review
from livermet.calculators.base import Example, Param, Result, Source, calculator
from livermet.calculators.runner import prepare

DOMAIN = "transplant"

MAZZAFERRO_2007 = Source("Mazzaferro V, et al. J Hepatol 2007;47:460")
REVIEW_TRANSPLANT = review("Liver Transplantation", 45)
MILAN_KI67_BELOW = 10.0  # Ki-67 < 10% (low grade, well differentiated)
MILAN_INVOLVEMENT_BELOW = 50.0  # liver involvement < 50%
MILAN_STABLE_MONTHS = 6.0  # stable disease or response >= 6 months
MILAN_AGE_BELOW = 55.0  # age < 55 (relative; later series used 60)
MILAN_AGE_LATER = 60.0

ADAM_2024 = Source("Adam R, et al. Lancet 2024;404:1107 (TRANSMET)")
TRANSMET_AGE_MIN, TRANSMET_AGE_MAX = 18.0, 65.0  # age 18-65
TRANSMET_ECOG_MAX = 1  # ECOG 0-1
TRANSMET_CHEMO_MONTHS_MIN = 3.0  # response or stability for >= 3 months of chemotherapy
TRANSMET_LINES_MAX = 3  # at most 3 lines

# Not confirmed: no abstract read defines the score. Dueland et al., JAMA Surg 2023
# (doi:10.1001/jamasurg.2023.2932) lists "largest tumor size greater than 5.5 cm" among the
# negative predictors of overall survival, which matches the first criterion only.
DUELAND = Source("Dueland S, et al. Ann Surg (Oslo score)", check=True)
OSLO_DIAMETER_MM = 55.0  # largest > 5.5 cm
OSLO_CEA = 80.0  # CEA > 80 ug/L
OSLO_MONTHS = 24.0  # < 2 years from primary resection to transplant
OSLO_FORMULA = (f"1 point each: largest > {OSLO_DIAMETER_MM / 10:g} cm; CEA > {OSLO_CEA:g} ug/L; "
                f"progression on chemotherapy; < {OSLO_MONTHS / 12:g} years from primary resection")

_ELIGIBLE, _NOT, _INDET = "eligible", "not_eligible", "indeterminate"


def _assess(criteria: list[tuple[str, str, Any, Callable[[Any], bool]]]) -> tuple[str, dict[str, Any]]:
    """criteria: (key, words, value, passes(value)); value None -> not assessable."""
    table: dict[str, dict[str, Any]] = {}
    failed, unknown, met = [], [], []
    for key, words, value, ok in criteria:
        if value is None:
            status = "not_assessable"
            unknown.append(key)
        elif ok(value):
            status = "met"
            met.append(key)
        else:
            status = "failed"
            failed.append(key)
        table[key] = {"criterion": words, "value": value, "status": status}
    cat = _NOT if failed else _INDET if unknown else _ELIGIBLE
    return cat, {"criteria": table, "failed": failed, "not_assessable": unknown, "met": met}


BOOL = dict(kind="bool", required=False)


@calculator(
    "milan_net",
    "Milan criteria for liver transplantation in neuroendocrine metastases",
    params=[
        Param("ki67_percent", unit="%", quantity="percent", required=False,
              help="Ki-67 index", minimum=0, maximum=100),
        Param("liver_involvement_percent", unit="%", quantity="percent", required=False,
              help="Share of the liver involved", minimum=0, maximum=100),
        Param("age", unit="years", quantity="age", required=False, help="Age", minimum=0, maximum=120),
        Param("primary_resected", help="Primary removed by curative resection", **BOOL),
        Param("portal_drainage", help="Primary drained by the portal system", **BOOL),
        Param("stable_months", unit="months", quantity="time_months", required=False,
              help="Months of stable disease or response", minimum=0, maximum=600),
        Param("extrahepatic", help="Extrahepatic disease", **BOOL),
        Param("differentiation", kind="choice", choices=("well", "moderate", "poor"),
              required=False, help="Tumour differentiation (well required)"),
        Param("age_limit", unit="years", quantity="age", required=False, default=MILAN_AGE_BELOW,
              help="Age limit (relative criterion; 55 in 2007, 60 in later series)",
              minimum=18, maximum=120),
    ],
    sources=[MAZZAFERRO_2007, REVIEW_TRANSPLANT],
    domain=DOMAIN,
    examples=[
        Example({"ki67_percent": 3, "liver_involvement_percent": 30, "age": 48,
                 "primary_resected": True, "portal_drainage": True, "stable_months": 8,
                 "extrahepatic": False}, value=_ELIGIBLE, category=_ELIGIBLE,
                source="Mazzaferro 2007 criteria checked one by one: all met"),
        Example({"ki67_percent": 12, "liver_involvement_percent": 50, "age": 48,
                 "primary_resected": True, "portal_drainage": True, "stable_months": 8,
                 "extrahepatic": False}, value=_NOT, category=_NOT,
                source="Mazzaferro 2007: Ki-67 12% (not < 10) and involvement 50% (not < 50) fail"),
    ],
)
def milan_net(*, ki67_percent: float | None = None, liver_involvement_percent: float | None = None,
              age: float | None = None, primary_resected: bool | None = None,
              portal_drainage: bool | None = None, stable_months: float | None = None,
              extrahepatic: bool | None = None, differentiation: str | None = None,
              age_limit: float = MILAN_AGE_BELOW) -> Result:
    """Milan-NET eligibility (Mazzaferro 2007); failed and unassessable criteria in details."""
    a = prepare("milan_net", locals())
    limit = a["age_limit"]
    criteria = [
        ("ki67", "Ki-67 < 10% (low grade)", a["ki67_percent"], lambda v: v < MILAN_KI67_BELOW),
        ("liver_involvement", "liver involvement < 50%", a["liver_involvement_percent"],
         lambda v: v < MILAN_INVOLVEMENT_BELOW),
        ("age", f"age < {fmt(limit)} (relative)", a["age"], lambda v: v < limit),
        ("primary_resected", "primary removed by curative resection", a["primary_resected"],
         lambda v: v is True),
        ("portal_drainage", "primary drained by the portal system", a["portal_drainage"],
         lambda v: v is True),
        ("stable_disease", "stable disease or response for >= 6 months", a["stable_months"],
         lambda v: v >= MILAN_STABLE_MONTHS),
        ("no_extrahepatic_disease", "no extrahepatic disease", a["extrahepatic"], lambda v: v is False),
    ]
    if a["differentiation"] is not None:
        criteria.insert(1, ("well_differentiated", "well-differentiated tumour",
                            a["differentiation"], lambda v: v == "well"))
    cat, det = _assess(criteria)
    notes = ["The age limit is relative: 55 in Mazzaferro 2007, 60 in later series "
             "(set age_limit to change it)."]
    if det["failed"]:
        notes.append("Failed: " + "; ".join(det["criteria"][k]["criterion"] for k in det["failed"]) + ".")
    if det["not_assessable"]:
        notes.append("Not assessable (missing input): " + ", ".join(det["not_assessable"]) + ".")
    if det["failed"] == ["age"]:
        notes.append("Only the relative age criterion fails: a transplant centre may still consider the patient.")
    return Result(
        name="milan_net",
        value=cat,
        category=cat,
        inputs={k: v for k, v in a.items() if v is not None},
        formula=("All of: Ki-67 < 10%; liver involvement < 50%; age < 55 (relative); primary "
                 "resected, portal drainage; stable or responding >= 6 months; no extrahepatic disease"),
        notes=tuple(notes),
        sources=(MAZZAFERRO_2007, REVIEW_TRANSPLANT),
        details=det,
    )


@calculator(
    "transmet",
    "TRANSMET eligibility for liver transplantation in colorectal liver metastases",
    params=[
        Param("age", unit="years", quantity="age", required=False, help="Age", minimum=0, maximum=120),
        Param("ecog", kind="int", required=False, help="ECOG performance status", minimum=0, maximum=5),
        Param("primary_resected", help="Primary tumour resected", **BOOL),
        Param("braf_v600e", help="BRAF V600E mutation", **BOOL),
        Param("extrahepatic", help="Extrahepatic disease", **BOOL),
        Param("chemotherapy_months", unit="months", quantity="time_months", required=False,
              help="Months of chemotherapy with response or stability", minimum=0, maximum=600),
        Param("chemotherapy_lines", kind="int", required=False, help="Lines of chemotherapy",
              minimum=0, maximum=20),
        Param("response_to_chemotherapy", kind="choice", required=False,
              choices=("responding", "stable", "progressive"), help="Response to chemotherapy"),
    ],
    sources=[ADAM_2024],
    domain=DOMAIN,
    examples=[
        Example({"age": 52, "ecog": 0, "primary_resected": True, "braf_v600e": False,
                 "extrahepatic": False, "chemotherapy_months": 4, "chemotherapy_lines": 1,
                 "response_to_chemotherapy": "responding"}, value=_ELIGIBLE, category=_ELIGIBLE,
                source="Adam 2024 inclusion criteria checked one by one: all met"),
        Example({"age": 66, "ecog": 0, "primary_resected": True, "braf_v600e": False,
                 "extrahepatic": False, "chemotherapy_months": 4, "chemotherapy_lines": 4,
                 "response_to_chemotherapy": "stable"}, value=_NOT, category=_NOT,
                source="Adam 2024: age 66 (> 65) and 4 lines (> 3) fail"),
    ],
)
def transmet(*, age: float | None = None, ecog: int | None = None,
             primary_resected: bool | None = None, braf_v600e: bool | None = None,
             extrahepatic: bool | None = None, chemotherapy_months: float | None = None,
             chemotherapy_lines: int | None = None,
             response_to_chemotherapy: str | None = None) -> Result:
    """TRANSMET inclusion criteria (Adam 2024); failed and unassessable criteria in details."""
    a = prepare("transmet", locals())
    cat, det = _assess([
        ("age", "age 18-65", a["age"], lambda v: TRANSMET_AGE_MIN <= v <= TRANSMET_AGE_MAX),
        ("ecog", "ECOG 0-1", a["ecog"], lambda v: v <= TRANSMET_ECOG_MAX),
        ("primary_resected", "primary resected", a["primary_resected"], lambda v: v is True),
        ("braf_wild_type", "no BRAF V600E mutation", a["braf_v600e"], lambda v: v is False),
        ("liver_only", "no extrahepatic disease", a["extrahepatic"], lambda v: v is False),
        ("chemotherapy_duration", "chemotherapy for >= 3 months", a["chemotherapy_months"],
         lambda v: v >= TRANSMET_CHEMO_MONTHS_MIN),
        ("chemotherapy_lines", "at most 3 lines", a["chemotherapy_lines"],
         lambda v: v <= TRANSMET_LINES_MAX),
        ("response", "response or stability on chemotherapy", a["response_to_chemotherapy"],
         lambda v: v in ("responding", "stable")),
    ])
    notes = ["TRANSMET also requires permanently unresectable, liver-only disease as judged by "
             "the MDT's liver surgeons; that judgement is not assessed here."]
    if det["failed"]:
        notes.append("Failed: " + "; ".join(det["criteria"][k]["criterion"] for k in det["failed"]) + ".")
    if det["not_assessable"]:
        notes.append("Not assessable (missing input): " + ", ".join(det["not_assessable"]) + ".")
    return Result(
        name="transmet",
        value=cat,
        category=cat,
        inputs={k: v for k, v in a.items() if v is not None},
        formula=("All of: age 18-65; ECOG 0-1; primary resected, BRAF V600E absent; liver-only "
                 "disease; response or stability on chemotherapy for >= 3 months and <= 3 lines"),
        notes=tuple(notes),
        sources=(ADAM_2024,),
        details=det,
    )


@calculator(
    "oslo",
    "Oslo score for liver transplantation in colorectal liver metastases",
    params=[
        Param("largest_diameter_mm", unit="mm", quantity="length", help="Largest metastasis",
              minimum=0, exclusive_minimum=True, maximum=400),
        Param("cea", unit="ng/mL", quantity="cea", help="CEA (ug/L = ng/mL)", minimum=0, maximum=1e6),
        Param("progressive_on_chemotherapy", kind="bool", help="Progression on chemotherapy"),
        Param("months_since_resection", unit="months", quantity="time_months",
              help="Months from primary resection to transplant", minimum=0, maximum=600),
    ],
    sources=[DUELAND],
    domain=DOMAIN,
    unit="points",
    examples=[
        # Hand: 60 > 55 mm 1; CEA 100 > 80 1; not progressive 0; 30 months 0 -> 2
        Example({"largest_diameter_mm": 60, "cea": 100, "progressive_on_chemotherapy": False,
                 "months_since_resection": 30}, value=2,
                source="Oslo criteria (calculators.md, check) counted by hand: 1+1+0+0"),
        Example({"largest_diameter_mm": 55, "cea": 80, "progressive_on_chemotherapy": False,
                 "months_since_resection": 24}, value=0,
                source="Oslo criteria by hand: every value at its cut-off scores 0"),
    ],
)
def oslo(*, largest_diameter_mm: float, cea: float, progressive_on_chemotherapy: bool,
         months_since_resection: float) -> Result:
    """Oslo score (0-4): 1 point per criterion in OSLO_FORMULA (Dueland; calculators.md)."""
    a = prepare("oslo", locals())
    items = {
        "largest_diameter": (a["largest_diameter_mm"] > OSLO_DIAMETER_MM,
                             f"largest > {fmt(OSLO_DIAMETER_MM / 10)} cm"),
        "cea": (a["cea"] > OSLO_CEA, f"CEA > {fmt(OSLO_CEA)} ug/L"),
        "progressive_on_chemotherapy": (a["progressive_on_chemotherapy"], "progression on chemotherapy"),
        "time_from_resection": (a["months_since_resection"] < OSLO_MONTHS,
                                f"< {fmt(OSLO_MONTHS / 12)} years from primary resection"),
    }
    total = sum(1 for hit, _ in items.values() if hit)
    return Result(
        name="oslo",
        value=total,
        unit="points",
        inputs=dict(a),
        formula=OSLO_FORMULA,
        notes=(check_note("The Oslo score's criteria", "calculators.md section 4"),
               "Lower scores were associated with better survival after transplantation."),
        sources=(DUELAND,),
        details={"points": {k: {"points": int(hit), "criterion": w} for k, (hit, w) in items.items()}},
    )
