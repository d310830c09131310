"""Assess a case: validate it, measure its images, run every calculator it allows, add options.

:func:`assess_case` is the pipeline behind ``livermet assess``, the report and the web
service::

    validate  ->  imaging (optional)  ->  scores  ->  decision (optional)

1. **validate**: :func:`livermet.case.validate_case`; errors raise
   :class:`~livermet.case.CaseValidationError`, warnings are carried into the assessment.
2. **imaging**: when ``case.imaging`` names label maps or masks and
   ``livermet.imaging.pipeline.volumetry_for_case`` is installed, it fills ``case.volumetry``
   and the lesions; the case is validated again afterwards.
3. **scores**: :func:`case_inputs` maps the case onto each calculator's parameters (lesion
   count and largest diameter from the lesions, disease-free interval 0 for synchronous
   metastases, the liver's condition for the sFLR minimum ...). A calculator whose inputs
   are incomplete is listed in ``missing`` with what it lacks; one that does not apply to
   this case (Milan-NET for a colorectal primary) in ``not_applicable`` with the reason.
4. **decision**: ``livermet.decision.assess_options(case, scores)`` when installed; its
   ``to_dict()`` keys (``options`` ...) are added to the assessment.

The JSON form (:meth:`Assessment.to_dict`) always has ``case_id``, ``scores`` (name ->
calculator result), ``warnings`` (list of text) and ``missing`` (name -> inputs), plus
``missing_fields``, ``not_applicable``, ``failed``, ``derived``, ``version`` and what the
decision step adds.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from livermet.case.errors import CaseError, CaseValidationError
from livermet.case.io import read_case_data
from livermet.case.model import Case, Lesion
from livermet.case.validate import ValidationReport, validate_case
from livermet.plain import to_plain

__all__ = [
    "Assessment",
    "assess_case",
    "case_inputs",
    "derive_facts",
    "compute_scores",
    "ImagingStepError",
    "INPUT_FIELDS",
]

# Minimum sFLR rises to 30% after more than 12 weeks of preoperative chemotherapy
# (Shindoh, Ann Surg Oncol 2013;20:2493; calculators.md section 1).
CHEMOTHERAPY_WEEKS_FOR_STRICTER_SFLR = 12.0
# Calendar conversion for TRANSMET's chemotherapy duration (months): 365.25 / 12 / 7 weeks.
WEEKS_PER_MONTH = 365.25 / 12 / 7
# RECIST 1.1 (Eisenhauer, Eur J Cancer 2009;45:228): lesions >= 10 mm are measurable; at most
# 2 target lesions per organ (all ours are in the liver).
RECIST_MEASURABLE_MM = 10.0
RECIST_MAX_TARGETS_PER_ORGAN = 2
# Volumetry typed in and measured on imaging that differ by more than this are reported
# (plausibility judgement: inter-reader variation of manual volumetry is ~5-10%).
IMAGING_DISAGREEMENT = 0.10

# Scores developed and validated in one primary: elsewhere they are not applicable.
_COLORECTAL_SCORES = {
    "fong": "Fong 1999 (colorectal liver metastases)",
    "tumour_burden_score": "Sasaki 2018 (colorectal liver metastases)",
    "game": "Margonis 2018 (colorectal liver metastases)",
    "nordlinger": "Nordlinger 1996 (colorectal liver metastases)",
    "oslo": "Dueland (liver transplantation for colorectal metastases)",
    "transmet": "Adam 2024, TRANSMET (colorectal liver metastases)",
}
_SITE_SCORES = {
    "milan_net": ("neuroendocrine", "Milan-NET criteria (Mazzaferro 2007) are for neuroendocrine metastases"),
    "choi": ("gist", "Choi criteria (Choi 2007) were defined for GIST"),
}

# Where each calculator input comes from in the case (shown when an input is missing).
INPUT_FIELDS: dict[str, tuple[str, ...]] = {
    "height_cm": ("patient.height_cm",),
    "weight_kg": ("patient.weight_kg",),
    "bsa_m2": ("patient.height_cm", "patient.weight_kg"),
    "age": ("patient.age",),
    "sex": ("patient.sex",),
    "ecog": ("patient.ecog",),
    "remnant_ml": ("volumetry.remnant_ml",),
    "total_liver_ml": ("volumetry.total_liver_ml",),
    "tumour_ml": ("volumetry.tumour_ml",),
    "liver_condition": ("liver.cirrhosis", "liver.chemotherapy_weeks"),
    "sflr_before": ("volumetry.remnant_ml",),
    "sflr_after": ("volumetry.remnant_ml_after_pve",),
    "weeks": ("volumetry.weeks_since_pve",),
    "icg_r15": ("labs.icg_r15",),
    "icg_k": ("labs.icg_r15",),
    "icg_pdr": ("labs.icg_r15",),
    "remnant_percent": ("volumetry.remnant_ml", "volumetry.total_liver_ml", "volumetry.tumour_ml"),
    "ascites": ("liver.ascites",),
    "encephalopathy": ("liver.encephalopathy",),
    "bilirubin": ("labs.bilirubin",),
    "albumin": ("labs.albumin",),
    "inr": ("labs.inr",),
    "creatinine": ("labs.creatinine",),
    "sodium": ("labs.sodium",),
    "dialysis": ("labs.dialysis",),
    "cea": ("labs.cea",),
    "node_positive": ("primary.node_positive",),
    "serosal_invasion": ("primary.serosal_invasion",),
    "disease_free_interval_months": ("metastases.disease_free_interval_months", "metastases.synchronous"),
    "lesion_count": ("metastases.lesions",),
    "largest_diameter_mm": ("metastases.lesions[].diameter_mm",),
    "kras_mutant": ("primary.biomarkers.kras_mutant",),
    "braf_v600e": ("primary.biomarkers.braf_v600e",),
    "extrahepatic": ("metastases.extrahepatic.present",),
    "ki67_percent": ("primary.ki67_percent",),
    "liver_involvement_percent": ("metastases.liver_involvement_percent",),
    "primary_resected": ("primary.resected",),
    "portal_drainage": ("primary.portal_drainage",),
    "stable_months": ("metastases.stable_months",),
    "chemotherapy_months": ("liver.chemotherapy_weeks", "chemotherapy.months"),
    "chemotherapy_lines": ("liver.chemotherapy_lines",),
    "response_to_chemotherapy": ("metastases.response_to_chemotherapy",),
    "progressive_on_chemotherapy": ("metastases.response_to_chemotherapy",),
    "months_since_resection": ("primary.months_since_resection",),
    "baseline_sum_mm": ("metastases.lesions[].measurements",),
    "nadir_sum_mm": ("metastases.lesions[].measurements",),
    "current_sum_mm": ("metastases.lesions[].measurements",),
    "new_lesions": ("metastases.new_lesions",),
    "all_targets_gone": ("metastases.lesions[].measurements",),
    "size_change_percent": ("metastases.lesions[].measurements",),
    "density_change_percent": ("metastases.lesions[].measurements[].density_hu",),
    "margin_mm": ("pathology.margin_mm",),
    "viable_tumour_percent": ("pathology.viable_tumour_percent",),
    "dose_per_fraction_gy": ("radiotherapy.dose_per_fraction_gy",),
    "fractions": ("radiotherapy.fractions",),
    "alpha_beta": ("radiotherapy.alpha_beta",),
    "lung_shunt_percent": ("sirt.lung_shunt_percent",),
    "target_dose_gy": ("sirt.target_dose_gy",),
    "target_mass_kg": ("sirt.target_mass_kg",),
}


# The optimised path (one trial run per calculator, decision data converted once). False:
# the straightforward path, kept callable so that tests compare the two on every vignette.
_OPTIMISED = True


class ImagingStepError(CaseError):
    """The case names images that the imaging step cannot use."""


# ----------------------------------------------------------------------------------------
# The result
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    """Everything livermet computed for one case.

    ``scores`` maps a score name to the calculator's :class:`~livermet.calculators.base.Result`
    (``sflr_standardised`` is the sflr calculator on height and weight, shown beside the
    measured ratio). ``missing`` maps a calculator to the inputs it lacks, ``missing_fields``
    to the case fields that would supply them; ``not_applicable`` says why a calculator does
    not apply; ``failed`` holds the message of a calculator that rejected its inputs;
    ``derived`` the values computed from the case (lesion count, liver condition ...);
    ``extras`` the keys added by the decision step (``options`` ...), ``decision`` its object.
    """

    case_id: str
    scores: Mapping[str, Any]
    warnings: tuple[str, ...] = ()
    missing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    missing_fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    not_applicable: Mapping[str, str] = field(default_factory=dict)
    failed: Mapping[str, str] = field(default_factory=dict)
    derived: Mapping[str, Any] = field(default_factory=dict)
    validation: tuple[Any, ...] = ()
    imaging: Mapping[str, Any] | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)
    case: Case | None = field(default=None, compare=False, repr=False)
    decision: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("scores", "missing", "missing_fields", "not_applicable", "failed",
                     "derived", "extras"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        object.__setattr__(self, "validation", tuple(self.validation))

    def to_dict(self, include_case: bool = False, *, copy: bool = True) -> dict[str, Any]:
        """JSON-ready dict: ``case_id``, ``scores``, ``warnings``, ``missing`` and the rest.

        Each call returns new data. ``copy=False``: the decision's keys (``options`` ...), which
        :func:`assess_case` already holds as plain data, are given as they are instead of
        copied (the largest part of the dict): the same values, for a caller that serialises
        the dict and drops it; modifying them would modify this assessment. An assessment
        made otherwise (or by ``dataclasses.replace``) has its extras converted as usual.
        """
        from livermet import __version__

        out: dict[str, Any] = {
            "case_id": self.case_id,
            "scores": {k: _plain_score(v) for k, v in self.scores.items()},
            "warnings": list(self.warnings),
            "missing": {k: list(v) for k, v in self.missing.items()},
            "missing_fields": {k: list(v) for k, v in self.missing_fields.items()},
            "not_applicable": dict(self.not_applicable),
            "failed": dict(self.failed),
            "derived": to_plain(dict(self.derived)),
            "validation": [to_plain(p) for p in self.validation],
            "version": __version__,
        }
        if self.imaging is not None:
            out["imaging"] = to_plain(dict(self.imaging))
        shared = not copy and self.__dict__.get("_plain_extras", False)
        for key, value in self.extras.items():
            if key not in out:
                out[key] = value if shared else to_plain(value)
        if include_case and self.case is not None:
            out["case"] = self.case.model_dump(mode="json", exclude_none=True)
        return out


_EXACT_SCALARS = frozenset({str, int, bool, type(None)})


def _p(value: Any) -> Any:
    return value if type(value) in _EXACT_SCALARS else to_plain(value)


def _plain_score(result: Any) -> Any:
    """``to_plain(result)``; a calculator's Result converted in one pass (its ``to_dict()``
    walks the details, to_plain would walk them again with the rest)."""
    from livermet.calculators.base import Result

    if not _OPTIMISED or type(result) is not Result:
        return to_plain(result)
    return {
        "name": _p(result.name),
        "value": _p(result.value),
        "unit": _p(result.unit),
        "category": _p(result.category),
        "inputs": to_plain(dict(result.inputs)),
        "formula": _p(result.formula),
        "notes": [_p(n) for n in result.notes],
        "sources": [to_plain(s.to_dict()) for s in result.sources],
        "details": to_plain(dict(result.details)),
    }


# ----------------------------------------------------------------------------------------
# Facts derived from the case
# ----------------------------------------------------------------------------------------


def _current_diameter(lesion: Lesion) -> float | None:
    """The lesion's diameter now: ``diameter_mm``, else its latest measurement."""
    if lesion.diameter_mm is not None:
        return lesion.diameter_mm
    dated = [m for m in lesion.measurements if m.date]
    if not dated:
        return None
    latest = max(dated, key=lambda m: m.date)
    if latest.visible is False:
        return 0.0
    return latest.diameter_mm


