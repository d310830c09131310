"""Prognosis after resection of colorectal liver metastases: Fong, TBS, GAME, Nordlinger.

References
----------
Fong Y, et al. Clinical score for predicting recurrence after hepatic resection for
metastatic colorectal cancer. Ann Surg 1999;230:309.
Sasaki K, et al. The tumor burden score. Ann Surg 2018;267:132.
Margonis GA, et al. Genetic And Morphological Evaluation (GAME) score. Br J Surg
2018;105:1210.
Nordlinger B, et al. Surgical resection of colorectal carcinoma metastases to the liver.
Cancer 1996;77:1254.
"""

from __future__ import annotations

import math
from typing import Any

from livermet.calculators._common import fmt, round_half_up
from livermet.calculators.base import Example, Param, Result, Source, calculator
from livermet.calculators.runner import prepare

DOMAIN = "prognosis"

FONG_1999 = Source("Fong Y, et al. Ann Surg 1999;230:309")
FONG_DFI_MONTHS = 12  # disease-free interval < 12 months (synchronous counts) -> 1 point
FONG_LESIONS = 1  # more than one tumour -> 1 point
FONG_DIAMETER_MM = 50.0  # largest > 5 cm -> 1 point
FONG_CEA = 200.0  # CEA > 200 ng/mL -> 1 point
FONG_LOW_MAX = 2  # 0-2 low risk, 3-5 high risk

SASAKI_2018 = Source("Sasaki K, et al. Ann Surg 2018;267:132")
TBS_ZONE_1_BELOW = 3.0  # zone 1: TBS < 3
TBS_ZONE_3_FROM = 9.0  # zone 2: 3 <= TBS < 9; zone 3: TBS >= 9

# Abstract (PubMed 29691844): "KRAS-mutated tumours (1 point); carcinoembryonic antigen level
# 20 ng/ml or more (1 point), primary tumour lymph node metastasis (1 point); Tumour Burden Score
# between 3 and 8 (1 point) or 9 and over (2 points); and extrahepatic disease (2 points)"; high
# risk "at least 4 points". The abstract leaves TBS between 8 and 9 unassigned: livermet reads
# "3-8" as 3 <= TBS < 9 (Sasaki's zone 2), a convention shown in the formula.
MARGONIS_2018 = Source("Margonis GA, et al. Br J Surg 2018;105(9):1210-1220",
                       doi="10.1002/bjs.10838")
GAME_CEA = 20.0  # CEA >= 20 ng/mL -> 1 point
GAME_TBS_MID, GAME_TBS_HIGH = 3.0, 9.0  # TBS 3-8 -> 1 point (read as 3 <= TBS < 9), >= 9 -> 2
GAME_EXTRAHEPATIC_POINTS = 2
GAME_LOW_MAX, GAME_MEDIUM_MAX = 1, 3  # 0-1 low, 2-3 medium, >= 4 high

# Abstract (PubMed 8608500): survival "affected by: age; size of largest metastasis or CEA level;
# stage of the primary tumor; disease free interval; number of liver nodules; and resection
# margin. Giving one point to each factor ... 0-2 (79%), 3-4 (60%), 5-7 (43%)" (2-year survival).
# The factors and the groups are confirmed; the cut-offs below (> 60, > 5 cm, < 24 months, > 3)
# are calculators.md's and not in the abstract. The margin is left out (unknown before surgery),
# so the high group is 5-6 here; the abstract's CEA alternative to size is not offered.
NORDLINGER_1996 = Source("Nordlinger B, et al. Cancer 1996;77:1254")
NORDLINGER_AGE = 60  # age > 60 -> 1 point
NORDLINGER_DFI_MONTHS = 24  # interval < 24 months -> 1 point
NORDLINGER_LESIONS = 3  # more than 3 metastases -> 1 point
NORDLINGER_DIAMETER_MM = 50.0  # largest > 5 cm -> 1 point
NORDLINGER_LOW_MAX, NORDLINGER_INTERMEDIATE_MAX = 2, 4  # 0-2 low, 3-4 intermediate, 5-6 high

