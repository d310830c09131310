"""Liver function: ICG kinetics, ICGK-F, Makuuchi criteria, Child-Pugh, MELD family, ALBI.

References
----------
Yokoyama Y, Nagino M, et al. Br J Surg 2010;97:1260 (ICGK-F).
Makuuchi M, et al. Semin Surg Oncol 1993;9:298; Imamura H, et al. Arch Surg 2003;138:1198.
Pugh RNH, et al. Br J Surg 1973;60:646.
Kamath PS, et al. Hepatology 2001;33:464 (MELD); OPTN policy 9.1 (MELD/MELD-Na, 2016).
Kim WR, et al. N Engl J Med 2008;359:1018 (MELD-Na, Kim form).
Kim WR, et al. Gastroenterology 2021;161:1887 (MELD 3.0).
Johnson PJ, et al. J Clin Oncol 2015;33:550 (ALBI).
"""

from __future__ import annotations

import math
from typing import Any

from livermet.calculators._common import check_note, fmt, review, round_half_up
from livermet.calculators.base import (
    CalculatorInputError,
    Example,
    Param,
    Result,
    Source,
    calculator,
)
from livermet.calculators.runner import prepare
from livermet.units import BILIRUBIN_UMOL_PER_MG_DL

DOMAIN = "liver_function"

# --- ICG -----------------------------------------------------------------------------------
ICG_SOURCE = Source("ICG clearance kinetics: R15 = 100 exp(-15 k) (calculators.md section 2)",
                    review_section="Surgical Resection", review_ref=39)
ICG_R15_MINUTES = 15.0  # retention measured 15 minutes after injection
ICG_R15_NORMAL_MAX = 10.0  # R15 < 10% is normal (calculators.md section 2)

YOKOYAMA_2010 = Source("Yokoyama Y, Nagino M, et al. Br J Surg 2010;97:1260")
ICGK_F_MIN = 0.05  # below 0.05: high risk of post-hepatectomy mortality (Yokoyama 2010)

# --- Makuuchi ------------------------------------------------------------------------------
MAKUUCHI_1993 = Source("Makuuchi M, et al. Semin Surg Oncol 1993;9:298", check=True)
# Citation confirmed on PubMed (14609867): "One thousand fifty-six hepatectomies without mortality
# in 8 years", Arch Surg 2003;138(11):1198-206. The abstract gives no branch values, and a 2023
# nationwide validation (Hepatol Res 2023;53(2):127-134) names only the three variables
# (clinical ascites, serum bilirubin, ICG clearance): the bands stay "check".
IMAMURA_2003 = Source("Imamura H, et al. Arch Surg 2003;138(11):1198-1206",
                      doi="10.1001/archsurg.138.11.1198", check=True)
REVIEW_MAKUUCHI = review("Surgical Resection", 40)
MAKUUCHI_BILI_NO_RESECTION = 2.0  # mg/dL: >= 2.0 no resection
MAKUUCHI_BILI_ENUCLEATION = 1.5  # > 1.5 (1.6-1.9) enucleation only
MAKUUCHI_BILI_NORMAL = 1.0  # <= 1.0 normal -> decide by ICG-R15; 1.1-1.5 limited resection
# ICG-R15 (%) upper bounds, exclusive: < 10 hemihepatectomy or more, 10-19 sectionectomy,
# 20-29 segmentectomy, 30-39 limited resection, >= 40 enucleation.
MAKUUCHI_R15_BANDS = (
    (10.0, "hemihepatectomy", "up to hemihepatectomy or trisectionectomy (about 2/3 of the liver)"),
    (20.0, "sectionectomy", "left hepatectomy or right sectionectomy (about 1/3)"),
    (30.0, "segmentectomy", "Couinaud segmentectomy (about 1/6)"),
    (40.0, "limited_resection", "limited resection"),
)