def derive_facts(case: Case) -> tuple[dict[str, Any], list[str]]:
    """Values computed from the case for the calculators, and warnings about them.

    Returns ``(facts, warnings)``; ``facts`` holds lesion_count, largest_diameter_mm,
    disease_free_interval_months, liver_condition (+ ``liver_condition_reason``),
    chemotherapy_months, progressive_on_chemotherapy.
    """
    facts: dict[str, Any] = {}
    warnings: list[str] = []
    met = case.metastases
    lesions = met.lesions
    if lesions:
        facts["lesion_count"] = len(lesions)
        diameters = {les.id: _current_diameter(les) for les in lesions}
        known = {k: v for k, v in diameters.items() if v is not None}
        if known:
            facts["largest_diameter_mm"] = max(known.values())
            if len(known) < len(diameters):
                unknown = ", ".join(k for k, v in diameters.items() if v is None)
                warnings.append(
                    f"metastases.lesions: no diameter for {unknown}; the largest diameter "
                    f"({facts['largest_diameter_mm']:g} mm) is from the measured lesions only"
                )
        if met.pattern in ("diffuse", "miliary"):
            warnings.append(
                f"metastases.pattern is {met.pattern}: the {len(lesions)} listed lesion(s) "
                "understate the tumour count used by the scores"
            )
    elif case.pathology is not None and case.pathology.lesion_count is not None:
        facts["lesion_count"] = case.pathology.lesion_count
        if case.pathology.largest_diameter_mm is not None:
            facts["largest_diameter_mm"] = case.pathology.largest_diameter_mm
        warnings.append("no lesions listed: lesion count and size taken from the pathology report")

    if met.synchronous is True:
        # Fong counts synchronous metastases as a disease-free interval under 12 months.
        facts["disease_free_interval_months"] = 0.0
        facts["disease_free_interval_reason"] = "synchronous metastases: interval 0"
    elif met.disease_free_interval_months is not None:
        facts["disease_free_interval_months"] = met.disease_free_interval_months

    liver = case.liver
    weeks = liver.chemotherapy_weeks
    if liver.cirrhosis is True:
        facts["liver_condition"] = "cirrhosis"
        facts["liver_condition_reason"] = "liver.cirrhosis is true (minimum sFLR 40%, Kubota 1997)"
    elif weeks is not None and weeks > CHEMOTHERAPY_WEEKS_FOR_STRICTER_SFLR:
        facts["liver_condition"] = "chemotherapy"
        facts["liver_condition_reason"] = (
            f"liver.chemotherapy_weeks {weeks:g} > {CHEMOTHERAPY_WEEKS_FOR_STRICTER_SFLR:g} "
            "(minimum sFLR 30%, Shindoh 2013)"
        )
    else:
        facts["liver_condition"] = "normal"
        reasons = []
        if liver.cirrhosis is None:
            reasons.append("liver.cirrhosis not recorded (assumed absent)")
        else:
            reasons.append("no cirrhosis")
        if weeks is None:
            reasons.append("liver.chemotherapy_weeks not recorded (assumed none)")
        else:
            reasons.append(f"chemotherapy {weeks:g} weeks, not more than "
                           f"{CHEMOTHERAPY_WEEKS_FOR_STRICTER_SFLR:g}")
        facts["liver_condition_reason"] = "; ".join(reasons) + " (minimum sFLR 20%, Kishi 2009)"
        if liver.cirrhosis is None or weeks is None:
            warnings.append(
                "sFLR minimum assumes a normal liver: " + "; ".join(
                    r for r in reasons if "not recorded" in r)
            )

    chemo = case.chemotherapy or {}
    months = chemo.get("months") if isinstance(chemo, Mapping) else None
    if isinstance(months, (int, float)) and not isinstance(months, bool):
        facts["chemotherapy_months"] = float(months)
    elif weeks is not None:
        facts["chemotherapy_months"] = round(weeks / WEEKS_PER_MONTH, 1)
    lines = liver.chemotherapy_lines
    if lines is None and isinstance(chemo, Mapping) and isinstance(chemo.get("lines"), int):
        lines = chemo["lines"]
    if lines is not None:
        facts["chemotherapy_lines"] = lines
    if met.response_to_chemotherapy is not None:
        facts["progressive_on_chemotherapy"] = met.response_to_chemotherapy == "progressive"

    recist = _recist_facts(case)
    if isinstance(recist, dict):
        facts["recist"] = recist
    else:
        facts["recist_unavailable"] = recist
    return facts, warnings


