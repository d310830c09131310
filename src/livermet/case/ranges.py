"""Plausible and possible ranges of every numeric case field, in canonical units.

Each field has a *hard* range (outside it the value cannot be a real measurement: the
validator reports an error) and a *usual* range (outside it the value is possible but unusual:
a warning). ``reread`` lists the other units the same number is often typed in, used only to
say what was probably meant.

The hard limits are physiological limits set wide on purpose: a value outside them is a typing
or unit error, not a patient. The usual ranges are plausibility judgements made for this
project (an adult with liver metastases discussed at an MDT); they are not taken from a paper,
and a warning never blocks anything. They are named constants here so that a hospital can
review them in one place.

This module imports nothing heavy (no pydantic): command-line checks such as
``livermet volumetry --height-cm`` use it without loading the case model.
"""

from __future__ import annotations

from dataclasses import dataclass

from livermet import units

@dataclass(frozen=True)
class Spec:
    """Range of one numeric field, in its canonical unit.

    ``hard``: outside, the value is impossible (error); ``usual``: outside, unusual (warning).
    ``None`` bounds are open. ``hard_min_exclusive``: the hard minimum itself is impossible
    (a bilirubin of 0 cannot be measured, and its logarithm is undefined in MELD/ALBI).
    ``reread``: other units the same number is often typed in, as (unit label, factor to the
    canonical unit): used only to say what was probably meant. ``integer``: whole numbers.
    """

    unit: str
    hard: tuple[float | None, float | None]
    usual: tuple[float | None, float | None] = (None, None)
    hard_min_exclusive: bool = False
    reread: tuple[tuple[str, float], ...] = ()
    quantity: str | None = None  # livermet.units quantity, for labs
    what: str = ""


# Labs, canonical units of calculators.md. Hard limits: physiological limits, set wide.
# Usual ranges: plausibility judgements (see module docstring), chosen so that a number
# typed in the SI unit by mistake is flagged.
BILIRUBIN = Spec(
    "mg/dL",
    # > 0: a measured bilirubin is never 0. Plausibility judgement: 80 mg/dL (1370 umol/L)
    # is beyond the highest values reported in adults; above it the number is in umol/L.
    hard=(0.0, 80.0), hard_min_exclusive=True,
    # Above 3 mg/dL (Child-Pugh's top band) is severe jaundice, unusual at a liver-metastasis
    # MDT, and a normal SI value (3-21 umol/L) typed without its unit lands exactly there.
    usual=(0.1, 3.0),
    reread=(("umol/L", 1 / units.BILIRUBIN_UMOL_PER_MG_DL),),
    quantity="bilirubin", what="total bilirubin",
)
ALBUMIN = Spec(
    "g/dL",
    # Physiological limits: serum albumin above 7 g/dL or below 0.5 g/dL is not seen;
    # 10-70 is the g/L range (x10 of g/dL).
    hard=(0.5, 7.0), usual=(1.5, 5.5),
    reread=(("g/L", 0.1), ("g/dL", 1.0)),
    quantity="albumin", what="serum albumin",
)
INR = Spec(
    "1",
    # INR is a ratio near 1; below 0.5 is not physiological. Plausibility judgement: above 20
    # is usually reported as unmeasurable; such numbers are a prothrombin time (s) or a Quick
    # value (%), not an INR.
    hard=(0.5, 20.0), usual=(0.8, 6.0),
    quantity="inr", what="INR",
)
CREATININE = Spec(
    "mg/dL",
    # > 0; plausibility judgement: 30 mg/dL (2650 umol/L) is beyond untreated end-stage renal
    # failure; larger numbers are umol/L (normal 45-110 umol/L).
    hard=(0.0, 30.0), hard_min_exclusive=True, usual=(0.3, 10.0),
    reread=(("umol/L", 1 / units.CREATININE_UMOL_PER_MG_DL),),
    quantity="creatinine", what="serum creatinine",
)
SODIUM = Spec(
    "mmol/L",
    # Physiological survival limits are roughly 95-185 mmol/L; 125-150 covers clinical practice
    # (MELD-Na / MELD 3.0 bound sodium to 125-137 anyway).
    hard=(95.0, 185.0), usual=(125.0, 150.0),
    quantity="sodium", what="serum sodium",
)
CEA = Spec(
    "ng/mL",
    # CEA can reach tens of thousands in bulky disease; no usual upper bound is imposed.
    # Plausibility judgement: above 100,000 ng/mL is a unit error.
    hard=(0.0, 100_000.0),
    quantity="cea", what="CEA",
)
PLATELETS = Spec(
    "10^9/L",
    # Plausibility judgement: counts are reported from about 1 to 2000 x10^9/L; counts per uL
    # (150,000-400,000) are 1000 times larger.
    hard=(1.0, 2000.0), usual=(20.0, 1000.0),
    reread=(("/uL", 0.001),),
    quantity="platelets", what="platelet count",
)
ICG_R15 = Spec(
    "%",
    # A retention fraction in percent: 0 < R15 <= 100 (the ICG formulas take its logarithm).
    # Normal < 10%; plausibility judgement: above 60% is unusual even in cirrhosis.
    hard=(0.0, 100.0), hard_min_exclusive=True, usual=(1.0, 60.0),
    reread=(("fraction (x100)", 100.0),),
    quantity="percent", what="ICG retention at 15 min",
)