# --- Child-Pugh ----------------------------------------------------------------------------
PUGH_1973 = Source("Pugh RNH, et al. Br J Surg 1973;60:646")
# Middle bands are inclusive at both ends (calculators.md section 2):
CP_BILI_LOW, CP_BILI_HIGH = 2.0, 3.0  # mg/dL: < 2 -> 1; 2-3 -> 2; > 3 -> 3
CP_ALB_LOW, CP_ALB_HIGH = 2.8, 3.5  # g/dL: > 3.5 -> 1; 2.8-3.5 -> 2; < 2.8 -> 3
CP_INR_LOW, CP_INR_HIGH = 1.7, 2.3  # < 1.7 -> 1; 1.7-2.3 -> 2; > 2.3 -> 3
CP_CLASS_A_MAX, CP_CLASS_B_MAX = 6, 9  # A 5-6, B 7-9, C 10-15
ASCITES_POINTS = {"none": 1, "controlled": 2, "refractory": 3}
ENCEPHALOPATHY_POINTS = {"none": 1, "grade_1_2": 2, "grade_3_4": 3}
CHILD_PUGH_FORMULA = (
    f"bilirubin <{CP_BILI_LOW:g} / {CP_BILI_LOW:g}-{CP_BILI_HIGH:g} / >{CP_BILI_HIGH:g} mg/dL; "
    f"albumin >{CP_ALB_HIGH:g} / {CP_ALB_LOW:g}-{CP_ALB_HIGH:g} / <{CP_ALB_LOW:g} g/dL; "
    f"INR <{CP_INR_LOW:g} / {CP_INR_LOW:g}-{CP_INR_HIGH:g} / >{CP_INR_HIGH:g}; ascites "
    "none/controlled/refractory; encephalopathy none/1-2/3-4 -> 1/2/3 points each; "
    f"A 5-{CP_CLASS_A_MAX}, B {CP_CLASS_A_MAX + 1}-{CP_CLASS_B_MAX}, C {CP_CLASS_B_MAX + 1}-15")

# --- MELD family ---------------------------------------------------------------------------
KAMATH_2001 = Source("Kamath PS, et al. Hepatology 2001;33:464 (OPTN form, policy 9.1)",
                     doi="10.1053/jhep.2001.22172")
OPTN_2016 = Source("OPTN/UNOS policy 9.1, MELD-Na (2016)")
KIM_2008 = Source("Kim WR, et al. N Engl J Med 2008;359:1018", doi="10.1056/NEJMoa0801209")
KIM_2021 = Source("Kim WR, et al. Gastroenterology 2021;161:1887")
MELD_COEF_CR, MELD_COEF_BILI, MELD_COEF_INR, MELD_CONST = 0.957, 0.378, 1.120, 0.643  # Kamath/OPTN
MELD_LAB_FLOOR = 1.0  # lab values below 1.0 are set to 1.0 (OPTN)
MELD_CR_CAP = 4.0  # creatinine capped at 4.0 mg/dL, and set to 4.0 with dialysis (OPTN)
MELD_MIN, MELD_MAX = 6, 40
MELD_NA_THRESHOLD = 11  # sodium term applies when MELD > 11 (OPTN 2016)
NA_FLOOR, NA_CEIL = 125.0, 137.0  # sodium bounded to 125-137 mmol/L
MELD_NA_COEF_1, MELD_NA_COEF_2 = 1.32, 0.033  # OPTN 2016 / Kim 2008
# MELD 3.0 (Kim 2021):
M3_FEMALE, M3_BILI, M3_NA, M3_NA_BILI = 1.33, 4.56, 0.82, 0.24
M3_INR, M3_CR, M3_ALB, M3_ALB_CR, M3_CONST = 9.09, 11.14, 1.85, 1.83, 6.0
M3_CR_CAP = 3.0  # creatinine capped at 3.0 mg/dL (3.0 with dialysis)
M3_ALB_FLOOR, M3_ALB_CEIL = 1.5, 3.5  # g/dL

# --- ALBI ----------------------------------------------------------------------------------
JOHNSON_2015 = Source("Johnson PJ, et al. J Clin Oncol 2015;33:550", doi="10.1200/JCO.2014.57.9151")
ALBI_COEF_BILI = 0.66  # x log10(bilirubin umol/L)
ALBI_COEF_ALB = -0.085  # x albumin g/L (Johnson 2015, as in calculators.md)
ALBI_COEF_ALB_ALT = -0.0852  # used by some other calculators; shown in notes only
ALBI_GRADE_1_MAX = -2.60  # grade 1 <= -2.60
ALBI_GRADE_2_MAX = -1.39  # grade 2 > -2.60 and <= -1.39; grade 3 > -1.39

BILIRUBIN = Param("bilirubin", unit="mg/dL", quantity="bilirubin", help="Total bilirubin",
                  minimum=0, exclusive_minimum=True, maximum=80)
ALBUMIN = Param("albumin", unit="g/dL", quantity="albumin", help="Serum albumin",
                minimum=0, exclusive_minimum=True, maximum=7)
INR = Param("inr", unit="1", quantity="inr", help="INR", minimum=0, exclusive_minimum=True,
            maximum=20)
CREATININE = Param("creatinine", unit="mg/dL", quantity="creatinine", help="Serum creatinine",
                   minimum=0, exclusive_minimum=True, maximum=30)
SODIUM = Param("sodium", unit="mmol/L", quantity="sodium", help="Serum sodium",
               minimum=90, maximum=200)