def _recist_facts(case: Case) -> dict[str, Any] | str:
    """Target sums at baseline, nadir and now from the lesions' dated measurements.

    Targets: lesions flagged ``target``; otherwise the (at most 2, RECIST 1.1 per organ)
    largest lesions measurable (>= 10 mm) at the first time point. A time point counts when
    every target was measured on it. A lesion first seen after baseline is a new lesion.
    Returns the facts, or the reason they cannot be derived.
    """
    measured = [les for les in case.metastases.lesions if les.measurements]
    if not measured:
        return "no dated lesion measurements in the case"

    def diameter_on(les: Lesion, date: str) -> float | None:
        for m in les.measurements:
            if m.date == date:
                if m.visible is False or m.diameter_mm is None:
                    return 0.0
                return m.diameter_mm
        return None

    all_dates = sorted({m.date for les in measured for m in les.measurements})
    baseline_date = all_dates[0]
    targets = [les for les in measured if les.target]
    auto = not targets
    if auto:
        candidates = [
            (d, les) for les in measured
            if (d := diameter_on(les, baseline_date)) is not None and d >= RECIST_MEASURABLE_MM
        ]
        candidates.sort(key=lambda t: -t[0])
        targets = [les for _, les in candidates[:RECIST_MAX_TARGETS_PER_ORGAN]]
    if not targets:
        return "no measurable (>= 10 mm) lesion at the first time point"
    points = []
    for date in all_dates:
        values = [diameter_on(les, date) for les in targets]
        if all(v is not None for v in values):
            points.append((date, sum(v for v in values if v is not None), values))
    if len(points) < 2 or points[0][0] != baseline_date:
        return "targets were not all measured at two time points"
    baseline, current = points[0], points[-1]
    nadir = min(p[1] for p in points[:-1])
    new_lesion_ids = [
        les.id for les in measured
        if min(m.date for m in les.measurements) > baseline_date
        and any(m.visible is not False and (m.diameter_mm or 0) > 0 for m in les.measurements)
    ]

    def mean_density_on(date: str) -> float | None:
        # Choi 2007: tumour density is the mean CT attenuation (HU) of the target lesions,
        # taken on the same time points as their size; every target must have it.
        hus = [next((m.density_hu for m in les.measurements if m.date == date), None)
               for les in targets]
        if not hus or any(h is None for h in hus):
            return None
        return sum(hus) / len(hus)

    return {
        "targets": [les.id for les in targets],
        "targets_chosen": "automatically (2 largest measurable at baseline)" if auto else "flagged",
        "baseline_date": baseline[0],
        "current_date": current[0],
        "baseline_sum_mm": baseline[1],
        "nadir_sum_mm": nadir,
        "current_sum_mm": current[1],
        "all_targets_gone": all(v == 0 for v in current[2]),
        "new_lesions_seen": new_lesion_ids,
        "baseline_density_hu": mean_density_on(baseline[0]),
        "current_density_hu": mean_density_on(current[0]),
    }


