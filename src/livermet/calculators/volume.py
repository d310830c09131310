"""Body size and liver volume: BSA, standardised liver volume, sFLR, kinetic growth rate.

References
----------
Mosteller RD. Simplified calculation of body-surface area. N Engl J Med 1987;317:1098.
Du Bois D, Du Bois EF. A formula to estimate the approximate surface area if height and weight
be known. Arch Intern Med 1916;17:863.
Vauthey JN, et al. Body surface area and body weight predict total liver volume in Western
adults. Liver Transpl 2002;8:233.
Vauthey JN, et al. Standardized measurement of the future liver remnant prior to extended
liver resection. Surgery 2000;127:512.
Kishi Y, et al. Three hundred and one consecutive extended right hepatectomies. Ann Surg
2009;250:540.
Shindoh J, et al. Kinetic growth rate after portal vein embolization predicts posthepatectomy
outcomes. J Am Coll Surg 2013;216:201.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from livermet.calculators._common import fmt, review, round_half_up
from livermet.calculators.base import (
    CalculatorInputError,
    Example,
    Param,
    Result,
    Source,
    calculator,
)
from livermet.calculators.runner import prepare
from livermet.case.ranges import HEIGHT_CM as _HEIGHT_RANGE
from livermet.case.ranges import WEIGHT_KG as _WEIGHT_RANGE

DOMAIN = "volume"

# --- Body surface area -------------------------------------------------------------------
MOSTELLER = Source("Mosteller RD. N Engl J Med 1987;317:1098", doi="10.1056/NEJM198710223171717")
DUBOIS = Source("Du Bois D, Du Bois EF. Arch Intern Med 1916;17:863")
MOSTELLER_DIVISOR = 3600.0  # Mosteller 1987: sqrt(height cm x weight kg / 3600)
DUBOIS_COEFFICIENT = 0.007184  # Du Bois 1916: 0.007184 x W^0.425 x H^0.725
DUBOIS_WEIGHT_EXPONENT = 0.425
DUBOIS_HEIGHT_EXPONENT = 0.725

# --- Standardised total liver volume (mL from BSA in m^2) --------------------------------
VAUTHEY_2002 = Source("Vauthey JN, et al. Liver Transpl 2002;8:233")
URATA_1995 = Source("Urata K, et al. Hepatology 1995;21:1317")
HEINEMANN_1999 = Source("Heinemann A, et al. Liver Transpl Surg 1999;5:366")
JOHNSON_2005 = Source("Johnson TN, et al. Liver Transpl 2005;11:1481")
# (intercept, slope) for linear forms; Johnson is a power law.
VAUTHEY_INTERCEPT, VAUTHEY_SLOPE = -794.41, 1267.28  # Vauthey 2002 (Western adults; default)
URATA_SLOPE, URATA_INTERCEPT = 706.2, 2.4  # Urata 1995
HEINEMANN_SLOPE, HEINEMANN_INTERCEPT = 1072.8, -345.7  # Heinemann 1999
JOHNSON_COEFFICIENT, JOHNSON_EXPONENT = 722.0, 1.176  # Johnson 2005: 722 x BSA^1.176

SLV_FORMULAS = ("vauthey", "urata", "heinemann", "johnson")
SLV_SOURCES = {
    "vauthey": VAUTHEY_2002,
    "urata": URATA_1995,
    "heinemann": HEINEMANN_1999,
    "johnson": JOHNSON_2005,
}
SLV_WORDS = {
    "vauthey": "-794.41 + 1267.28 x BSA",
    "urata": "706.2 x BSA + 2.4",
    "heinemann": "1072.8 x BSA - 345.7",
    "johnson": "722 x BSA^1.176",
}

# --- sFLR thresholds (percent), from the primary literature (calculators.md section 1) ----
VAUTHEY_2000 = Source("Vauthey JN, et al. Surgery 2000;127:512")
KISHI_2009 = Source("Kishi Y, et al. Ann Surg 2009;250:540")
SHINDOH_2013_ASO = Source("Shindoh J, et al. Ann Surg Oncol 2013;20:2493")
KUBOTA_1997 = Source("Kubota K, et al. Hepatology 1997;26:1176")
REVIEW_FLR = review("Surgical Resection", 38)
REVIEW_FLR_MEASURED = review("Surgical Resection")  # measured ratio; "25% insufficient" (no ref.)
SFLR_MIN_NORMAL = 20.0  # Kishi 2009: normal liver
SFLR_MIN_CHEMOTHERAPY = 30.0  # Shindoh 2013 (ASO): after prolonged (>12 weeks) chemotherapy
SFLR_MIN_CIRRHOSIS = 40.0  # Kubota 1997: fibrosis or cirrhosis
SFLR_MIN = {"normal": SFLR_MIN_NORMAL, "chemotherapy": SFLR_MIN_CHEMOTHERAPY, "cirrhosis": SFLR_MIN_CIRRHOSIS}
SFLR_MIN_SOURCE = {"normal": KISHI_2009, "chemotherapy": SHINDOH_2013_ASO, "cirrhosis": KUBOTA_1997}
# The review's stricter figures (Surgical Resection), shown as cautions, not as cut-offs:
REVIEW_CHEMOTHERAPY_MIN = 40.0  # [38] "minimum FLR of 40%" with chemotherapy-induced hepatotoxicity
REVIEW_DECOMPENSATED_MIN = 50.0  # [38] "can be 50%" in severely decompensated (cirrhotic) livers
REVIEW_INSUFFICIENT = 25.0  # the review calls a remnant of about 25% of the liver insufficient
CHEMOTHERAPY_PROLONGED_WEEKS = 12  # Shindoh 2013: "prolonged" = more than 12 weeks

# --- Kinetic growth rate after PVE --------------------------------------------------------
SHINDOH_2013_JACS = Source("Shindoh J, et al. J Am Coll Surg 2013;216:201")
KGR_MIN = 2.0  # %/week; below it, PHLI 21.6% vs 0% (Shindoh 2013, JACS)


def _bsa(height_cm: float, weight_kg: float, formula: str) -> float:
    if formula == "dubois":
        return (
            DUBOIS_COEFFICIENT
            * weight_kg**DUBOIS_WEIGHT_EXPONENT
            * height_cm**DUBOIS_HEIGHT_EXPONENT
        )
    return math.sqrt(height_cm * weight_kg / MOSTELLER_DIVISOR)


def _slv(bsa_m2: float, formula: str) -> float:
    if formula == "urata":
        return URATA_SLOPE * bsa_m2 + URATA_INTERCEPT
    if formula == "heinemann":
        return HEINEMANN_SLOPE * bsa_m2 + HEINEMANN_INTERCEPT
    if formula == "johnson":
        return JOHNSON_COEFFICIENT * bsa_m2**JOHNSON_EXPONENT
    return VAUTHEY_INTERCEPT + VAUTHEY_SLOPE * bsa_m2


# Not clinical: sFLR values are reported to 0.1 %, so a value within half a step of the
# minimum prints as the minimum itself; the result then says how close it really is.
SFLR_DISPLAY_HALF_STEP = 0.05

# Body size parameters, one definition. Their limits are the case validator's hard ranges
# (livermet.case.ranges: a plain table, no case model), so a height the case refuses is refused
# here too (the calculator accepted 30 cm and 1 kg, the case 50 cm and 10 kg).
HEIGHT = Param("height_cm", unit="cm", quantity="height", help="Body height",
               minimum=_HEIGHT_RANGE.hard[0], maximum=_HEIGHT_RANGE.hard[1])
WEIGHT = Param("weight_kg", unit="kg", quantity="mass", help="Body weight",
               minimum=_WEIGHT_RANGE.hard[0], maximum=_WEIGHT_RANGE.hard[1])
BSA = Param("bsa_m2", unit="m^2", quantity="area", help="Body surface area",
            minimum=0.1, maximum=4.0)


@calculator(
    "bsa",
    "Body surface area (Mosteller or DuBois)",
    params=[
        HEIGHT,
        WEIGHT,
        Param("formula", kind="choice", choices=("mosteller", "dubois"), default="mosteller",
              required=False, help="BSA formula"),
    ],
    sources=[MOSTELLER, DUBOIS],
    domain=DOMAIN,
    unit="m^2",
    examples=[
        # Hand: sqrt(180 x 81 / 3600) = sqrt(4.05) = 2.0125 -> 2.01
        Example({"height_cm": 180, "weight_kg": 81}, value=2.01, tolerance=0.005,
                source="hand calculation from Mosteller 1987: sqrt(180*81/3600)=2.0125"),
        # Hand: 0.007184 x 70^0.425 x 170^0.725 = 0.007184 x 6.08368 x 41.40716 = 1.8097
        Example({"height_cm": 170, "weight_kg": 70, "formula": "dubois"}, value=1.81,
                tolerance=0.005,
                source="hand calculation from Du Bois 1916: 0.007184*70^0.425*170^0.725=1.8097"),
    ],
)
def bsa(*, height_cm: float, weight_kg: float, formula: str = "mosteller") -> Result:
    """Body surface area in m^2 (Mosteller 1987 by default, or Du Bois 1916).

    References
    ----------
    Mosteller, N Engl J Med 1987;317:1098. Du Bois, Arch Intern Med 1916;17:863.
    """
    a = prepare("bsa", locals())
    h, w, f = a["height_cm"], a["weight_kg"], a["formula"]
    exact = _bsa(h, w, f)
    other = "dubois" if f == "mosteller" else "mosteller"
    other_value = _bsa(h, w, other)
    words = (
        "sqrt(height cm x weight kg / 3600)" if f == "mosteller"
        else "0.007184 x weight kg^0.425 x height cm^0.725"
    )
    return Result(
        name="bsa",
        value=round_half_up(exact, 2),
        unit="m^2",
        inputs={"height_cm": h, "weight_kg": w, "formula": f},
        formula=f"BSA ({f.capitalize()}) = {words}",
        notes=(
            f"{other.capitalize()} gives {other_value:.2f} m^2 "
            f"({100 * (other_value - exact) / exact:+.1f}%); the two differ by under 1% in "
            "most adults.",
        ),
        sources=(MOSTELLER if f == "mosteller" else DUBOIS,),
        details={"bsa_m2_unrounded": exact, f"bsa_{other}_m2": other_value},
    )


@calculator(
    "standard_liver_volume",
    "Standardised total liver volume from body surface area",
    params=[
        replace(BSA, group="body.bsa"),
        replace(HEIGHT, group="body.height_weight", help="Body height (BSA by Mosteller)"),
        replace(WEIGHT, group="body.height_weight", help="Body weight (BSA by Mosteller)"),
        Param("formula", kind="choice", choices=SLV_FORMULAS, default="vauthey", required=False,
              help="Standard liver volume formula (Vauthey 2002 for Western adults)"),
    ],
    sources=[VAUTHEY_2002, URATA_1995, HEINEMANN_1999, JOHNSON_2005],
    domain=DOMAIN,
    unit="mL",
    examples=[
        # Hand: -794.41 + 1267.28 x 2.0 = 1740.15 mL
        Example({"bsa_m2": 2.0}, value=1740.15, tolerance=0.01,
                source="hand calculation from Vauthey 2002: -794.41 + 1267.28*2.0"),
        # Hand: 706.2 x 1.6 + 2.4 = 1132.32 mL
        Example({"bsa_m2": 1.6, "formula": "urata"}, value=1132.32, tolerance=0.01,
                source="hand calculation from Urata 1995: 706.2*1.6 + 2.4"),
    ],
)
def standard_liver_volume(
    *,
    bsa_m2: float | None = None,
    height_cm: float | None = None,
    weight_kg: float | None = None,
    formula: str = "vauthey",
) -> Result:
    """Standardised total liver volume (mL) from BSA, or from height and weight (Mosteller).

    References
    ----------
    Vauthey, Liver Transpl 2002;8:233 (default); Urata, Hepatology 1995;21:1317; Heinemann,
    Liver Transpl Surg 1999;5:366; Johnson, Liver Transpl 2005;11:1481.
    """
    a = prepare("standard_liver_volume", locals())
    f = a["formula"]
    notes = []
    inputs: dict[str, Any] = {"formula": f}
    if a["bsa_m2"] is not None:
        b = a["bsa_m2"]
        inputs["bsa_m2"] = b
    else:
        b = _bsa(a["height_cm"], a["weight_kg"], "mosteller")
        inputs.update(height_cm=a["height_cm"], weight_kg=a["weight_kg"])
        notes.append(f"BSA {b:.2f} m^2 by Mosteller from height and weight.")
    v = _slv(b, f)
    if v <= 0:
        raise CalculatorInputError("standard_liver_volume", "bsa_m2", b,
                                   "a body surface area for which the formula gives a positive volume")
    others = {k: round_half_up(_slv(b, k), 1) for k in SLV_FORMULAS if k != f}
    notes.append("Other formulas: " + ", ".join(f"{k} {fmt(x, 1)} mL" for k, x in others.items()) + ".")
    if f == "vauthey":
        notes.append("Vauthey 2002 was derived in Western adults; Urata 1995 in Japanese adults.")
    return Result(
        name="standard_liver_volume",
        value=round_half_up(v, 2),
        unit="mL",
        inputs=inputs,
        formula=f"sTLV ({f.capitalize()}) = {SLV_WORDS[f]} (BSA in m^2)",
        notes=tuple(notes),
        sources=(SLV_SOURCES[f],),
        details={"bsa_m2": b, "other_formulas_ml": others},
    )


@calculator(
    "sflr",
    "Future liver remnant ratio (measured or standardised) and its adequacy",
    params=[
        Param("remnant_ml", unit="mL", quantity="volume", help="Future liver remnant volume",
              minimum=0, exclusive_minimum=True),
        Param("total_liver_ml", unit="mL", quantity="volume", group="basis.measured",
              help="Total liver volume including tumour (measured ratio)", minimum=0,
              exclusive_minimum=True),
        Param("tumour_ml", unit="mL", quantity="volume", group="basis.measured",
              help="Tumour volume (measured ratio)", minimum=0),
        replace(HEIGHT, group="basis.standardised", help="Body height (standardised ratio, Vauthey)"),
        replace(WEIGHT, group="basis.standardised", help="Body weight (standardised ratio, Vauthey)"),
        replace(BSA, group="basis.standardised_bsa",
                help="Body surface area (standardised ratio, instead of height and weight)"),
        Param("liver_condition", kind="choice", choices=("normal", "chemotherapy", "cirrhosis"),
              default="normal", required=False,
              help="normal 20%, chemotherapy (>12 weeks) 30%, cirrhosis/fibrosis 40% minimum"),
        Param("threshold_percent", unit="%", quantity="percent", required=False,
              help="Override the minimum adequate sFLR", minimum=0, maximum=100,
              exclusive_minimum=True),
        Param("method", kind="choice", choices=("auto", "measured", "standardised"),
              default="auto", required=False,
              help="auto: measured when total and tumour volumes are given, else standardised"),
    ],
    sources=[VAUTHEY_2000, KISHI_2009, SHINDOH_2013_ASO, KUBOTA_1997, REVIEW_FLR],
    domain=DOMAIN,
    unit="%",
    examples=[
        # Hand: 620 / (1650 - 45) x 100 = 620 / 1605 x 100 = 38.63 % -> adequate (>= 20)
        Example({"remnant_ml": 620, "total_liver_ml": 1650, "tumour_ml": 45}, value=38.6,
                category="adequate", tolerance=0.05,
                source="hand calculation (review, Surgical Resection): 620/(1650-45)*100=38.63"),
        # Hand: BSA sqrt(175 x 75 / 3600) = 1.9094; sTLV -794.41 + 1267.28 x 1.9094 = 1625.3
        # sFLR 300 / 1625.3 x 100 = 18.46 % -> inadequate (< 20)
        Example({"remnant_ml": 300, "height_cm": 175, "weight_kg": 75}, value=18.5,
                category="inadequate", tolerance=0.05,
                source="hand calculation (Vauthey 2000/2002): 300/(-794.41+1267.28*1.9094)*100"),
    ],
)
def sflr(
    *,
    remnant_ml: float,
    total_liver_ml: float | None = None,
    tumour_ml: float | None = None,
    height_cm: float | None = None,
    weight_kg: float | None = None,
    bsa_m2: float | None = None,
    liver_condition: str = "normal",
    threshold_percent: float | None = None,
    method: str = "auto",
) -> Result:
    """Future liver remnant as a percentage of the functional (or standardised) liver volume.

    Measured: FLR / (TLV - tumour) x 100. Standardised: FLR / sTLV(Vauthey 2002) x 100.
    Adequate when at or above the minimum for the liver's condition (normal 20%, after
    prolonged chemotherapy 30%, fibrosis/cirrhosis 40%) or ``threshold_percent``.

    References
    ----------
    Vauthey, Surgery 2000;127:512; Kishi, Ann Surg 2009;250:540; Shindoh, Ann Surg Oncol
    2013;20:2493; Kubota, Hepatology 1997;26:1176; review, Surgical Resection [38].
    """
    a = prepare("sflr", locals())
    flr = a["remnant_ml"]
    have_measured = a["total_liver_ml"] is not None and a["tumour_ml"] is not None
    have_std = a["bsa_m2"] is not None or (a["height_cm"] is not None and a["weight_kg"] is not None)
    m = a["method"]
    if m == "auto":
        m = "measured" if have_measured else "standardised"
    if m == "measured" and not have_measured:
        raise CalculatorInputError("sflr", "total_liver_ml+tumour_ml", None,
                                   "total and tumour volumes in mL for method=measured")
    if m == "standardised" and not have_std:
        raise CalculatorInputError("sflr", "height_cm+weight_kg | bsa_m2", None,
                                   "height and weight (or BSA) for method=standardised")
    inputs: dict[str, Any] = {"remnant_ml": flr}
    details: dict[str, Any] = {"method": m}
    notes: list[str] = []
    sources: list[Source] = []
    measured = standardised = None
    if have_measured:
        tlv, tum = a["total_liver_ml"], a["tumour_ml"]
        functional = tlv - tum
        if functional <= 0:
            raise CalculatorInputError("sflr", "tumour_ml", tum,
                                       f"a tumour volume smaller than total_liver_ml ({fmt(tlv)} mL)")
        if flr > functional:
            raise CalculatorInputError(
                "sflr", "remnant_ml", flr,
                f"a remnant no larger than the functional liver volume (total - tumour = {fmt(functional)} mL)",
            )
        measured = 100.0 * flr / functional
        details["functional_liver_ml"] = functional
        details["sflr_measured_percent"] = measured
        inputs.update(total_liver_ml=tlv, tumour_ml=tum)
    if have_std:
        if a["bsa_m2"] is not None:
            b = a["bsa_m2"]
            inputs["bsa_m2"] = b
        else:
            b = _bsa(a["height_cm"], a["weight_kg"], "mosteller")
            inputs.update(height_cm=a["height_cm"], weight_kg=a["weight_kg"])
        stlv = _slv(b, "vauthey")
        if stlv <= 0:
            raise CalculatorInputError("sflr", "bsa_m2", b, "a BSA giving a positive standard liver volume")
        standardised = 100.0 * flr / stlv
        details.update(bsa_m2=b, standard_liver_volume_ml=stlv,
                       sflr_standardised_percent=standardised)
    if m == "measured":
        value = measured
        formula = "sFLR = FLR / (total liver volume - tumour volume) x 100"
        sources.append(REVIEW_FLR_MEASURED)
        if standardised is not None:
            notes.append(f"Standardised (Vauthey) ratio for comparison: {standardised:.1f}%.")
    else:
        value = standardised
        formula = ("sFLR = FLR / standardised total liver volume x 100; sTLV = -794.41 + "
                   "1267.28 x BSA (Vauthey 2002), BSA by Mosteller")
        sources += [VAUTHEY_2000, VAUTHEY_2002]
        if measured is not None:
            notes.append(f"Measured ratio for comparison: {measured:.1f}%.")
    cond = a["liver_condition"]
    inputs["liver_condition"] = cond
    if a["threshold_percent"] is not None:
        threshold = a["threshold_percent"]
        inputs["threshold_percent"] = threshold
        notes.append(f"Minimum set by the user to {fmt(threshold, 1)}% "
                     f"(literature minimum for a {cond} liver: {fmt(SFLR_MIN[cond])}%).")
    else:
        threshold = SFLR_MIN[cond]
        sources.append(SFLR_MIN_SOURCE[cond])
    category = "adequate" if value >= threshold else "inadequate"
    details["threshold_percent"] = threshold
    # The review's stricter figures, shown as cautions when the value falls between.
    cautions: list[tuple[str, Source]] = []
    if cond == "normal" and threshold <= value < REVIEW_INSUFFICIENT:
        cautions.append((f"the review calls a remnant of about {fmt(REVIEW_INSUFFICIENT)}% "
                         "insufficient and suggests considering FLR augmentation (e.g. PVE)",
                         REVIEW_FLR_MEASURED))
    if cond == "chemotherapy" and threshold <= value < REVIEW_CHEMOTHERAPY_MIN:
        cautions.append((f"the review asks for a minimum of {fmt(REVIEW_CHEMOTHERAPY_MIN)}% "
                         "when chemotherapy has injured the liver", REVIEW_FLR))
    if cond == "cirrhosis" and threshold <= value < REVIEW_DECOMPENSATED_MIN:
        cautions.append((f"the review notes the minimum can be {fmt(REVIEW_DECOMPENSATED_MIN)}% "
                         "in a severely decompensated liver", REVIEW_FLR))
    for text, src in cautions:
        ref = f" [{src.review_ref}]" if src.review_ref is not None else ""
        notes.append(f"Caution: adequate by the {fmt(threshold, 1)}% minimum, but {text} "
                     f"(review, Surgical Resection{ref}).")
        sources.append(src)
    cautions_text = [text for text, _ in cautions]
    details["cautions"] = cautions_text
    if abs(value - threshold) < SFLR_DISPLAY_HALF_STEP:
        notes.append(f"The ratio ({value:.3f}%) would display as the minimum itself "
                     f"(within {SFLR_DISPLAY_HALF_STEP} points); volumetry error is larger "
                     "than this margin.")
    notes.append("Volume does not measure function: chemotherapy can impair the remnant's "
                 "quality (review, Surgical Resection).")
    return Result(
        name="sflr",
        value=round_half_up(value, 1),
        unit="%",
        category=category,
        inputs=inputs,
        formula=formula + f"; adequate when >= {fmt(threshold, 1)}% ({cond} liver)",
        notes=tuple(notes),
        sources=tuple(dict.fromkeys(sources)),
        details={**details, "sflr_percent_unrounded": value},
    )


@calculator(
    "kgr",
    "Kinetic growth rate of the remnant after portal vein embolisation",
    params=[
        Param("sflr_before", unit="%", quantity="percent", help="sFLR before PVE",
              minimum=0, maximum=100),
        Param("sflr_after", unit="%", quantity="percent", help="sFLR after PVE",
              minimum=0, maximum=100),
        Param("weeks", unit="weeks", quantity="time_weeks", help="Time since PVE",
              minimum=0, exclusive_minimum=True, maximum=52),
    ],
    sources=[SHINDOH_2013_JACS],
    domain=DOMAIN,
    unit="%/week",
    examples=[
        # Hand: (28 - 18) / 4 = 2.5 %/week -> adequate (>= 2.0)
        Example({"sflr_before": 18, "sflr_after": 28, "weeks": 4}, value=2.5,
                category="adequate", tolerance=1e-9,
                source="hand calculation from Shindoh 2013: (28-18)/4"),
        # Hand: (20 - 15) / 3 = 1.67 %/week -> inadequate (< 2.0)
        Example({"sflr_before": 15, "sflr_after": 20, "weeks": 3}, value=1.67,
                category="inadequate", tolerance=0.005,
                source="hand calculation from Shindoh 2013: (20-15)/3"),
    ],
)
def kgr(*, sflr_before: float, sflr_after: float, weeks: float) -> Result:
    """Kinetic growth rate (percentage points of sFLR per week) after PVE.

    References
    ----------
    Shindoh J, et al. J Am Coll Surg 2013;216:201.
    """
    a = prepare("kgr", locals())
    before, after, w = a["sflr_before"], a["sflr_after"], a["weeks"]
    dh = after - before
    value = dh / w
    category = "adequate" if value >= KGR_MIN else "inadequate"
    notes = [f"KGR below {fmt(KGR_MIN)}%/week carried a higher risk of post-hepatectomy liver "
             "insufficiency (21.6% vs 0%) in Shindoh 2013."]
    if dh < 0:
        notes.append("The remnant shrank after PVE; check the volumetry.")
    return Result(
        name="kgr",
        value=round_half_up(value, 2),
        unit="%/week",
        category=category,
        inputs={"sflr_before": before, "sflr_after": after, "weeks": w},
        formula=f"KGR = (sFLR after - sFLR before) / weeks since PVE; adequate when >= {fmt(KGR_MIN)}%/week",
        notes=tuple(notes),
        sources=(SHINDOH_2013_JACS,),
        details={"degree_of_hypertrophy_points": dh, "kgr_unrounded": value},
    )


def sflr_before_after_pve(
    remnant_before_ml: float,
    remnant_after_ml: float,
    *,
    height_cm: float | None = None,
    weight_kg: float | None = None,
    total_liver_ml: float | None = None,
    tumour_ml: float | None = None,
) -> tuple[float, float, str] | None:
    """The sFLR before and after portal vein embolisation on one basis, for the KGR.

    Standardised (Vauthey sTLV) when height and weight are known, as Shindoh 2013 measured
    the KGR; otherwise measured against the same total functional volume. Returns the
    unrounded percentages and a note naming the basis, or None when neither basis is known.
    Unrounded, so the KGR is not computed from display-rounded values.
    """
    if height_cm is not None and weight_kg is not None:
        basis = {"height_cm": height_cm, "weight_kg": weight_kg, "method": "standardised"}
        note = "sFLR before and after PVE standardised (Vauthey), as in Shindoh 2013"
    elif total_liver_ml is not None and tumour_ml is not None:
        basis = {"total_liver_ml": total_liver_ml, "tumour_ml": tumour_ml, "method": "measured"}
        note = ("sFLR before and after PVE measured against the same total volume "
                "(height/weight unknown; Shindoh 2013 used the standardised ratio)")
    else:
        return None
    before = sflr(remnant_ml=remnant_before_ml, **basis)
    after = sflr(remnant_ml=remnant_after_ml, **basis)
    return (before.details["sflr_percent_unrounded"], after.details["sflr_percent_unrounded"],
            note)