DIALYSIS = Param("dialysis", kind="bool", default=False, required=False,
                 help="Dialysis at least twice (or 24 h CVVHD) in the past week")
ASCITES = Param("ascites", kind="choice", choices=("none", "controlled", "refractory"),
                help="none | controlled (mild) | refractory (moderate-severe)")
ENCEPHALOPATHY = Param("encephalopathy", kind="choice", choices=("none", "grade_1_2", "grade_3_4"),
                       help="Hepatic encephalopathy grade")

ICG_PARAMS = [
    Param("icg_r15", unit="%", quantity="percent", group="icg", help="ICG retention at 15 min",
          minimum=0, exclusive_minimum=True, maximum=100),
    Param("icg_k", unit="1/min", quantity="icg_k", group="icg", help="ICG elimination rate constant",
          minimum=0, exclusive_minimum=True, maximum=5),
    Param("icg_pdr", unit="%/min", quantity="rate_percent_per_min", group="icg",
          help="ICG plasma disappearance rate", minimum=0, exclusive_minimum=True, maximum=500),
]


def _icg_k(a: dict[str, Any]) -> tuple[float, str]:
    """The elimination constant k (1/min) from whichever ICG value was given."""
    if a.get("icg_k") is not None:
        return a["icg_k"], "icg_k"
    if a.get("icg_pdr") is not None:
        return a["icg_pdr"] / 100.0, "icg_pdr"
    r15 = a["icg_r15"]
    if r15 >= 100:
        raise CalculatorInputError("icg", "icg_r15", r15, "a retention below 100%")
    return -math.log(r15 / 100.0) / ICG_R15_MINUTES, "icg_r15"


@calculator(
    "icg",
    "Indocyanine green clearance (R15, k, PDR, half-life)",
    params=ICG_PARAMS,
    sources=[ICG_SOURCE],
    domain=DOMAIN,
    unit="%",
    examples=[
        # Hand: k = 0.2 /min -> R15 = 100 exp(-3) = 4.979 %; PDR 20 %/min
        Example({"icg_k": 0.2}, value=4.98, category="normal", tolerance=0.005,
                source="hand calculation: R15 = 100*exp(-15*0.2) = 4.979"),
        # Hand: PDR 10 %/min -> k 0.1 -> R15 = 100 exp(-1.5) = 22.31 %
        Example({"icg_pdr": 10}, value=22.31, category="impaired", tolerance=0.005,
                source="hand calculation: R15 = 100*exp(-15*0.10) = 22.31"),
    ],
)
def icg(*, icg_r15: float | None = None, icg_k: float | None = None,
        icg_pdr: float | None = None) -> Result:
    """ICG retention at 15 minutes (R15, %) from R15, k (1/min) or PDR (%/min).

    R15 = 100 exp(-15 k); k = -ln(R15/100)/15; PDR = 100 k; half-life = ln 2 / k.
    Normal when R15 < 10%.
    """
    a = prepare("icg", locals())
    k, given = _icg_k(a)
    # The measured R15 when it was given (not its round trip through k, which can land a
    # hair above or below the 10% cut-off); otherwise R15 derived from k or PDR.
    r15 = float(a["icg_r15"]) if given == "icg_r15" else 100.0 * math.exp(-ICG_R15_MINUTES * k)
    category = "normal" if r15 < ICG_R15_NORMAL_MAX else "impaired"
    return Result(
        name="icg",
        value=round_half_up(r15, 2),
        unit="%",
        category=category,
        inputs={given: a[given]},
        formula="R15 = 100 x exp(-15 k); PDR = 100 k; half-life = ln 2 / k; normal when R15 < 10%",
        notes=("Hyperbilirubinaemia impairs ICG uptake, and ICG reflects whole-liver, not "
               "remnant, function (review, Surgical Resection [39]).",),
        sources=(ICG_SOURCE,),
        details={"icg_k_per_min": k, "icg_pdr_percent_per_min": 100.0 * k,
                 "half_life_min": math.log(2) / k, "icg_r15_percent": r15},
    )