# ----------------------------------------------------------------------------------------
# Case -> calculator inputs
# ----------------------------------------------------------------------------------------


def _choi_density_change(rec: Mapping[str, Any]) -> tuple[float | None, list[str]]:
    """Percent change of the targets' mean density (HU) from baseline to now (Choi 2007).

    ``None`` (with a note) when a target lacks ``density_hu`` at either time point, or when
    the baseline mean is not positive (a percent change of a value <= 0 HU is meaningless).
    """
    base, cur = rec.get("baseline_density_hu"), rec.get("current_density_hu")
    if base is None or cur is None:
        return None, []
    if base <= 0:
        return None, [f"baseline mean density {base:g} HU is not positive: the Choi density "
                      "change (percent) cannot be computed"]
    change = 100.0 * (cur - base) / base
    return change, [f"density: mean of targets {base:g} HU at baseline, {cur:g} HU now "
                    f"({change:+.1f}%)"]


@dataclass
class _Plan:
    calculator: str
    inputs: dict[str, Any] = field(default_factory=dict)
    not_applicable: str | None = None
    notes: list[str] = field(default_factory=list)


def case_inputs(case: Case, facts: Mapping[str, Any] | None = None) -> dict[str, _Plan]:
    """For each score: the calculator, its inputs from the case (None = absent) and notes."""
    if facts is None:
        facts, _ = derive_facts(case)
    p, pr, met, labs, liver, vol = (case.patient, case.primary, case.metastases, case.labs,
                                    case.liver, case.volumetry)
    f = facts
    plans: dict[str, _Plan] = {}
    body = {"height_cm": p.height_cm, "weight_kg": p.weight_kg}

    plans["bsa"] = _Plan("bsa", dict(body))
    plans["standard_liver_volume"] = _Plan("standard_liver_volume", dict(body))

    cond = f.get("liver_condition", "normal")
    cond_note = f"liver_condition '{cond}': {f.get('liver_condition_reason', '')}"
    after_pve = vol.remnant_ml_after_pve is not None and vol.weeks_since_pve is not None
    remnant = vol.remnant_ml_after_pve if after_pve else vol.remnant_ml
    pve_note = (f"remnant after portal vein embolisation ({vol.remnant_ml_after_pve:g} mL, "
                f"{vol.weeks_since_pve:g} weeks) used" if after_pve else None)
    have_measured = vol.total_liver_ml is not None and vol.tumour_ml is not None
    have_body = p.height_cm is not None and p.weight_kg is not None
    measured_plan = _Plan("sflr", {
        "remnant_ml": remnant, "total_liver_ml": vol.total_liver_ml, "tumour_ml": vol.tumour_ml,
        "liver_condition": cond, "method": "measured"},
        notes=[cond_note] + ([pve_note] if pve_note else []))
    std_plan = _Plan("sflr", {
        "remnant_ml": remnant, "height_cm": p.height_cm, "weight_kg": p.weight_kg,
        "liver_condition": cond, "method": "standardised"},
        notes=[cond_note] + ([pve_note] if pve_note else []))
    if have_measured or not have_body:
        plans["sflr"] = measured_plan
        if have_body and remnant is not None:
            plans["sflr_standardised"] = std_plan
    else:
        std_plan.notes.append("measured ratio unavailable (total or tumour volume missing): "
                              "standardised ratio (Vauthey) shown")
        plans["sflr"] = std_plan

    if vol.remnant_ml_after_pve is None and vol.weeks_since_pve is None:
        plans["kgr"] = _Plan("kgr", not_applicable="no portal vein embolisation recorded "
                             "(volumetry.remnant_ml_after_pve, weeks_since_pve)")
    else:
        plans["kgr"] = _Plan("kgr", {"sflr_before": None, "sflr_after": None,
                                     "weeks": vol.weeks_since_pve})
        # sflr_before/after are filled in compute_scores from the sflr calculator.

    plans["icg"] = _Plan("icg", {"icg_r15": labs.icg_r15})
    plans["icgk_f"] = _Plan("icgk_f", {"icg_r15": labs.icg_r15, "remnant_percent": None},
                            notes=["remnant fraction = measured FLR / (total - tumour volume)"])
    plans["makuuchi"] = _Plan("makuuchi", {"ascites": liver.ascites, "bilirubin": labs.bilirubin,
                                           "icg_r15": labs.icg_r15})
    plans["child_pugh"] = _Plan("child_pugh", {
        "bilirubin": labs.bilirubin, "albumin": labs.albumin, "inr": labs.inr,
        "ascites": liver.ascites, "encephalopathy": liver.encephalopathy})
    meld = {"bilirubin": labs.bilirubin, "inr": labs.inr, "creatinine": labs.creatinine,
            "dialysis": labs.dialysis}
    plans["meld"] = _Plan("meld", dict(meld))
    plans["meld_na"] = _Plan("meld_na", {**meld, "sodium": labs.sodium})
    plans["meld_3"] = _Plan("meld_3", {**meld, "sodium": labs.sodium, "albumin": labs.albumin,
                                       "sex": p.sex})
    plans["albi"] = _Plan("albi", {"bilirubin": labs.bilirubin, "albumin": labs.albumin})

    count, largest = f.get("lesion_count"), f.get("largest_diameter_mm")
    dfi = f.get("disease_free_interval_months")
    dfi_notes = [f["disease_free_interval_reason"]] if "disease_free_interval_reason" in f else []
    extra = met.extrahepatic.present
    plans["fong"] = _Plan("fong", {
        "node_positive": pr.node_positive, "disease_free_interval_months": dfi,
        "lesion_count": count, "largest_diameter_mm": largest, "cea": labs.cea}, notes=dfi_notes)
    plans["tumour_burden_score"] = _Plan("tumour_burden_score", {
        "lesion_count": count, "largest_diameter_mm": largest})
    plans["game"] = _Plan("game", {
        "kras_mutant": pr.biomarkers.kras_mutant, "cea": labs.cea,
        "node_positive": pr.node_positive, "lesion_count": count,
        "largest_diameter_mm": largest, "extrahepatic": extra})
    plans["nordlinger"] = _Plan("nordlinger", {
        "age": p.age, "serosal_invasion": pr.serosal_invasion, "node_positive": pr.node_positive,
        "disease_free_interval_months": dfi, "lesion_count": count,
        "largest_diameter_mm": largest}, notes=dfi_notes)
    plans["milan_net"] = _Plan("milan_net", {
        "ki67_percent": pr.ki67_percent, "liver_involvement_percent": met.liver_involvement_percent,
        "age": p.age, "primary_resected": pr.resected, "portal_drainage": pr.portal_drainage,
        "stable_months": met.stable_months, "extrahepatic": extra,
        "differentiation": pr.differentiation})
    chemo_note = []
    if "chemotherapy_months" in f and not (isinstance(case.chemotherapy, Mapping)
                                           and "months" in case.chemotherapy):
        chemo_note = [f"chemotherapy_months from liver.chemotherapy_weeks "
                      f"({liver.chemotherapy_weeks:g} weeks / {WEEKS_PER_MONTH:.3f})"]
    plans["transmet"] = _Plan("transmet", {
        "age": p.age, "ecog": p.ecog, "primary_resected": pr.resected,
        "braf_v600e": pr.biomarkers.braf_v600e, "extrahepatic": extra,
        "chemotherapy_months": f.get("chemotherapy_months"),
        "chemotherapy_lines": f.get("chemotherapy_lines"),
        "response_to_chemotherapy": met.response_to_chemotherapy}, notes=chemo_note)
    msr = pr.months_since_resection if pr.resected is not False else None
    plans["oslo"] = _Plan("oslo", {
        "largest_diameter_mm": largest, "cea": labs.cea,
        "progressive_on_chemotherapy": f.get("progressive_on_chemotherapy"),
        "months_since_resection": msr})

    rec = f.get("recist")
    if rec is None:
        plans["recist"] = _Plan("recist", not_applicable=f.get("recist_unavailable", "no measurements"))
        plans["choi"] = _Plan("choi", not_applicable=f.get("recist_unavailable", "no measurements"))
    else:
        new = met.new_lesions
        rec_notes = [f"targets {', '.join(rec['targets'])} ({rec['targets_chosen']}); baseline "
                     f"{rec['baseline_date']}, current {rec['current_date']}"]
        if rec["new_lesions_seen"]:
            if new is False:
                rec_notes.append("metastases.new_lesions is false, but lesions "
                                 f"{', '.join(rec['new_lesions_seen'])} were first measured "
                                 "after baseline: counted as new")
            new = True
        plans["recist"] = _Plan("recist", {
            "baseline_sum_mm": rec["baseline_sum_mm"], "nadir_sum_mm": rec["nadir_sum_mm"],
            "current_sum_mm": rec["current_sum_mm"], "new_lesions": new,
            "all_targets_gone": rec["all_targets_gone"]}, notes=rec_notes)
        size_change = (100.0 * (rec["current_sum_mm"] - rec["baseline_sum_mm"])
                       / rec["baseline_sum_mm"]) if rec["baseline_sum_mm"] else None
        density_change, choi_notes = _choi_density_change(rec)
        plans["choi"] = _Plan("choi", {"size_change_percent": size_change,
                                       "density_change_percent": density_change, "new_lesions": new},
                              notes=rec_notes + choi_notes)

    if case.pathology is None:
        reason = "no resection specimen (case.pathology absent)"
        plans["margin"] = _Plan("margin", not_applicable=reason)
        plans["pathological_response"] = _Plan("pathological_response", not_applicable=reason)
    else:
        plans["margin"] = _Plan("margin", {"margin_mm": case.pathology.margin_mm})
        plans["pathological_response"] = _Plan("pathological_response", {
            "viable_tumour_percent": case.pathology.viable_tumour_percent})

    rt = case.radiotherapy
    if rt is None:
        plans["bed"] = _Plan("bed", not_applicable="no radiotherapy plan (case.radiotherapy absent)")
    else:
        plans["bed"] = _Plan("bed", {"dose_per_fraction_gy": rt.dose_per_fraction_gy,
                                     "fractions": rt.fractions, "alpha_beta": rt.alpha_beta})
    s = case.sirt
    if s is None or s.lung_shunt_percent is None:
        reason = "no lung shunt study (case.sirt.lung_shunt_percent absent)"
        plans["sirt_bsa"] = _Plan("sirt_bsa", not_applicable=reason)
        plans["sirt_mird"] = _Plan("sirt_mird", not_applicable=reason)
    else:
        if s.device == "glass":
            plans["sirt_bsa"] = _Plan("sirt_bsa", not_applicable="the BSA method is for resin "
                                      "microspheres; sirt.device is glass")
        else:
            plans["sirt_bsa"] = _Plan("sirt_bsa", {
                **body, "tumour_ml": vol.tumour_ml, "total_liver_ml": vol.total_liver_ml,
                "lung_shunt_percent": s.lung_shunt_percent})
        if s.device == "resin" and s.target_dose_gy is None:
            plans["sirt_mird"] = _Plan("sirt_mird", not_applicable="sirt.device is resin and no "
                                       "target dose is given (MIRD single compartment is for glass)")
        else:
            plans["sirt_mird"] = _Plan("sirt_mird", {
                "target_dose_gy": s.target_dose_gy, "target_mass_kg": s.target_mass_kg,
                "lung_shunt_percent": s.lung_shunt_percent})

    site = pr.site
    for name, what in _COLORECTAL_SCORES.items():
        if site != "colorectal" and name in plans:
            plans[name] = _Plan(plans[name].calculator, not_applicable=(
                f"{what}; primary.site is {site}" if site else
                f"{what}; primary.site not recorded"))
    for name, (needed, reason) in _SITE_SCORES.items():
        if site != needed and name in plans and plans[name].not_applicable is None:
            plans[name] = _Plan(plans[name].calculator, not_applicable=(
                f"{reason}; primary.site is {site or 'not recorded'}"))
    return plans


