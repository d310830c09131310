"""Radiation: biologically effective dose, SIRT activity (resin BSA method, glass MIRD).

References
----------
Fowler JF. The linear-quadratic formula and progress in fractionated radiotherapy. Br J
Radiol 1989;62:679 (BED, EQD2).
SIR-Spheres (resin) instructions for use, BSA method (calculators.md section 6, marked check;
only the > 20% lung-shunt contraindication was confirmed, on the manufacturer's US page).
Glass MIRD single-compartment dosimetry and the 30/50 Gy lung limits: confirmed against
secondary sources (see SIRT_MIRD_FORMULA, SIRT_LUNG_LIMITS and docs/clinical-review.md).
BED10 target: Ohri et al. (HyTEC); normal-liver constraint: Schefter et al. 2005.
"""

from __future__ import annotations

from dataclasses import replace

from livermet.calculators._common import check_note, fmt, review, round_half_up
from livermet.calculators.base import CalculatorInputError, Example, Param, Result, Source, calculator
from livermet.calculators.runner import prepare
from livermet.calculators.volume import BSA, DUBOIS, HEIGHT, MOSTELLER, WEIGHT, _bsa

DOMAIN = "radiation"

FOWLER_1989 = Source("Fowler JF. Br J Radiol 1989;62:679 (linear-quadratic BED)")
REVIEW_RADIATION = review("Radiation-Based Therapies", 53)
ALPHA_BETA_TUMOUR = 10.0  # Gy; default for tumour (calculators.md section 6)
EQD2_REFERENCE_DOSE = 2.0  # Gy per fraction
# BED10 local-control target: calculators.md (the calculators' named definition) gives
# "BED10 >= 100 Gy", applied here. Ohri et al. (HyTEC) grouped liver metastases as
# "exceeding 100 Gy10" (3-year local control 93%) against "<=100 Gy10" (65%), which would put
# exactly 100 Gy10 (5 x 10 Gy) in the lower group; the note shows that reading beside ours.
BED10_TARGET = 100.0  # Gy10; met at or above this (calculators.md)
BED_CALCULATORS_MD = Source("calculators.md section 6: BED10 >= 100 Gy, the usual local-control "
                            "target for liver SBRT")
OHRI_HYTEC = Source("Ohri N, Tome WA, Mendez Romero A, et al. Local Control After Stereotactic "
                    "Body Radiation Therapy for Liver Tumors (HyTEC pooled analysis): liver "
                    "metastases, BED > 100 Gy10 vs <= 100 Gy10")
# Normal-liver constraint of the phase I trial (the phase I/II trial Rusthoven 2009 reports):
# "At least 700 mL of normal liver had to receive a total dose <15 Gy" (3 fractions).
NORMAL_LIVER_SPARED_ML = 700.0  # mL of normal liver ...
NORMAL_LIVER_SPARED_BELOW_GY = 15.0  # ... below this total dose, in 3 fractions
SCHEFTER_2005 = Source("Schefter TE, et al. Int J Radiat Oncol Biol Phys 2005;62(5):1371-1378 "
                       "(phase I liver SBRT: >= 700 mL of normal liver < 15 Gy in 3 fractions)")
SBRT_DOSE_RANGE = (6.0, 10.0)  # Gy per fraction quoted by the review (Radiation-Based Therapies)
SBRT_FRACTIONS_RANGE = (3, 5)

SIRT_RESIN_BSA = Source("SIR-Spheres resin microspheres, BSA method (instructions for use)", check=True)
# The manufacturer's US page lists "greater than 20% lung shunting" among the contraindications.
SIRTEX_US_CONTRAINDICATIONS = Source("Sirtex Medical, SIR-Spheres approved indication and "
                                     "contraindications (US): greater than 20% lung shunting")