@calculator(
    "icgk_f",
    "ICG clearance of the future remnant (ICGK-F)",
    params=[
        *ICG_PARAMS,
        Param("remnant_percent", unit="%", quantity="percent",
              help="Future remnant as % of the functional liver volume", minimum=0,
              exclusive_minimum=True, maximum=100),
    ],
    sources=[YOKOYAMA_2010],
    domain=DOMAIN,
    unit="1/min",
    examples=[
        # Hand: 0.15 x 0.40 = 0.060 -> adequate (>= 0.05)
        Example({"icg_k": 0.15, "remnant_percent": 40}, value=0.06, category="adequate",
                tolerance=1e-9, source="hand calculation from Yokoyama 2010: 0.15*0.40"),
        # Hand: R15 10% -> k = ln(10)/15 = 0.15351; x 0.30 = 0.04605 -> inadequate
        Example({"icg_r15": 10, "remnant_percent": 30}, value=0.046, category="inadequate",
                tolerance=0.0005,
                source="hand calculation: k=-ln(0.10)/15=0.15351; 0.15351*0.30=0.0461"),
    ],
)
def icgk_f(*, remnant_percent: float, icg_r15: float | None = None, icg_k: float | None = None,
           icg_pdr: float | None = None) -> Result:
    """ICGK-F = ICG-K x remnant fraction; below 0.05 high risk of mortality (Yokoyama 2010)."""
    a = prepare("icgk_f", locals())
    k, given = _icg_k(a)
    frac = a["remnant_percent"] / 100.0
    value = k * frac
    return Result(
        name="icgk_f",
        value=round_half_up(value, 3),
        unit="1/min",
        category="adequate" if value >= ICGK_F_MIN else "inadequate",
        inputs={given: a[given], "remnant_percent": a["remnant_percent"]},
        formula=f"ICGK-F = ICG-K x (FLR / functional liver volume); below {fmt(ICGK_F_MIN)} high risk",
        notes=(f"ICG-K {k:.4f}/min from {given}.",),
        sources=(YOKOYAMA_2010,),
        details={"icg_k_per_min": k, "remnant_fraction": frac, "icgk_f_unrounded": value},
    )


@calculator(
    "makuuchi",
    "Makuuchi criteria: extent of safe resection from ascites, bilirubin and ICG-R15",
    params=[
        ASCITES,
        BILIRUBIN,
        Param("icg_r15", unit="%", quantity="percent", required=False,
              help=f"ICG-R15 (needed when bilirubin is normal, <= {MAKUUCHI_BILI_NORMAL:g} mg/dL)",
              minimum=0,
              maximum=100),
    ],
    sources=[MAKUUCHI_1993, IMAMURA_2003, REVIEW_MAKUUCHI],
    domain=DOMAIN,
    examples=[
        Example({"ascites": "none", "bilirubin": 0.8, "icg_r15": 15}, value="sectionectomy",
                category="sectionectomy",
                source="Makuuchi 1993 decision tree as given in calculators.md: bilirubin normal, R15 10-19%"),
        Example({"ascites": "none", "bilirubin": 1.7}, value="enucleation", category="enucleation",
                source="Makuuchi 1993 decision tree as given in calculators.md: bilirubin 1.6-1.9"),
    ],
)
def makuuchi(*, ascites: str, bilirubin: float, icg_r15: float | None = None) -> Result:
    """Makuuchi's decision tree (category names the largest safe resection).

    Refractory ascites or bilirubin >= 2.0 mg/dL: no resection; 1.6-1.9: enucleation;
    1.1-1.5: limited resection; normal bilirubin: by ICG-R15 (<10% hemihepatectomy or more,
    10-19% sectionectomy, 20-29% segmentectomy, 30-39% limited resection, >=40% enucleation).
    """
    a = prepare("makuuchi", locals())
    asc, bili, r15 = a["ascites"], a["bilirubin"], a["icg_r15"]
    inputs: dict[str, Any] = {"ascites": asc, "bilirubin": bili}
    notes = [check_note("The branch values of Makuuchi's criteria", "calculators.md")]
    if asc == "refractory":
        cat, why = "no_resection", "refractory ascites"
    elif bili >= MAKUUCHI_BILI_NO_RESECTION:
        cat, why = "no_resection", f"bilirubin >= {fmt(MAKUUCHI_BILI_NO_RESECTION)} mg/dL"
    elif bili > MAKUUCHI_BILI_ENUCLEATION:
        cat, why = "enucleation", "bilirubin 1.6-1.9 mg/dL"
    elif bili > MAKUUCHI_BILI_NORMAL:
        cat, why = "limited_resection", "bilirubin 1.1-1.5 mg/dL"
    else:
        if r15 is None:
            raise CalculatorInputError("makuuchi", "icg_r15", None,
                                       f"ICG-R15 in % (required when bilirubin <= "
                                       f"{MAKUUCHI_BILI_NORMAL:g} mg/dL)")
        inputs["icg_r15"] = r15
        cat, why = "enucleation", "ICG-R15 >= 40%"
        for upper, band, words in MAKUUCHI_R15_BANDS:
            if r15 < upper:
                cat, why = band, f"normal bilirubin, ICG-R15 < {fmt(upper)}%: {words}"
                break
    if asc == "controlled":
        notes.append("Ascites controlled with diuretics: the tree proceeds to bilirubin; "
                     "uncontrolled ascites would exclude resection.")
    if bili > MAKUUCHI_BILI_NORMAL and r15 is not None:
        inputs["icg_r15"] = r15
        notes.append("ICG-R15 is not used when bilirubin is raised.")
    notes.append("Devised for hepatocellular carcinoma in diseased livers (review [40]); "
                 "apply to metastases with care.")
    return Result(
        name="makuuchi",
        value=cat,
        category=cat,
        inputs=inputs,
        formula="Makuuchi decision tree: ascites -> bilirubin -> ICG-R15 (" + why + ")",
        notes=tuple(notes),
        sources=(MAKUUCHI_1993, IMAMURA_2003, REVIEW_MAKUUCHI),
        details={"reason": why},
    )