# ----------------------------------------------------------------------------------------
# Scores
# ----------------------------------------------------------------------------------------


@dataclass
class _Scores:
    scores: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, tuple[str, ...]] = field(default_factory=dict)
    missing_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    not_applicable: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _is_filled(case: Case, path: str) -> bool:
    """Whether the case has a value at ``path`` (``a.b``; ``a.list[].c``: every item has one,
    so a field filled for some lesions only is still worth asking for)."""

    def walk(node: Any, parts: list[str]) -> bool:
        if not parts:
            return node is not None and node != [] and node != {}
        head, rest = parts[0], parts[1:]
        key = head.removesuffix("[]")
        value = node.get(key) if isinstance(node, Mapping) else getattr(node, key, None)
        if head.endswith("[]"):
            return isinstance(value, list) and bool(value) and all(walk(item, rest) for item in value)
        return value is not None and walk(value, rest)

    return walk(case, path.split("."))


def _fields_for(inputs: list[str], case: Case | None = None) -> tuple[str, ...]:
    """The case fields that would supply ``inputs`` (as :func:`missing_inputs` names them),
    leaving out those the case already fills (a derived input such as remnant_percent lists
    all its sources; only the empty ones are worth asking for)."""
    paths: list[str] = []
    for item in inputs:
        for alt in item.replace("+", "|").split("|"):
            for path in INPUT_FIELDS.get(alt.strip(), ()):
                if path not in paths and (case is None or not _is_filled(case, path)):
                    paths.append(path)
    return tuple(paths)