# Glass MIRD: "Liver Dose (Gy) = 50 [Injected Activity (GBq)][1 - F] / Mass of Selected Liver
# Target (kg)" (textbook chapter reproduced at radiologykey.com, "and Dose Calculation"); the
# manufacturer: "1 GBq (27 mCi) of yttrium-90/kg of tissue provides the equivalent of 50 Gy".
SIRT_MIRD_FORMULA = Source("MIRD single-compartment dosimetry for glass microspheres: liver dose "
                           "= 50 x A (GBq) x (1 - F) / M (kg) (textbook chapter, radiologykey.com "
                           "'and Dose Calculation'); 1 GBq/kg = 50 Gy (Sirtex dosimetry page)")
# "Guidelines suggest a maximum per treatment dose of 30Gy and a maximum total dose of 50Gy"
# (Radiopaedia, Lung shunt fraction); "30 Gy after a single treatment and a cumulative dose of
# 50 Gy after repeated treatments" (van Roekel, PhD thesis Utrecht, chapter 2).
SIRT_LUNG_LIMITS = Source("Lung dose limits for radioembolisation, 30 Gy per treatment and 50 Gy "
                          "cumulative (Radiopaedia 'Lung shunt fraction'; van Roekel, thesis ch. 2)")
SIRT_BSA_OFFSET = 0.2  # GBq: A = (BSA - 0.2) + tumour volume / total liver volume
# Lung shunt fraction bands (percent) and the fraction of the activity to give:
LSF_FULL_BELOW = 10.0  # < 10%: full activity
LSF_REDUCE_20_MAX = 15.0  # 10-15%: reduce by 20%
LSF_REDUCE_40_MAX = 20.0  # 15-20%: reduce by 40%; > 20%: do not treat
MIRD_GY_KG_PER_GBQ = 50.0  # D (Gy) = 50 x A (GBq) x (1 - LSF) / M (kg)
LUNG_MASS_KG = 1.0  # assumed lung mass for lung dose
LUNG_DOSE_LIMIT_GY = 30.0  # per treatment (SIRT_LUNG_LIMITS)
LUNG_DOSE_CUMULATIVE_LIMIT_GY = 50.0  # cumulative (SIRT_LUNG_LIMITS)


