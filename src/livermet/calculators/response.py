"""Response and pathology: RECIST 1.1, Choi, resection margin, pathological response.

References
----------
Eisenhauer EA, et al. New response evaluation criteria in solid tumours: revised RECIST
guideline (version 1.1). Eur J Cancer 2009;45:228.
Choi H, et al. J Clin Oncol 2007;25:1753.
Blazer DG, et al. J Clin Oncol 2008;26:5344. Rubbia-Brandt L, et al. Ann Oncol 2007;18:299.
"""

from __future__ import annotations

from livermet.calculators._common import check_note, fmt, review
from livermet.calculators.base import CalculatorInputError, Example, Param, Result, Source, calculator
from livermet.calculators.runner import prepare

DOMAIN = "response"

EISENHAUER_2009 = Source("Eisenhauer EA, et al. Eur J Cancer 2009;45:228 (RECIST 1.1)",
                         doi="10.1016/j.ejca.2008.10.026")
RECIST_PR_DECREASE = 30.0  # PR: >= 30% decrease of the sum from baseline
RECIST_PD_INCREASE = 20.0  # PD: >= 20% increase over the nadir ...
RECIST_PD_ABSOLUTE_MM = 5.0  # ... and >= 5 mm absolute increase

CHOI_2007 = Source("Choi H, et al. J Clin Oncol 2007;25:1753")
CHOI_SIZE = 10.0  # PR: >= 10% size decrease; PD: >= 10% size increase
CHOI_DENSITY = 15.0  # PR: >= 15% density (HU) decrease

REVIEW_MARGIN = review("Conclusions")
MARGIN_R0_MM = 1.0  # R0 >= 1 mm, R1 < 1 mm (the review's conclusions)

BLAZER_2008 = Source("Blazer DG, et al. J Clin Oncol 2008;26:5344", check=True)
RUBBIA_BRANDT_2007 = Source("Rubbia-Brandt L, et al. Ann Oncol 2007;18:299")
BLAZER_MAJOR_BELOW = 50.0  # complete 0%; major 1-49%; minor >= 50% viable tumour cells

SUM = dict(unit="mm", quantity="length", minimum=0, maximum=2000)


@calculator(
    "recist",
    "RECIST 1.1 time-point response of target lesions",
    params=[
        Param("baseline_sum_mm", help="Sum of target diameters at baseline", **SUM),
        Param("nadir_sum_mm", required=False,
              help="Smallest sum so far, baseline included (default: baseline)", **SUM),
        Param("current_sum_mm", help="Sum of target diameters now", **SUM),
        Param("new_lesions", kind="bool", default=False, required=False, help="Any new lesion"),
        Param("all_targets_gone", kind="bool", default=False, required=False,
              help="All target lesions disappeared (nodes < 10 mm short axis)"),
    ],
    sources=[EISENHAUER_2009],
    domain=DOMAIN,
    examples=[
        # Hand: (70 - 100) / 100 = -30% -> PR (exactly at the cut-off)
        Example({"baseline_sum_mm": 100, "current_sum_mm": 70}, value="PR", category="PR",
                source="RECIST 1.1 (Eisenhauer 2009): 30% decrease from baseline is PR"),
        # Hand: nadir 60, current 72: +20% and +12 mm -> PD although below baseline
        Example({"baseline_sum_mm": 100, "nadir_sum_mm": 60, "current_sum_mm": 72}, value="PD",
                category="PD",
                source="RECIST 1.1 (Eisenhauer 2009): +20% over nadir and +12 mm is PD"),
    ],
)
def recist(*, baseline_sum_mm: float, current_sum_mm: float, nadir_sum_mm: float | None = None,
           new_lesions: bool = False, all_targets_gone: bool = False) -> Result:
    """RECIST 1.1 response at one time point, computed afresh (no "sticky" PR).

    PD: any new lesion, or sum >= 20% above the nadir and >= 5 mm above it. CR: all targets
    gone. PR: sum >= 30% below baseline. Otherwise SD.
    """
    a = prepare("recist", locals())
    base, cur = a["baseline_sum_mm"], a["current_sum_mm"]
    nadir = a["nadir_sum_mm"] if a["nadir_sum_mm"] is not None else base
    if nadir > base:
        raise CalculatorInputError("recist", "nadir_sum_mm", nadir,
                                   f"the smallest sum so far, baseline included (<= {fmt(base)} mm)")
    if base <= 0 and not a["all_targets_gone"]:
        raise CalculatorInputError("recist", "baseline_sum_mm", base, "a positive sum in mm")
    change_base = 100.0 * (cur - base) / base if base > 0 else 0.0
    increase_mm = cur - nadir
    increase_pct = 100.0 * increase_mm / nadir if nadir > 0 else (float("inf") if increase_mm > 0 else 0.0)
    if a["new_lesions"]:
        cat, why = "PD", "new lesion"
    elif increase_pct >= RECIST_PD_INCREASE and increase_mm >= RECIST_PD_ABSOLUTE_MM:
        cat, why = "PD", f"sum +{fmt(increase_mm, 1)} mm over the nadir (>= 20% and >= 5 mm)"
    elif a["all_targets_gone"]:
        cat, why = "CR", "all target lesions gone"
    elif change_base <= -RECIST_PR_DECREASE:
        cat, why = "PR", f"sum {fmt(change_base, 1)}% from baseline (>= 30% decrease)"
    else:
        cat, why = "SD", "neither PR nor PD"
    notes = ["Computed afresh at this time point: an earlier PR does not carry over.",
             "Target lesions only: non-target progression also makes PD, and CR needs "
             "non-target lesions gone and nodes < 10 mm short axis."]
    return Result(
        name="recist",
        value=cat,
        category=cat,
        inputs={**{k: v for k, v in a.items() if v is not None}, "nadir_sum_mm": nadir},
        formula=("PD: new lesion, or sum >= 20% and >= 5 mm above the nadir; CR: all targets "
                 "gone; PR: sum >= 30% below baseline; else SD"),
        notes=tuple(notes),
        sources=(EISENHAUER_2009,),
        details={"reason": why, "change_from_baseline_percent": change_base,
                 "change_from_nadir_percent": increase_pct if increase_pct != float("inf") else None,
                 "change_from_nadir_mm": increase_mm},
    )