def compute_scores(case: Case, facts: Mapping[str, Any] | None = None) -> _Scores:
    """Run every calculator the case allows; list what is missing or not applicable."""
    from livermet.calculators import REGISTRY, CalculatorInputError, missing_inputs, run
    from livermet.calculators.runner import run_if_complete

    warnings: list[str] = []
    if facts is None:
        facts, warnings = derive_facts(case)
    plans = case_inputs(case, facts)
    out = _Scores(warnings=list(warnings))

    def attempt(key: str, plan: _Plan) -> None:
        if plan.calculator not in REGISTRY:
            return  # not installed in this version
        if plan.not_applicable:
            out.not_applicable[key] = plan.not_applicable
            return
        params = {p.name for p in REGISTRY[plan.calculator].params}
        available = {k: v for k, v in plan.inputs.items() if v is not None and k in params}
        try:
            if _OPTIMISED:  # what missing_inputs's trial run computed is the result
                lacking, result = run_if_complete(plan.calculator, available)
            else:  # the plain path: the trial run, then the run
                lacking = missing_inputs(plan.calculator, available)
                result = None if lacking else run(plan.calculator, available)
        except CalculatorInputError as exc:
            out.failed[key] = str(exc)
            out.warnings.append(f"{key} not computed: {exc}")
            return
        if lacking:
            out.missing[key] = tuple(lacking)
            out.missing_fields[key] = _fields_for(lacking, case)
            return
        notes = tuple(n for n in plan.notes if n)
        defaulted = [
            f"{p.name} not recorded: calculator default {p.default!r} used"
            for p in REGISTRY[plan.calculator].params
            if not p.required and p.default is not None and p.name not in available
            and p.name in plan.inputs and p.name != "method"
        ]
        if notes or defaulted:
            result = dataclasses.replace(result, notes=tuple(result.notes) + notes + tuple(defaulted))
        out.scores[key] = result

    for key, plan in plans.items():
        if key == "kgr" and plan.not_applicable is None:
            _fill_kgr(plan, out, case)
        if key == "icgk_f":
            measured = out.scores.get("sflr")
            if measured is not None and measured.details.get("method") == "measured":
                plan.inputs["remnant_percent"] = measured.details.get(
                    "sflr_measured_percent", measured.value)
        attempt(key, plan)

    # Calculators registered by other modules that this mapping does not know yet: run them
    # on the generic facts when they have everything they need.
    generic = _generic_inputs(case, facts)
    for name in sorted(set(REGISTRY) - {p.calculator for p in plans.values()}):
        attempt(name, _Plan(name, {k: v for k, v in generic.items()
                                   if k in {p.name for p in REGISTRY[name].params}}))
    return out