@calculator(
    "bed",
    "Biologically effective dose and EQD2 (linear-quadratic)",
    params=[
        Param("dose_per_fraction_gy", unit="Gy", quantity="dose", help="Dose per fraction",
              minimum=0, exclusive_minimum=True, maximum=100),
        Param("fractions", kind="int", help="Number of fractions", minimum=1, maximum=100),
        Param("alpha_beta", unit="Gy", quantity="dose", default=ALPHA_BETA_TUMOUR, required=False,
              help="alpha/beta ratio (10 for tumour)", minimum=0, exclusive_minimum=True, maximum=100),
    ],
    sources=[FOWLER_1989, REVIEW_RADIATION],
    domain=DOMAIN,
    unit="Gy",
    examples=[
        # Hand: 3 x 15 Gy: 45 x (1 + 15/10) = 112.5 Gy; EQD2 = 112.5 / 1.2 = 93.75 Gy
        Example({"dose_per_fraction_gy": 15, "fractions": 3}, value=112.5, tolerance=1e-9,
                source="hand calculation (Fowler 1989 LQ): 3*15*(1+15/10)=112.5"),
        # Hand: 5 x 10 Gy, alpha/beta 3: 50 x (1 + 10/3) = 216.67 Gy
        Example({"dose_per_fraction_gy": 10, "fractions": 5, "alpha_beta": 3}, value=216.67,
                tolerance=0.005, source="hand calculation (Fowler 1989 LQ): 5*10*(1+10/3)=216.67"),
    ],
)
def bed(*, dose_per_fraction_gy: float, fractions: int, alpha_beta: float = ALPHA_BETA_TUMOUR) -> Result:
    """BED = n d (1 + d / (alpha/beta)); EQD2 = BED / (1 + 2 / (alpha/beta))."""
    a = prepare("bed", locals())
    d, n, ab = a["dose_per_fraction_gy"], a["fractions"], a["alpha_beta"]
    value = n * d * (1 + d / ab)
    eqd2 = value / (1 + EQD2_REFERENCE_DOSE / ab)
    notes = []
    sources = [FOWLER_1989]
    details = {"total_dose_gy": n * d, "eqd2_gy": eqd2, "bed_unrounded": value}
    if ab == ALPHA_BETA_TUMOUR:
        meets = value >= BED10_TARGET
        details["meets_bed10_target"] = meets
        notes.append(f"BED10 {'meets' if meets else 'is below'} the >= {fmt(BED10_TARGET)} Gy10 "
                     "local-control target (calculators.md). Ohri (HyTEC) reported 3-year local "
                     f"control 93% for BED10 above {fmt(BED10_TARGET)} Gy10 against 65% at or below "
                     "it: exactly 100 Gy10 (e.g. 5 x 10 Gy) falls in their lower group.")
        sources += [BED_CALCULATORS_MD, OHRI_HYTEC]
    lo, hi = SBRT_DOSE_RANGE
    if not (lo <= d <= hi and SBRT_FRACTIONS_RANGE[0] <= n <= SBRT_FRACTIONS_RANGE[1]):
        notes.append(f"The review quotes liver SBRT at {fmt(lo)}-{fmt(hi)} Gy per fraction over "
                     f"{SBRT_FRACTIONS_RANGE[0]}-{SBRT_FRACTIONS_RANGE[1]} fractions.")
        sources.append(REVIEW_RADIATION)
    notes.append(f"Normal liver: keep at least {fmt(NORMAL_LIVER_SPARED_ML)} mL below "
                 f"{fmt(NORMAL_LIVER_SPARED_BELOW_GY)} Gy in 3 fractions (Schefter 2005).")
    sources.append(SCHEFTER_2005)
    return Result(
        name="bed",
        value=round_half_up(value, 2),
        unit="Gy",
        inputs={"dose_per_fraction_gy": d, "fractions": n, "alpha_beta": ab},
        formula="BED = n x d x (1 + d / (alpha/beta)); EQD2 = BED / (1 + 2 / (alpha/beta))",
        notes=tuple(notes),
        sources=tuple(dict.fromkeys(sources)),
        details=details,
    )