def _points_low_good(x: float, low: float, high: float) -> int:
    """1 below ``low``, 2 from ``low`` to ``high`` inclusive, 3 above ``high``."""
    if x < low:
        return 1
    if x <= high:
        return 2
    return 3


def child_pugh_points(bilirubin: float, albumin: float, inr: float, ascites: str,
                      encephalopathy: str) -> dict[str, int]:
    """Points per item (each 1-3), inclusive middle bands."""
    if albumin > CP_ALB_HIGH:
        alb = 1
    elif albumin >= CP_ALB_LOW:
        alb = 2
    else:
        alb = 3
    return {
        "bilirubin": _points_low_good(bilirubin, CP_BILI_LOW, CP_BILI_HIGH),
        "albumin": alb,
        "inr": _points_low_good(inr, CP_INR_LOW, CP_INR_HIGH),
        "ascites": ASCITES_POINTS[ascites],
        "encephalopathy": ENCEPHALOPATHY_POINTS[encephalopathy],
    }


@calculator(
    "child_pugh",
    "Child-Pugh score and class",
    params=[BILIRUBIN, ALBUMIN, INR, ASCITES, ENCEPHALOPATHY],
    sources=[PUGH_1973],
    domain=DOMAIN,
    unit="points",
    examples=[
        # Hand: bili 2.0 -> 2 (inclusive), alb 3.5 -> 2 (inclusive), INR 1.2 -> 1, none -> 1,
        # none -> 1: total 7, class B
        Example({"bilirubin": 2.0, "albumin": 3.5, "inr": 1.2, "ascites": "none",
                 "encephalopathy": "none"}, value=7, category="B",
                source="Pugh 1973 table: 2+2+1+1+1 (middle bands inclusive)"),
        Example({"bilirubin": 0.7, "albumin": 4.1, "inr": 1.0, "ascites": "none",
                 "encephalopathy": "none"}, value=5, category="A",
                source="Pugh 1973 table: all items 1 point"),
    ],
)
def child_pugh(*, bilirubin: float, albumin: float, inr: float, ascites: str,
               encephalopathy: str) -> Result:
    """Child-Pugh points (5-15) and class A (5-6), B (7-9), C (10-15).

    Middle bands inclusive: bilirubin 2.0-3.0 mg/dL, albumin 2.8-3.5 g/dL, INR 1.7-2.3
    score 2 points.
    """
    a = prepare("child_pugh", locals())
    pts = child_pugh_points(a["bilirubin"], a["albumin"], a["inr"], a["ascites"], a["encephalopathy"])
    total = sum(pts.values())
    cls = "A" if total <= CP_CLASS_A_MAX else "B" if total <= CP_CLASS_B_MAX else "C"
    return Result(
        name="child_pugh",
        value=total,
        unit="points",
        category=cls,
        inputs=dict(a),
        formula=CHILD_PUGH_FORMULA,
        notes=("Boundary values score the middle band (e.g. bilirubin exactly 2.0 or 3.0 mg/dL "
               "scores 2).",),
        sources=(PUGH_1973,),
        details={"points": pts},
    )


def _meld_labs(bilirubin: float, inr: float, creatinine: float, dialysis: bool,
               cr_cap: float) -> tuple[float, float, float, list[str]]:
    notes = []
    b = max(bilirubin, MELD_LAB_FLOOR)
    i = max(inr, MELD_LAB_FLOOR)
    c = max(creatinine, MELD_LAB_FLOOR)
    if dialysis:
        c = cr_cap
        notes.append(f"Dialysis in the past week: creatinine set to {fmt(cr_cap)} mg/dL.")
    elif c > cr_cap:
        c = cr_cap
        notes.append(f"Creatinine capped at {fmt(cr_cap)} mg/dL.")
    floored = [n for n, v in (("bilirubin", bilirubin), ("INR", inr), ("creatinine", creatinine))
               if v < MELD_LAB_FLOOR and not (n == "creatinine" and dialysis)]
    if floored:
        notes.append(f"Set to 1.0 (values below 1.0 are raised): {', '.join(floored)}.")
    return b, i, c, notes