NODE = Param("node_positive", kind="bool", help="Lymph-node-positive primary")
DFI = Param("disease_free_interval_months", unit="months", quantity="time_months",
            help="Months from primary to liver metastases (0 if synchronous)", minimum=0, maximum=600)
COUNT = Param("lesion_count", kind="int", help="Number of liver metastases", minimum=1, maximum=200)
LARGEST = Param("largest_diameter_mm", unit="mm", quantity="length",
                help="Largest metastasis diameter", minimum=0, exclusive_minimum=True, maximum=400)
CEA = Param("cea", unit="ng/mL", quantity="cea", help="Serum CEA", minimum=0, maximum=1e6)


def _tbs(count: int, largest_mm: float) -> float:
    return math.sqrt((largest_mm / 10.0) ** 2 + count**2)


def _points_table(items: list[tuple[str, bool, int, str]]) -> tuple[int, dict[str, Any]]:
    total = sum(p for _, hit, p, _ in items if hit)
    table = {k: {"points": p if hit else 0, "criterion": why} for k, hit, p, why in items}
    return total, table


@calculator(
    "fong",
    "Fong clinical risk score",
    params=[NODE, DFI, COUNT, LARGEST, CEA],
    sources=[FONG_1999],
    domain=DOMAIN,
    unit="points",
    examples=[
        # Hand (the demo case): node+ 1, DFI 11 < 12 -> 1, 2 lesions -> 1, 32 mm -> 0,
        # CEA 35 -> 0: 3 points, high risk
        Example({"node_positive": True, "disease_free_interval_months": 11, "lesion_count": 2,
                 "largest_diameter_mm": 32, "cea": 35}, value=3, category="high",
                source="Fong 1999 criteria counted by hand: 1+1+1+0+0"),
        Example({"node_positive": False, "disease_free_interval_months": 12, "lesion_count": 1,
                 "largest_diameter_mm": 50, "cea": 200}, value=0, category="low",
                source="Fong 1999 criteria by hand: every value exactly at its cut-off scores 0"),
    ],
)
def fong(*, node_positive: bool, disease_free_interval_months: float, lesion_count: int,
         largest_diameter_mm: float, cea: float) -> Result:
    """Fong clinical risk score (0-5); 0-2 low, 3-5 high risk of recurrence."""
    a = prepare("fong", locals())
    total, table = _points_table([
        ("node_positive", a["node_positive"], 1, "node-positive primary"),
        ("disease_free_interval", a["disease_free_interval_months"] < FONG_DFI_MONTHS, 1,
         f"disease-free interval < {FONG_DFI_MONTHS} months (synchronous counts)"),
        ("lesion_count", a["lesion_count"] > FONG_LESIONS, 1, "more than one liver tumour"),
        ("largest_diameter", a["largest_diameter_mm"] > FONG_DIAMETER_MM, 1, "largest > 5 cm"),
        ("cea", a["cea"] > FONG_CEA, 1, f"CEA > {fmt(FONG_CEA)} ng/mL"),
    ])
    return Result(
        name="fong",
        value=total,
        unit="points",
        category="low" if total <= FONG_LOW_MAX else "high",
        inputs=dict(a),
        formula=("1 point each: node-positive primary; DFI < 12 months; > 1 tumour; largest > 5 cm; "
                 "CEA > 200 ng/mL. 0-2 low, 3-5 high"),
        notes=("Synchronous metastases count as a disease-free interval of 0 months.",),
        sources=(FONG_1999,),
        details={"points": table},
    )


def _tbs_zone(t: float) -> str:
    if t < TBS_ZONE_1_BELOW:
        return "zone_1"
    if t < TBS_ZONE_3_FROM:
        return "zone_2"
    return "zone_3"