@calculator(
    "sirt_bsa",
    "SIRT activity, resin microspheres (BSA method)",
    params=[
        replace(BSA, group="body.bsa", minimum=0.3),  # (BSA - 0.2) must stay positive
        replace(HEIGHT, group="body.height_weight"),
        replace(WEIGHT, group="body.height_weight"),
        Param("tumour_ml", unit="mL", quantity="volume", help="Tumour volume", minimum=0),
        Param("total_liver_ml", unit="mL", quantity="volume", help="Total liver volume (with tumour)",
              minimum=0, exclusive_minimum=True),
        Param("lung_shunt_percent", unit="%", quantity="percent", help="Lung shunt fraction",
              minimum=0, maximum=100),
        Param("bsa_formula", kind="choice", choices=("dubois", "mosteller"), default="dubois",
              required=False, help="BSA formula when height and weight are given"),
    ],
    sources=[SIRT_RESIN_BSA],
    domain=DOMAIN,
    unit="GBq",
    examples=[
        # Hand: (1.8 - 0.2) + 300/1500 = 1.6 + 0.2 = 1.8 GBq; LSF 5% -> full
        Example({"bsa_m2": 1.8, "tumour_ml": 300, "total_liver_ml": 1500, "lung_shunt_percent": 5},
                value=1.8, category="treat", tolerance=1e-9,
                source="hand calculation (BSA method, calculators.md): (1.8-0.2)+300/1500"),
        # Hand: same with LSF 12% -> x 0.8 = 1.44 GBq
        Example({"bsa_m2": 1.8, "tumour_ml": 300, "total_liver_ml": 1500, "lung_shunt_percent": 12},
                value=1.44, category="treat", tolerance=1e-9,
                source="hand calculation (BSA method, calculators.md): 1.8 x 0.8 for LSF 10-15%"),
    ],
)
def sirt_bsa(*, tumour_ml: float, total_liver_ml: float, lung_shunt_percent: float,
             bsa_m2: float | None = None, height_cm: float | None = None,
             weight_kg: float | None = None, bsa_formula: str = "dubois") -> Result:
    """Resin SIRT activity (GBq) = (BSA - 0.2) + tumour/total liver volume, reduced by lung
    shunt: < 10% full, 10-15% -20%, 15-20% -40%, > 20% do not treat."""
    a = prepare("sirt_bsa", locals())
    tum, tlv, lsf = a["tumour_ml"], a["total_liver_ml"], a["lung_shunt_percent"]
    if tum > tlv:
        raise CalculatorInputError("sirt_bsa", "tumour_ml", tum,
                                   f"a tumour volume within the total liver volume ({fmt(tlv)} mL)")
    inputs = {"tumour_ml": tum, "total_liver_ml": tlv, "lung_shunt_percent": lsf}
    notes = [check_note("The BSA method and its lung-shunt reductions", "calculators.md section 6")]
    sources = [SIRT_RESIN_BSA]
    if a["bsa_m2"] is not None:
        b = a["bsa_m2"]
        inputs["bsa_m2"] = b
    else:
        b = _bsa(a["height_cm"], a["weight_kg"], a["bsa_formula"])
        inputs.update(height_cm=a["height_cm"], weight_kg=a["weight_kg"], bsa_formula=a["bsa_formula"])
        notes.append(f"BSA {b:.2f} m^2 ({a['bsa_formula']}; the manufacturer's calculator is "
                     "understood to use DuBois, not confirmed here).")
        sources.append(DUBOIS if a["bsa_formula"] == "dubois" else MOSTELLER)
    involvement = tum / tlv
    nominal = (b - SIRT_BSA_OFFSET) + involvement
    if nominal <= 0:
        raise CalculatorInputError("sirt_bsa", "bsa_m2", b, "a BSA giving a positive activity")
    if lsf < LSF_FULL_BELOW:
        factor, cat = 1.0, "treat"
    elif lsf <= LSF_REDUCE_20_MAX:
        factor, cat = 0.8, "treat"
    elif lsf <= LSF_REDUCE_40_MAX:
        factor, cat = 0.6, "treat"
    else:
        factor, cat = 0.0, "do_not_treat"
    value = nominal * factor
    if cat == "do_not_treat":
        notes.append(f"Lung shunt {fmt(lsf, 1)}% > {fmt(LSF_REDUCE_40_MAX)}%: SIRT is not given "
                     "(value 0 GBq); the manufacturer lists greater than 20% lung shunting as a "
                     "contraindication.")
        sources.append(SIRTEX_US_CONTRAINDICATIONS)
    elif factor < 1:
        notes.append(f"Lung shunt {fmt(lsf, 1)}%: activity reduced by {round((1 - factor) * 100)}%.")
    return Result(
        name="sirt_bsa",
        value=round_half_up(value, 2),
        unit="GBq",
        category=cat,
        inputs=inputs,
        formula=("A (GBq) = (BSA - 0.2) + tumour volume / total liver volume; lung shunt < 10% "
                 "full, 10-15% -20%, 15-20% -40%, > 20% do not treat"),
        notes=tuple(notes),
        sources=tuple(sources),
        details={"bsa_m2": b, "tumour_involvement_fraction": involvement,
                 "activity_before_reduction_gbq": nominal, "reduction_factor": factor},
    )