def _fill_kgr(plan: _Plan, out: _Scores, case: Case) -> None:
    """sFLR before and after PVE on the same basis (standardised if height/weight known)."""
    from livermet.calculators import CalculatorInputError
    from livermet.calculators.volume import sflr_before_after_pve

    vol, p = case.volumetry, case.patient
    if vol.remnant_ml is None or vol.remnant_ml_after_pve is None:
        return
    try:
        pair = sflr_before_after_pve(vol.remnant_ml, vol.remnant_ml_after_pve,
                                     height_cm=p.height_cm, weight_kg=p.weight_kg,
                                     total_liver_ml=vol.total_liver_ml, tumour_ml=vol.tumour_ml)
    except CalculatorInputError as exc:
        out.warnings.append(f"kgr not computed: {exc}")
        return
    if pair is None:
        return
    plan.inputs["sflr_before"], plan.inputs["sflr_after"], note = pair
    plan.notes.append(note)


def _generic_inputs(case: Case, facts: Mapping[str, Any]) -> dict[str, Any]:
    p, pr, met, labs, liver, vol = (case.patient, case.primary, case.metastases, case.labs,
                                    case.liver, case.volumetry)
    values = {
        "age": p.age, "sex": p.sex, "height_cm": p.height_cm, "weight_kg": p.weight_kg,
        "ecog": p.ecog, "bilirubin": labs.bilirubin, "albumin": labs.albumin, "inr": labs.inr,
        "creatinine": labs.creatinine, "sodium": labs.sodium, "cea": labs.cea,
        "platelets": labs.platelets, "icg_r15": labs.icg_r15, "dialysis": labs.dialysis,
        "ascites": liver.ascites, "encephalopathy": liver.encephalopathy,
        "total_liver_ml": vol.total_liver_ml, "tumour_ml": vol.tumour_ml,
        "remnant_ml": vol.remnant_ml, "node_positive": pr.node_positive,
        "primary_resected": pr.resected, "extrahepatic": met.extrahepatic.present,
    }
    for key in ("lesion_count", "largest_diameter_mm", "disease_free_interval_months",
                "liver_condition", "chemotherapy_months", "chemotherapy_lines"):
        if key in facts:
            values[key] = facts[key]
    return {k: v for k, v in values.items() if v is not None}


# ----------------------------------------------------------------------------------------
# Hooks to the imaging and decision layers
# ----------------------------------------------------------------------------------------


def _wants_imaging(case: Case) -> bool:
    img = case.imaging
    return img is not None and bool(img.labels or img.masks)


# What the imaging layer calls an input (and its CLI flag), and where a case holds it.
_CASE_FIELD_OF_OPTION = {
    "resection": "volumetry.planned_resection", "resect_lesions": "volumetry.resect_lesions",
    "margin_mm": "volumetry.margin_mm", "height_cm": "patient.height_cm", "weight_kg": "patient.weight_kg",
}
_CASE_FIELD_OF_FLAG = (
    ("--mask segment_N=...", "imaging.masks {segment_N: PATH}"), ("--mask ROLE=PATH", "imaging.masks"),
    ("--mask liver=PATH", "imaging.masks {liver: PATH}"), ("--mask", "imaging.masks"),
    ("--labelset", "imaging.labelset"), ("--labels", "imaging.labels"),
    ("--landmarks", "imaging.landmarks"), ("--portal-branches", "imaging.portal_branches"),
    ("--resect-lesions", "volumetry.resect_lesions"), ("--resection", "volumetry.planned_resection"),
    ("--margin-mm", "volumetry.margin_mm"),
    ("--height-cm", "patient.height_cm"), ("--weight-kg", "patient.weight_kg"),
    ("the CT argument", "imaging.ct"),
)
# one pass, the longest text first, a flag never matched inside a longer one (--labels/--labelset)
_FLAG_PATTERN = re.compile("|".join(
    re.escape(flag) + (r"(?![\w-])" if flag.startswith("--") else "")
    for flag, _ in sorted(_CASE_FIELD_OF_FLAG, key=lambda fc: -len(fc[0]))))
_FLAG_FIELD = dict(_CASE_FIELD_OF_FLAG)


def _in_case_terms(text: str) -> str:
    """An imaging message in the words of a case: its `livermet volumetry` options (and the CT
    argument) named by the case fields that hold them."""
    return _FLAG_PATTERN.sub(lambda m: _FLAG_FIELD[m.group(0)], text)


def _run_imaging(case: Case, base_dir: Path | None, warnings: list[str],
                 progress: Any = None, figures_dir: Path | None = None
                 ) -> tuple[Case, dict[str, Any] | None]:
    from livermet.imaging import pipeline  # numpy/scipy: only when a case names images

    before = case.volumetry.model_dump()
    work = case.model_copy(deep=True)
    kwargs: dict[str, Any] = {"base_dir": base_dir}
    if progress is not None:
        kwargs["progress"] = progress
    if figures_dir is not None:
        kwargs["figures_dir"] = figures_dir
    try:
        result = pipeline.volumetry_for_case(work, **kwargs)
    except ValueError as exc:  # ImagingInputError and friends: the user's input
        field_name = getattr(exc, "field", None)
        # the imaging layer speaks in `livermet volumetry` options: name the case's fields
        if field_name and field_name.startswith("mask "):
            field_name = "masks." + field_name[5:]  # "mask liver" -> imaging.masks.liver
        path = _CASE_FIELD_OF_OPTION.get(
            field_name or "", f"imaging.{field_name}" if field_name and field_name != "imaging" else "imaging")
        raise ImagingStepError(f"{path}: {_in_case_terms(str(exc))}") from None
    # The imaging step's own warnings (label set against the names in the file, resampled
    # grids, lesions left in the remnant ...) belong to the assessment's warnings: the CLI,
    # the report and the web show those.
    for w in (result.get("warnings") if isinstance(result, Mapping) else None) or []:
        warnings.append(f"imaging: {w}")
    after = work.volumetry.model_dump()
    for key in ("total_liver_ml", "tumour_ml", "remnant_ml"):
        typed, measured = before.get(key), after.get(key)
        if typed is not None and measured is not None and typed > 0 and \
                abs(measured - typed) > IMAGING_DISAGREEMENT * typed:
            warnings.append(f"volumetry.{key}: typed {typed:g} mL, imaging {measured:.0f} mL "
                            "(imaging value used)")
    return work, (dict(result) if isinstance(result, Mapping) else {"result": result})