LAB_SPECS: dict[str, Spec] = {
    "bilirubin": BILIRUBIN,
    "albumin": ALBUMIN,
    "inr": INR,
    "creatinine": CREATININE,
    "sodium": SODIUM,
    "cea": CEA,
    "platelets": PLATELETS,
    "icg_r15": ICG_R15,
}

# Other numeric fields. Paths use [] for "every item of the list".
PERCENT = Spec("%", hard=(0.0, 100.0))
MONTHS = Spec(
    # Plausibility judgement: intervals beyond 50 years are typing errors; beyond 20 unusual.
    "months", hard=(0.0, 600.0), usual=(0.0, 240.0),
)
DIAMETER = Spec(
    "mm",
    # Plausibility judgement: a liver lesion cannot be wider than an adult liver (~30 cm);
    # below 5 mm CT cannot measure it reliably, so a small number is often centimetres.
    hard=(0.0, 300.0), usual=(5.0, 200.0),
    reread=(("cm", 10.0),),
)
VOLUME = Spec("mL", hard=(0.0, 10_000.0), reread=(("L", 1000.0),))

# Body size: one definition for the case and for the calculators' height and weight
# parameters (livermet.calculators.volume HEIGHT, WEIGHT take their hard limits from here).
# Height: physiological limits (shortest/tallest adults recorded ~55-272 cm); a number below
# 3 is metres, 48-85 may be inches.
HEIGHT_CM = Spec("cm", hard=(50.0, 272.0), usual=(130.0, 220.0), reread=(("m", 100.0), ("in", 2.54)))
# Weight: heaviest recorded ~635 kg; plausibility judgement 35-200 kg for an adult considered
# for liver-directed treatment.
WEIGHT_KG = Spec("kg", hard=(10.0, 650.0), usual=(35.0, 200.0), reread=(("lb", 0.45359237),))