def _meld_optn(bilirubin: float, inr: float, creatinine: float, dialysis: bool) -> tuple[int, float, dict[str, float], list[str]]:
    b, i, c, notes = _meld_labs(bilirubin, inr, creatinine, dialysis, MELD_CR_CAP)
    meld_i = (MELD_COEF_CR * math.log(c) + MELD_COEF_BILI * math.log(b)
              + MELD_COEF_INR * math.log(i) + MELD_CONST)
    meld = int(round_half_up(round_half_up(meld_i, 1) * 10))
    meld = min(max(meld, MELD_MIN), MELD_MAX)
    return meld, meld_i, {"bilirubin": b, "inr": i, "creatinine": c}, notes


MELD_FORMULA = (f"MELD(i) = {MELD_COEF_CR} ln(creatinine) + {MELD_COEF_BILI} ln(bilirubin) + "
                f"{MELD_COEF_INR:.3f} ln(INR) + {MELD_CONST}; labs < {MELD_LAB_FLOOR} set to "
                f"{MELD_LAB_FLOOR}, creatinine capped at {MELD_CR_CAP} ({MELD_CR_CAP} with "
                f"dialysis); MELD(i) rounded to the tenth, x 10; bounded {MELD_MIN}-{MELD_MAX}")


@calculator(
    "meld",
    "MELD (OPTN form)",
    params=[BILIRUBIN, INR, CREATININE, DIALYSIS],
    sources=[KAMATH_2001],
    domain=DOMAIN,
    unit="points",
    examples=[
        # Hand: 0.957 ln 1.2 + 0.378 ln 2.0 + 1.120 ln 1.5 + 0.643
        #     = 0.17448 + 0.26201 + 0.45412 + 0.643 = 1.53361 -> 1.5 -> 15
        Example({"bilirubin": 2.0, "inr": 1.5, "creatinine": 1.2}, value=15,
                source="hand calculation, OPTN rounding: MELD(i)=1.5336 -> 1.5 x 10 = 15"),
        # Hand: all labs floored to 1.0 -> MELD(i) = 0.643 -> 0.6 -> 6
        Example({"bilirubin": 0.7, "inr": 1.0, "creatinine": 0.9}, value=6,
                source="hand calculation, OPTN: labs < 1 set to 1; 0.643 -> 0.6 x 10 = 6"),
    ],
)
def meld(*, bilirubin: float, inr: float, creatinine: float, dialysis: bool = False) -> Result:
    """MELD as computed by OPTN (Kamath 2001 coefficients; OPTN bounds and rounding)."""
    a = prepare("meld", locals())
    score, meld_i, used, notes = _meld_optn(a["bilirubin"], a["inr"], a["creatinine"], a["dialysis"])
    return Result(
        name="meld",
        value=score,
        unit="points",
        inputs=dict(a),
        formula=MELD_FORMULA,
        notes=tuple(notes),
        sources=(KAMATH_2001,),
        details={"meld_i": meld_i, "labs_used": used},
    )


def _meld_na(meld_score: int, sodium: float) -> tuple[int, float, float]:
    na = min(max(sodium, NA_FLOOR), NA_CEIL)
    if meld_score > MELD_NA_THRESHOLD:
        raw = meld_score + MELD_NA_COEF_1 * (NA_CEIL - na) - MELD_NA_COEF_2 * meld_score * (NA_CEIL - na)
    else:
        raw = float(meld_score)
    score = int(round_half_up(raw))
    return min(max(score, MELD_MIN), MELD_MAX), raw, na