@calculator(
    "tumour_burden_score",
    "Tumour burden score (Sasaki)",
    params=[COUNT, LARGEST],
    sources=[SASAKI_2018],
    domain=DOMAIN,
    unit="score",
    examples=[
        # Hand: sqrt(4^2 + 3^2) = 5 -> zone 2
        Example({"lesion_count": 3, "largest_diameter_mm": 40}, value=5.0, category="zone_2",
                tolerance=1e-9, source="hand calculation from Sasaki 2018: sqrt(4^2+3^2)=5"),
        # Hand: sqrt(1.2^2 + 1^2) = sqrt(2.44) = 1.562 -> zone 1
        Example({"lesion_count": 1, "largest_diameter_mm": 12}, value=1.56, category="zone_1",
                tolerance=0.005, source="hand calculation from Sasaki 2018: sqrt(1.2^2+1^2)=1.562"),
    ],
)
def tumour_burden_score(*, lesion_count: int, largest_diameter_mm: float) -> Result:
    """TBS = sqrt(largest diameter (cm)^2 + number of lesions^2); zones < 3, 3-<9, >= 9."""
    a = prepare("tumour_burden_score", locals())
    t = _tbs(a["lesion_count"], a["largest_diameter_mm"])
    return Result(
        name="tumour_burden_score",
        value=round_half_up(t, 2),
        unit="score",
        category=_tbs_zone(t),
        inputs=dict(a),
        formula="TBS = sqrt((largest diameter in cm)^2 + (number of lesions)^2); zone 1 < 3 <= zone 2 < 9 <= zone 3",
        notes=("The zone is taken from the unrounded score.",),
        sources=(SASAKI_2018,),
        details={"tbs_unrounded": t, "largest_diameter_cm": a["largest_diameter_mm"] / 10.0},
    )


@calculator(
    "game",
    "GAME score (Genetic And Morphological Evaluation)",
    params=[
        Param("kras_mutant", kind="bool", help="KRAS-mutated tumour"),
        CEA, NODE, COUNT, LARGEST,
        Param("extrahepatic", kind="bool", help="Extrahepatic disease (including resectable)"),
    ],
    sources=[MARGONIS_2018, SASAKI_2018],
    domain=DOMAIN,
    unit="points",
    examples=[
        # Hand: KRAS wt 0, CEA 35 >= 20 -> 1, node+ -> 1, TBS sqrt(3.2^2+2^2)=3.77 -> 1,
        # no extrahepatic 0: 3 points, medium
        Example({"kras_mutant": False, "cea": 35, "node_positive": True, "lesion_count": 2,
                 "largest_diameter_mm": 32, "extrahepatic": False}, value=3, category="medium",
                source="Margonis 2018 criteria counted by hand: 0+1+1+1+0"),
        # Hand: KRAS 1, CEA 50 -> 1, node+ 1, TBS sqrt(8^2+5^2)=9.43 -> 2, EHD 2: 7, high
        Example({"kras_mutant": True, "cea": 50, "node_positive": True, "lesion_count": 5,
                 "largest_diameter_mm": 80, "extrahepatic": True}, value=7, category="high",
                source="Margonis 2018 criteria counted by hand: 1+1+1+2+2"),
    ],
)
def game(*, kras_mutant: bool, cea: float, node_positive: bool, lesion_count: int,
         largest_diameter_mm: float, extrahepatic: bool) -> Result:
    """GAME score (0-7): 0-1 low, 2-3 medium, >= 4 high."""
    a = prepare("game", locals())
    t = _tbs(a["lesion_count"], a["largest_diameter_mm"])
    tbs_points = 2 if t >= GAME_TBS_HIGH else 1 if t >= GAME_TBS_MID else 0
    total, table = _points_table([
        ("kras_mutant", a["kras_mutant"], 1, "KRAS mutated"),
        ("cea", a["cea"] >= GAME_CEA, 1, f"CEA >= {fmt(GAME_CEA)} ng/mL"),
        ("node_positive", a["node_positive"], 1, "node-positive primary"),
        ("tumour_burden_score", tbs_points > 0, tbs_points, "TBS 3-8: 1; >= 9: 2"),
        ("extrahepatic", a["extrahepatic"], GAME_EXTRAHEPATIC_POINTS, "extrahepatic disease"),
    ])
    cat = "low" if total <= GAME_LOW_MAX else "medium" if total <= GAME_MEDIUM_MAX else "high"
    return Result(
        name="game",
        value=total,
        unit="points",
        category=cat,
        inputs=dict(a),
        formula=("KRAS mutated 1; CEA >= 20 ng/mL 1; node-positive primary 1; TBS 3-8 1, >= 9 2; "
                 "extrahepatic disease 2. 0-1 low, 2-3 medium, >= 4 high"),
        notes=(f"Tumour burden score {t:.2f}.",),
        sources=(MARGONIS_2018, SASAKI_2018),
        details={"points": table, "tumour_burden_score": t},
    )