FIELD_SPECS: dict[str, Spec] = {
    # Age: 0-125 years (oldest documented human 122); the calculators are validated in adults.
    "patient.age": Spec("years", hard=(0.0, 125.0), usual=(18.0, 100.0)),
    "patient.height_cm": HEIGHT_CM,
    "patient.weight_kg": WEIGHT_KG,
    # ECOG performance status is defined 0-5; 5 means dead.
    "patient.ecog": Spec("", hard=(0.0, 4.0), what="ECOG performance status"),
    "primary.months_since_resection": MONTHS,
    "primary.ki67_percent": PERCENT,
    "metastases.disease_free_interval_months": MONTHS,
    "metastases.stable_months": MONTHS,
    "metastases.liver_involvement_percent": PERCENT,
    "metastases.lesions[].diameter_mm": DIAMETER,
    "metastases.lesions[].measurements[].diameter_mm": DIAMETER,
    # CT attenuation: the Hounsfield scale runs from air (-1000 HU) to dense bone and metal
    # (~3000 HU). Plausibility judgement: an enhancing or necrotic metastasis measures about
    # -100 to 300 HU; outside that it is fat, calcium or a mistyped number.
    "metastases.lesions[].measurements[].density_hu": Spec(
        "HU", hard=(-1000.0, 3000.0), usual=(-100.0, 300.0), what="lesion density"
    ),
    # Weeks of chemotherapy: plausibility judgement, 20 years is the hard limit.
    "liver.chemotherapy_weeks": Spec("weeks", hard=(0.0, 1040.0), usual=(0.0, 260.0)),
    "liver.chemotherapy_lines": Spec("", hard=(0.0, 20.0), usual=(0.0, 6.0), what="lines of chemotherapy"),
    # Total liver volume: adult livers are ~1000-2500 mL; plausibility judgement 200-10,000 mL
    # hard (massive hepatomegaly), 700-4000 mL usual; a number below 10 is litres.
    "volumetry.total_liver_ml": Spec(
        "mL", hard=(200.0, 10_000.0), usual=(700.0, 4000.0), reread=(("L", 1000.0),)
    ),
    "volumetry.tumour_ml": VOLUME,
    "volumetry.remnant_ml": VOLUME,
    "volumetry.remnant_ml_after_pve": VOLUME,
    # Second volumetry after PVE: usually 2-8 weeks (Shindoh 2013 measured at ~3-6 weeks).
    "volumetry.weeks_since_pve": Spec(
        "weeks", hard=(0.0, 104.0), usual=(1.0, 16.0), hard_min_exclusive=True
    ),
    "pathology.lesion_count": Spec("", hard=(0.0, 500.0), what="lesion count"),
    "pathology.largest_diameter_mm": DIAMETER,
    # Margins are measured in mm on the specimen; plausibility judgement 0-100 mm.
    "pathology.margin_mm": Spec("mm", hard=(0.0, 100.0), reread=(("cm", 10.0),)),
    "pathology.viable_tumour_percent": PERCENT,
    # Rubbia-Brandt tumour regression grade is defined 1-5.
    "pathology.trg": Spec("", hard=(1.0, 5.0), what="tumour regression grade"),
    # SBRT: plausibility judgement, single fractions above 30 Gy are not used in the liver.
    "radiotherapy.dose_per_fraction_gy": Spec("Gy", hard=(0.0, 30.0), hard_min_exclusive=True),
    "radiotherapy.fractions": Spec("", hard=(1.0, 50.0), what="number of fractions"),
    "radiotherapy.alpha_beta": Spec("Gy", hard=(0.0, 30.0), hard_min_exclusive=True),
    "sirt.lung_shunt_percent": Spec("%", hard=(0.0, 100.0), reread=(("fraction (x100)", 100.0),)),
    "sirt.target_dose_gy": Spec("Gy", hard=(0.0, 1000.0), hard_min_exclusive=True),
    "sirt.target_mass_kg": Spec("kg", hard=(0.0, 10.0), hard_min_exclusive=True, reread=(("g", 0.001),)),
}

# Couinaud segments (Couinaud 1957; the review's "Surgical Anatomy" [6]): 1-8.
COUINAUD_SEGMENTS = range(1, 9)
# RECIST 1.1 (Eisenhauer 2009): at most 2 target lesions per organ.
RECIST_MAX_TARGETS_PER_ORGAN = 2
# Remnant/segment sums that differ from the total by more than this fraction are flagged
# (plausibility judgement: manual volumetry differs between readers by ~5-10%).
VOLUME_SUM_TOLERANCE = 0.15