@calculator(
    "choi",
    "Choi response criteria (size and density)",
    params=[
        Param("size_change_percent", unit="%", quantity="percent",
              help="Change in sum of diameters, % (negative = smaller)", minimum=-100, maximum=10000),
        Param("density_change_percent", unit="%", quantity="percent",
              help="Change in mean attenuation (HU), % (negative = lower)", minimum=-100,
              maximum=10000),
        Param("new_lesions", kind="bool", default=False, required=False,
              help="New lesions or new intratumoral nodules"),
    ],
    sources=[CHOI_2007],
    domain=DOMAIN,
    examples=[
        # Size +2% but density -20% -> PR by density
        Example({"size_change_percent": 2, "density_change_percent": -20}, value="PR",
                category="PR", source="Choi 2007 criteria: density decrease >= 15% is PR"),
        Example({"size_change_percent": 12, "density_change_percent": -5}, value="PD",
                category="PD",
                source="Choi 2007 criteria: size +12% without PR by density is PD"),
    ],
)
def choi(*, size_change_percent: float, density_change_percent: float,
         new_lesions: bool = False) -> Result:
    """Choi: PR >= 10% size or >= 15% density decrease and no new lesion; PD >= 10% size
    increase without PR by density, or new lesions; else SD."""
    a = prepare("choi", locals())
    size, dens = a["size_change_percent"], a["density_change_percent"]
    pr_by_density = dens <= -CHOI_DENSITY
    if a["new_lesions"]:
        cat, why = "PD", "new lesions"
    elif size >= CHOI_SIZE and not pr_by_density:
        cat, why = "PD", "size increase >= 10% without a >= 15% density decrease"
    elif size <= -CHOI_SIZE or pr_by_density:
        cat, why = "PR", ("size decrease >= 10%" if size <= -CHOI_SIZE else "density decrease >= 15%")
    else:
        cat, why = "SD", "neither PR nor PD"
    return Result(
        name="choi",
        value=cat,
        category=cat,
        inputs=dict(a),
        formula=("PD: new lesions, or size +10% or more without density -15% or more; PR: size "
                 "-10% or more, or density -15% or more; else SD"),
        notes=("Complete response (all lesions gone) is not assessed here.",),
        sources=(CHOI_2007,),
        details={"reason": why},
    )


@calculator(
    "margin",
    "Resection margin status",
    params=[Param("margin_mm", unit="mm", quantity="length",
                  help="Closest distance from tumour to resection margin", minimum=0, maximum=500)],
    sources=[REVIEW_MARGIN],
    domain=DOMAIN,
    examples=[
        Example({"margin_mm": 1}, value="R0", category="R0",
                source="review, Conclusions: a margin of at least 1 mm is R0"),
        Example({"margin_mm": 0.5}, value="R1", category="R1",
                source="review, Conclusions: a margin under 1 mm is R1"),
    ],
)
def margin(*, margin_mm: float) -> Result:
    """R0 when the closest margin is >= 1 mm, otherwise R1 (the review's conclusions)."""
    a = prepare("margin", locals())
    m = a["margin_mm"]
    cat = "R0" if m >= MARGIN_R0_MM else "R1"
    return Result(
        name="margin",
        value=cat,
        category=cat,
        inputs={"margin_mm": m},
        formula="R0 when margin >= 1 mm; R1 when < 1 mm",
        notes=("The review recommends a margin of at least 1 mm; macroscopic residual tumour (R2) "
               "is not assessed by this calculator.",),
        sources=(REVIEW_MARGIN,),
        details={"margin_mm": m},
    )


@calculator(
    "pathological_response",
    "Pathological response of treated metastases (Blazer)",
    params=[Param("viable_tumour_percent", unit="%", quantity="percent",
                  help="Viable tumour cells, % of the tumour area", minimum=0, maximum=100)],
    sources=[BLAZER_2008, RUBBIA_BRANDT_2007],
    domain=DOMAIN,
    examples=[
        Example({"viable_tumour_percent": 0}, value="complete", category="complete",
                source="Blazer 2008 (check): 0% viable cells is a complete response"),
        Example({"viable_tumour_percent": 30}, value="major", category="major",
                source="Blazer 2008 (check): 1-49% viable cells is a major response"),
    ],
)
def pathological_response(*, viable_tumour_percent: float) -> Result:
    """Blazer: complete 0% viable tumour cells, major 1-49%, minor >= 50%."""
    a = prepare("pathological_response", locals())
    v = a["viable_tumour_percent"]
    cat = "complete" if v == 0 else "major" if v < BLAZER_MAJOR_BELOW else "minor"
    notes = [check_note("The Blazer categories", "calculators.md section 5"),
             "Values between 0 and 1% are counted as major (any viable cells exclude a complete response).",
             "Tumour regression grade (Rubbia-Brandt TRG 1-5) is the alternative scale."]
    return Result(
        name="pathological_response",
        value=cat,
        category=cat,
        inputs={"viable_tumour_percent": v},
        formula="complete: 0% viable tumour cells; major: 1-49%; minor: >= 50%",
        notes=tuple(notes),
        sources=(BLAZER_2008, RUBBIA_BRANDT_2007),
        details={},
    )