# A calculator's input error for an input that is absent reads "icg_r15=None: expected ..."
# (livermet.calculators.base.CalculatorInputError): None is not a value anyone typed.
_ABSENT_INPUT = re.compile(r"\b([a-z][a-z0-9_]*)=None: expected ")


def _absent_in_case_terms(text: str) -> str:
    """``makuuchi: icg_r15=None: expected X`` -> ``makuuchi: icg_r15 not recorded (labs.icg_r15):
    expected X``: an absent input said as such, with the case field that supplies it."""
    def name(m: re.Match[str]) -> str:
        fields = INPUT_FIELDS.get(m.group(1))
        where = f" ({', '.join(fields)})" if fields else ""
        return f"{m.group(1)} not recorded{where}: expected "

    return _ABSENT_INPUT.sub(name, text)


def _run_decision(case: Case, scores: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    import livermet.decision

    decision = livermet.decision.assess_options(case, scores)
    if _OPTIMISED and type(decision) is livermet.decision.DecisionReport:
        data = decision.to_dict()  # plain JSON data as it is built: to_plain would copy it
    else:
        data = to_plain(decision)
    if not isinstance(data, dict):
        data = {"decision": data}
    if isinstance(data.get("decision_warnings"), list):  # shown by the report and the web
        data["decision_warnings"] = [_absent_in_case_terms(str(w)) for w in data["decision_warnings"]]
    return decision, data


# ----------------------------------------------------------------------------------------
# The pipeline
# ----------------------------------------------------------------------------------------


def _validated(data: Mapping[str, Any], base_dir: Path | None = None,
               check_files: bool = False) -> ValidationReport:
    report = validate_case(data, base_dir=base_dir, check_files=check_files)
    if not report.ok:
        raise CaseValidationError(report)
    return report


def assess_case(
    case: Case | Mapping[str, Any] | str | Path,
    *,
    base_dir: str | Path | None = None,
    imaging: bool = True,
    decision: bool = True,
    progress: Any = None,
    figures_dir: str | Path | None = None,
) -> Assessment:
    """Validate, measure, score and (when installed) add treatment options for one case.

    Parameters
    ----------
    case
        A :class:`Case`, a raw mapping, a JSON/YAML string or a path to a case file.
    base_dir
        Folder against which relative image paths in ``case.imaging`` are resolved (default:
        the case file's folder when ``case`` is a path).
    imaging, decision
        Run the imaging / decision steps (default True).
    progress
        Passed to the imaging step (a progress callback/bar), if given.
    figures_dir
        When the case has images, the imaging step also draws its PNG figures here (the
        report's pictures), so the images are read once.

    Raises
    ------
    livermet.case.CaseError
        The case cannot be read, has errors (:class:`CaseValidationError` with the full
        report), or names images that cannot be used (:class:`ImagingStepError`).
    """
    if isinstance(case, (str, Path)) and base_dir is None:
        if isinstance(case, Path) or ("\n" not in case and not case.lstrip().startswith("{")):
            base_dir = Path(case).resolve().parent
    if isinstance(case, Case):
        data: Mapping[str, Any] = case.model_dump(mode="json")
    else:
        data = read_case_data(case)

    # 1. validate
    # the image files the case names must exist (each missing one is an error naming its
    # field) when the images are to be read and their folder is known
    report = _validated(data, Path(base_dir) if base_dir is not None else None, check_files=imaging)
    valid = report.case
    if valid is None:  # pragma: no cover - report.ok guarantees a case
        raise CaseValidationError(report)
    warnings = [str(p).removeprefix("warning: ") for p in report.warnings]
    problems = list(report.warnings)

    # 2. imaging
    imaging_info = None
    if imaging and _wants_imaging(valid):
        valid, imaging_info = _run_imaging(
            valid, Path(base_dir) if base_dir is not None else None, warnings, progress,
            Path(figures_dir) if figures_dir is not None else None)
        again = _validated(valid.model_dump(mode="json", exclude_none=True))
        seen = {str(p) for p in problems}
        for p in again.warnings:
            if str(p) not in seen:
                problems.append(p)
                warnings.append(str(p).removeprefix("warning: "))
        valid = again.case or valid

    # 3. scores
    facts, fact_warnings = derive_facts(valid)
    warnings.extend(fact_warnings)
    scored = compute_scores(valid, facts)
    warnings.extend(w for w in scored.warnings if w not in warnings)
    derived = {k: v for k, v in facts.items() if k != "recist_unavailable"}

    # 4. decision
    decision_obj, extras = (None, {})
    if decision:
        decision_obj, extras = _run_decision(valid, scored.scores)
        for w in extras.pop("warnings", []) or []:
            warnings.append(str(w))

    result = Assessment(
        case_id=valid.id,
        scores=scored.scores,
        warnings=tuple(_absent_in_case_terms(w) for w in warnings),
        missing=scored.missing,
        missing_fields=scored.missing_fields,
        not_applicable=scored.not_applicable,
        failed=scored.failed,
        derived=derived,
        validation=tuple(p.to_dict() for p in problems),
        imaging=imaging_info,
        extras=extras,
        case=valid,
        decision=decision_obj,
    )
    # the extras are to_plain's output (fresh plain data): to_dict(copy=False) may hand them
    # out. Not a field: an Assessment made by dataclasses.replace does not inherit it.
    object.__setattr__(result, "_plain_extras", True)
    return result