@calculator(
    "nordlinger",
    "Nordlinger score",
    params=[
        Param("age", kind="float", unit="years", quantity="age", help="Age", minimum=0, maximum=120),
        Param("serosal_invasion", kind="bool", help="Primary invades the serosa"),
        NODE, DFI, COUNT, LARGEST,
    ],
    sources=[NORDLINGER_1996],
    domain=DOMAIN,
    unit="points",
    examples=[
        # Hand: age 61 > 60 1; serosa 0; node+ 1; DFI 11 < 24 1; 2 lesions 0; 32 mm 0: 3
        Example({"age": 61, "serosal_invasion": False, "node_positive": True,
                 "disease_free_interval_months": 11, "lesion_count": 2,
                 "largest_diameter_mm": 32}, value=3, category="intermediate",
                source="Nordlinger 1996 criteria counted by hand: 1+0+1+1+0+0"),
        Example({"age": 60, "serosal_invasion": False, "node_positive": False,
                 "disease_free_interval_months": 24, "lesion_count": 3,
                 "largest_diameter_mm": 50}, value=0, category="low",
                source="Nordlinger 1996 criteria by hand: every value at its cut-off scores 0"),
    ],
)
def nordlinger(*, age: float, serosal_invasion: bool, node_positive: bool,
               disease_free_interval_months: float, lesion_count: int,
               largest_diameter_mm: float) -> Result:
    """Nordlinger score (0-6): 0-2 low, 3-4 intermediate, 5-6 high risk."""
    a = prepare("nordlinger", locals())
    total, table = _points_table([
        ("age", a["age"] > NORDLINGER_AGE, 1, f"age > {NORDLINGER_AGE}"),
        ("serosal_invasion", a["serosal_invasion"], 1, "serosal invasion of the primary"),
        ("node_positive", a["node_positive"], 1, "node-positive primary"),
        ("disease_free_interval", a["disease_free_interval_months"] < NORDLINGER_DFI_MONTHS, 1,
         f"interval < {NORDLINGER_DFI_MONTHS} months"),
        ("lesion_count", a["lesion_count"] > NORDLINGER_LESIONS, 1, "more than 3 metastases"),
        ("largest_diameter", a["largest_diameter_mm"] > NORDLINGER_DIAMETER_MM, 1, "largest > 5 cm"),
    ])
    cat = ("low" if total <= NORDLINGER_LOW_MAX
           else "intermediate" if total <= NORDLINGER_INTERMEDIATE_MAX else "high")
    return Result(
        name="nordlinger",
        value=total,
        unit="points",
        category=cat,
        inputs=dict(a),
        formula=("1 point each: age > 60; serosal invasion; node-positive primary; interval < 24 "
                 "months; > 3 metastases; largest > 5 cm. 0-2 low, 3-4 intermediate, 5-6 high"),
        notes=("Six-factor form with the cut-offs given in calculators.md (section 3); the "
               "abstract's seventh factor (resection margin) is left out, and it allows the CEA "
               "level in place of the largest size (not offered here).",),
        sources=(NORDLINGER_1996,),
        details={"points": table},
    )