@calculator(
    "meld_na",
    "MELD-Na (OPTN 2016)",
    params=[BILIRUBIN, INR, CREATININE, SODIUM, DIALYSIS],
    sources=[OPTN_2016, KAMATH_2001, KIM_2008],
    domain=DOMAIN,
    unit="points",
    examples=[
        # Hand: MELD 15 (see meld); Na 130: 15 + 1.32 x 7 - 0.033 x 15 x 7
        #     = 15 + 9.24 - 3.465 = 20.775 -> 21
        Example({"bilirubin": 2.0, "inr": 1.5, "creatinine": 1.2, "sodium": 130}, value=21,
                source="hand calculation, OPTN 2016: 15 + 1.32*7 - 0.033*15*7 = 20.775 -> 21"),
        # Hand: MELD 11 (not > 11) -> sodium not applied -> 11
        # MELD(i): bili 3.0, INR 1.0, Cr 1.0: 0.378 ln 3 + 0.643 = 0.41528 + 0.643 = 1.05828 -> 1.1 -> 11
        Example({"bilirubin": 3.0, "inr": 1.0, "creatinine": 1.0, "sodium": 125}, value=11,
                source="hand calculation, OPTN 2016: MELD 11 is not > 11, no sodium term"),
    ],
)
def meld_na(*, bilirubin: float, inr: float, creatinine: float, sodium: float,
            dialysis: bool = False) -> Result:
    """MELD-Na, OPTN 2016: when MELD > 11, MELD + 1.32 (137 - Na) - 0.033 MELD (137 - Na)."""
    a = prepare("meld_na", locals())
    m, meld_i, used, notes = _meld_optn(a["bilirubin"], a["inr"], a["creatinine"], a["dialysis"])
    score, raw, na = _meld_na(m, a["sodium"])
    if na != a["sodium"]:
        notes.append(f"Sodium bounded to {fmt(NA_FLOOR)}-{fmt(NA_CEIL)}: {fmt(na)} used.")
    if m <= MELD_NA_THRESHOLD:
        notes.append(f"MELD {m} is not above {MELD_NA_THRESHOLD}: the sodium term is not applied.")
    # The Kim 2008 form (used by some packages) applies the sodium term to the unrounded
    # MELD without the > 11 condition: MELD - Na - 0.025 MELD (140 - Na) + 140.
    kim_meld = 10 * meld_i
    na_kim = min(max(a["sodium"], 125.0), 140.0)  # Kim 2008 bounds: 125-140
    kim = kim_meld - na_kim - 0.025 * kim_meld * (140 - na_kim) + 140
    notes.append(f"The older Kim 2008 form (MELD - Na - 0.025 MELD (140 - Na) + 140, Na 125-140) "
                 f"would give {kim:.1f}; OPTN 2016 is used here.")
    return Result(
        name="meld_na",
        value=score,
        unit="points",
        inputs=dict(a),
        formula=("MELD as OPTN; if MELD > 11: MELD + 1.32 (137 - Na) - 0.033 MELD (137 - Na), "
                 "Na bounded 125-137; rounded to integer; bounded 6-40"),
        notes=tuple(notes),
        sources=(OPTN_2016, KAMATH_2001),
        details={"meld": m, "meld_i": meld_i, "sodium_used": na, "meld_na_unrounded": raw,
                 "labs_used": used, "kim_2008_form": kim},
    )