@calculator(
    "sirt_mird",
    "SIRT activity, glass microspheres (MIRD single compartment)",
    params=[
        Param("target_dose_gy", unit="Gy", quantity="dose", help="Intended dose to the target",
              minimum=0, exclusive_minimum=True, maximum=1000),
        Param("target_mass_kg", unit="kg", quantity="mass", help="Mass of the perfused target",
              minimum=0, exclusive_minimum=True, maximum=5),
        Param("lung_shunt_percent", unit="%", quantity="percent", help="Lung shunt fraction",
              minimum=0, maximum=100, ),
        Param("prior_lung_dose_gy", unit="Gy", quantity="dose", default=0.0, required=False,
              help="Lung dose from earlier treatments", minimum=0, maximum=200),
    ],
    sources=[SIRT_MIRD_FORMULA, SIRT_LUNG_LIMITS],
    domain=DOMAIN,
    unit="GBq",
    examples=[
        # Hand: 120 Gy x 1.2 kg / (50 x 0.9) = 144 / 45 = 3.2 GBq; lung 50 x 3.2 x 0.1 = 16 Gy
        Example({"target_dose_gy": 120, "target_mass_kg": 1.2, "lung_shunt_percent": 10},
                value=3.2, category="within_lung_limit", tolerance=1e-9,
                source="hand calculation (MIRD, calculators.md): 120*1.2/(50*(1-0.10))"),
        # Hand: 150 x 1.5 / (50 x 0.8) = 5.625 GBq; lung 50 x 5.625 x 0.2 = 56.25 Gy > 30
        Example({"target_dose_gy": 150, "target_mass_kg": 1.5, "lung_shunt_percent": 20},
                value=5.63, category="lung_limit_exceeded", tolerance=0.005,
                source="hand calculation (MIRD, calculators.md): 150*1.5/(50*0.8); lung 56 Gy"),
    ],
)
def sirt_mird(*, target_dose_gy: float, target_mass_kg: float, lung_shunt_percent: float,
              prior_lung_dose_gy: float = 0.0) -> Result:
    """Glass SIRT activity A (GBq) = D x M / (50 x (1 - LSF)); lung dose = 50 x A x LSF / 1 kg."""
    a = prepare("sirt_mird", locals())
    d, m, lsf, prior = (a["target_dose_gy"], a["target_mass_kg"], a["lung_shunt_percent"],
                        a["prior_lung_dose_gy"])
    if lsf >= 100:
        raise CalculatorInputError("sirt_mird", "lung_shunt_percent", lsf, "a lung shunt below 100%")
    f = lsf / 100.0
    activity = d * m / (MIRD_GY_KG_PER_GBQ * (1 - f))
    lung = MIRD_GY_KG_PER_GBQ * activity * f / LUNG_MASS_KG
    cumulative = prior + lung
    exceeded = lung > LUNG_DOSE_LIMIT_GY or cumulative > LUNG_DOSE_CUMULATIVE_LIMIT_GY
    notes = ["The MIRD formula and the 30/50 Gy lung limits were confirmed against secondary "
             "sources (a textbook chapter, the manufacturer's dosimetry page, Radiopaedia); the "
             "TheraSphere instructions for use themselves were not read."]
    if lung > LUNG_DOSE_LIMIT_GY:
        notes.append(f"Lung dose {lung:.1f} Gy exceeds {fmt(LUNG_DOSE_LIMIT_GY)} Gy per treatment.")
    if cumulative > LUNG_DOSE_CUMULATIVE_LIMIT_GY:
        notes.append(f"Cumulative lung dose {cumulative:.1f} Gy exceeds "
                     f"{fmt(LUNG_DOSE_CUMULATIVE_LIMIT_GY)} Gy.")
    return Result(
        name="sirt_mird",
        value=round_half_up(activity, 2),
        unit="GBq",
        category="lung_limit_exceeded" if exceeded else "within_lung_limit",
        inputs=dict(a),
        formula=("A (GBq) = D (Gy) x M (kg) / (50 x (1 - LSF)); lung dose = 50 x A x LSF / 1 kg; "
                 "limits 30 Gy per treatment, 50 Gy cumulative"),
        notes=tuple(notes),
        sources=(SIRT_MIRD_FORMULA, SIRT_LUNG_LIMITS),
        details={"lung_dose_gy": lung, "cumulative_lung_dose_gy": cumulative,
                 "activity_unrounded_gbq": activity},
    )