@calculator(
    "meld_3",
    "MELD 3.0",
    params=[
        Param("sex", kind="choice", choices=("female", "male"), help="female | male"),
        BILIRUBIN, INR, CREATININE, SODIUM, ALBUMIN, DIALYSIS,
    ],
    sources=[KIM_2021],
    domain=DOMAIN,
    unit="points",
    examples=[
        # Hand (all at the floors/ceilings: bili 1, INR 1, Cr 1, Na 137, alb 3.5):
        # 1.33 x 1 + 0 + 0 - 0 + 0 + 0 + 0 - 0 + 6 = 7.33 -> 7
        Example({"sex": "female", "bilirubin": 0.7, "inr": 1.0, "creatinine": 0.9,
                 "sodium": 139, "albumin": 4.1}, value=7,
                source="hand calculation from Kim 2021: 1.33 + 6 = 7.33 -> 7"),
        # Hand: male, bili 2.0, INR 1.5, Cr 1.2, Na 130, alb 3.0
        # 4.56 ln2 = 3.16076; 0.82 x 7 = 5.74; -0.24 x 7 x ln2 = -1.16449; 9.09 ln1.5 = 3.68568;
        # 11.14 ln1.2 = 2.03107; 1.85 x 0.5 = 0.925; -1.83 x 0.5 x ln1.2 = -0.16682; + 6
        # = 20.2112 -> 20
        Example({"sex": "male", "bilirubin": 2.0, "inr": 1.5, "creatinine": 1.2,
                 "sodium": 130, "albumin": 3.0}, value=20,
                source="hand calculation from Kim 2021 (arithmetic in the comment): 20.21 -> 20"),
    ],
)
def meld_3(*, sex: str, bilirubin: float, inr: float, creatinine: float, sodium: float,
           albumin: float, dialysis: bool = False) -> Result:
    """MELD 3.0 (Kim 2021), rounded to integer, bounded 6-40."""
    a = prepare("meld_3", locals())
    b, i, c, notes = _meld_labs(a["bilirubin"], a["inr"], a["creatinine"], a["dialysis"], M3_CR_CAP)
    na = min(max(a["sodium"], NA_FLOOR), NA_CEIL)
    alb = min(max(a["albumin"], M3_ALB_FLOOR), M3_ALB_CEIL)
    female = 1.0 if a["sex"] == "female" else 0.0
    raw = (M3_FEMALE * female + M3_BILI * math.log(b) + M3_NA * (137 - na)
           - M3_NA_BILI * (137 - na) * math.log(b) + M3_INR * math.log(i) + M3_CR * math.log(c)
           + M3_ALB * (3.5 - alb) - M3_ALB_CR * (3.5 - alb) * math.log(c) + M3_CONST)
    score = min(max(int(round_half_up(raw)), MELD_MIN), MELD_MAX)
    if na != a["sodium"]:
        notes.append(f"Sodium bounded to 125-137: {fmt(na)} used.")
    if alb != a["albumin"]:
        notes.append(f"Albumin bounded to 1.5-3.5 g/dL: {fmt(alb)} used.")
    return Result(
        name="meld_3",
        value=score,
        unit="points",
        inputs=dict(a),
        formula=("1.33 (female) + 4.56 ln(bili) + 0.82 (137 - Na) - 0.24 (137 - Na) ln(bili) + "
                 "9.09 ln(INR) + 11.14 ln(Cr) + 1.85 (3.5 - alb) - 1.83 (3.5 - alb) ln(Cr) + 6; "
                 "bili, INR, Cr >= 1; Cr <= 3 (3 with dialysis); Na 125-137; alb 1.5-3.5; "
                 "rounded, bounded 6-40"),
        notes=tuple(notes),
        sources=(KIM_2021,),
        details={"meld_3_unrounded": raw, "labs_used": {"bilirubin": b, "inr": i,
                 "creatinine": c, "sodium": na, "albumin": alb}},
    )


@calculator(
    "albi",
    "ALBI score and grade",
    params=[BILIRUBIN, ALBUMIN],
    sources=[JOHNSON_2015],
    domain=DOMAIN,
    unit="score",
    examples=[
        # Hand: bili 17.1 umol/L, albumin 40 g/L: 0.66 x log10(17.1) - 0.085 x 40
        #     = 0.66 x 1.23300 - 3.4 = 0.81378 - 3.4 = -2.58622 -> grade 2
        Example({"bilirubin": "17.1umol/L", "albumin": "40g/L"}, value=-2.59, category="2",
                tolerance=0.005,
                source="hand calculation from Johnson 2015: 0.66*log10(17.1) - 0.085*40 = -2.586"),
        # Hand: bili 10 umol/L, albumin 45 g/L: 0.66 - 3.825 = -3.165 -> grade 1
        Example({"bilirubin": "10umol/L", "albumin": "45g/L"}, value=-3.17, category="1",
                tolerance=0.005,
                source="hand calculation from Johnson 2015: 0.66*1 - 0.085*45 = -3.165"),
    ],
)
def albi(*, bilirubin: float, albumin: float) -> Result:
    """ALBI = 0.66 log10(bilirubin umol/L) - 0.085 albumin g/L; grades 1/2/3 at -2.60 and -1.39."""
    a = prepare("albi", locals())
    bili_umol = a["bilirubin"] * BILIRUBIN_UMOL_PER_MG_DL
    alb_gl = a["albumin"] * 10.0
    score = ALBI_COEF_BILI * math.log10(bili_umol) + ALBI_COEF_ALB * alb_gl
    grade = "1" if score <= ALBI_GRADE_1_MAX else "2" if score <= ALBI_GRADE_2_MAX else "3"
    return Result(
        name="albi",
        value=round_half_up(score, 2),
        unit="score",
        category=grade,
        inputs=dict(a),
        formula=("ALBI = 0.66 x log10(bilirubin umol/L) - 0.085 x albumin g/L; grade 1 <= -2.60 "
                 "< grade 2 <= -1.39 < grade 3"),
        notes=("The grade is taken from the unrounded score.",
               f"Some calculators use an albumin coefficient of {ALBI_COEF_ALB_ALT} instead of "
               f"{ALBI_COEF_ALB} (Johnson 2015); that would give "
               f"{ALBI_COEF_BILI * math.log10(bili_umol) + ALBI_COEF_ALB_ALT * alb_gl:.3f}."),
        sources=(JOHNSON_2015,),
        details={"albi_unrounded": score, "bilirubin_umol_l": bili_umol, "albumin_g_l": alb_gl},
    )
