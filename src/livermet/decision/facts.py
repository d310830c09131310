"""What the rules read: the case's values (converted to canonical units) and the calculators'
results, gathered once.

Scores come from ``livermet assess`` as ``{NAME: Result}`` or ``{NAME: Result.to_dict()}``;
both are accepted. A calculator the rules need that is absent from ``scores`` is computed here
from the case (through ``livermet.calculators.run``) when the case holds its inputs, so
``assess_options(case, {})`` also works.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from livermet.calculators.base import Result
from livermet.plain import to_plain
from livermet.units import convert

RIGHT_SEGMENTS = frozenset({5, 6, 7, 8})
LEFT_SEGMENTS = frozenset({2, 3, 4})
ALL_SEGMENTS = frozenset(range(1, 9))


@dataclass(frozen=True)
class Score:
    """A calculator result, whatever form it arrived in."""

    name: str
    value: Any
    category: str | None
    details: Mapping[str, Any]
    notes: tuple[str, ...]
    inputs: Mapping[str, Any]

    @classmethod
    def of(cls, name: str, obj: Any) -> "Score | None":
        if obj is None:
            return None
        if type(obj) is Result:  # what its to_dict() gives, without the sources
            return cls(
                name=name,
                value=obj.value,
                category=obj.category,
                details=dict(to_plain(dict(obj.details))),
                notes=tuple(obj.notes),
                inputs=dict(obj.inputs),
            )
        if hasattr(obj, "to_dict") and not isinstance(obj, Mapping):
            obj = obj.to_dict()
        if not isinstance(obj, Mapping):
            return None
        if obj.get("error"):
            return None
        return cls(
            name=name,
            value=obj.get("value"),
            category=obj.get("category"),
            details=dict(obj.get("details") or {}),
            notes=tuple(obj.get("notes") or ()),
            inputs=dict(obj.get("inputs") or {}),
        )

    def failed(self) -> list[str]:
        """Failed criteria of an eligibility calculator (milan_net, transmet), as given."""
        for key in ("failed", "failed_criteria", "criteria_failed", "not_met"):
            v = self.details.get(key)
            if v:
                if isinstance(v, Mapping):
                    return [f"{k}: {val}" for k, val in v.items()]
                return [str(x) for x in v]
        return []


def _lab(labs: Any, name: str, quantity: str) -> float | None:
    raw = getattr(labs, name, None)
    if raw is None:
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    value = getattr(raw, "value", None)
    unit = getattr(raw, "unit", None)
    if isinstance(raw, Mapping):
        value, unit = raw.get("value"), raw.get("unit")
    if value is None:
        return None
    return convert(quantity, float(value), unit)


@dataclass(frozen=True)
class LesionFacts:
    id: str
    segments: tuple[int, ...]
    diameter_mm: float | None  # current size (None: unknown; 0: no longer visible)
    near_vessel: bool | None
    visible: bool | None


def _current_diameter(lesion: Any) -> tuple[float | None, bool | None]:
    ms = sorted(lesion.measurements, key=lambda m: m.date)
    if ms:
        last = ms[-1]
        gone = last.visible is False or (last.diameter_mm is not None and last.diameter_mm == 0)
        if gone:
            return 0.0, False
        if lesion.diameter_mm is not None:
            return float(lesion.diameter_mm), True
        return (float(last.diameter_mm) if last.diameter_mm is not None else None), True
    if lesion.diameter_mm is not None:
        return float(lesion.diameter_mm), lesion.diameter_mm > 0
    return None, None


@dataclass(frozen=True)
class Facts:
    case_id: str
    site: str | None
    primary_confirmed: bool | None
    side: str | None
    kras: bool | None
    nras: bool | None
    braf: bool | None
    msi: bool | None
    her2: bool | None
    ki67: float | None
    differentiation: str | None
    primary_resected: bool | None
    months_since_resection: float | None
    portal_drainage: bool | None
    age: float | None
    ecog: int | None
    symptoms: tuple[str, ...]
    lesions: tuple[LesionFacts, ...]
    pattern: str | None
    involvement: float | None
    extrahepatic: bool | None
    extrahepatic_resectable: bool | None
    extrahepatic_sites: tuple[str, ...]
    response: str | None
    stable_months: float | None
    recurrence_after_resection: bool | None
    bilirubin: float | None
    albumin: float | None
    cea: float | None
    cea_rising: bool | None
    icg_r15: float | None
    ascites: str | None
    cirrhosis: bool | None
    chemo_weeks: float | None
    chemo_lines: int | None
    chemo_given: bool | None
    has_volumetry: bool
    lung_shunt: float | None = None
    liver_specimen: bool = False  # case.pathology holds a liver resection specimen
    scores: Mapping[str, Score] = field(default_factory=dict)
    planned_resection: str | None = None  # case.volumetry.planned_resection, as typed
    planned_segments: tuple[int, ...] = ()  # the Couinaud segments that plan removes
    resect_lesions: tuple[str, ...] = ()  # lesions the plan removes non-anatomically

    # --- derived -----------------------------------------------------------------------
    @property
    def lesion_count(self) -> int:
        return len(self.lesions)

    @property
    def visible_lesions(self) -> tuple[LesionFacts, ...]:
        return tuple(l for l in self.lesions if l.visible is not False)

    @property
    def largest_mm(self) -> float | None:
        sizes = [l.diameter_mm for l in self.lesions if l.diameter_mm]
        return max(sizes) if sizes else None

    @property
    def sizes_known(self) -> bool:
        return bool(self.lesions) and all(l.diameter_mm is not None for l in self.lesions)

    @property
    def segments_involved(self) -> frozenset[int]:
        return frozenset(s for l in self.lesions for s in l.segments)

    @property
    def segments_known(self) -> bool:
        return bool(self.lesions) and all(l.segments for l in self.lesions)

    @property
    def bilobar(self) -> bool:
        segs = self.segments_involved
        return bool(segs & RIGHT_SEGMENTS) and bool(segs & LEFT_SEGMENTS)

    @property
    def ras(self) -> str | None:
        if self.kras or self.nras:
            return "mutant"
        if self.kras is False and self.nras is False:
            return "wild_type"
        return None

    @property
    def diffuse(self) -> bool:
        return self.pattern in ("diffuse", "miliary")

    @property
    def unresectable_extrahepatic(self) -> bool:
        return bool(self.extrahepatic) and self.extrahepatic_resectable is not True

    def score(self, name: str) -> Score | None:
        return self.scores.get(name)


def _planned_segments(plan: str | None) -> tuple[int, ...]:
    """Segments removed by a planned resection (Brisbane 2000 names, segment lists); () when
    the plan is absent, lesion-only or not a name livermet knows (the case validator says so)."""
    if not plan:
        return ()
    from livermet.imaging.errors import ImagingInputError
    from livermet.imaging.plans import parse_resection

    try:
        parsed = parse_resection(str(plan), ["?"])
    except ImagingInputError:
        return ()
    return parsed.segments if parsed is not None else ()


def _symptoms(case: Any) -> tuple[str, ...]:
    raw = getattr(case.patient, "symptoms", None) or []
    return tuple(str(s).strip().lower() for s in raw)


# Which calculators the rules read, and how to get their inputs from the case.
def _calc_inputs(case: Any, f: "Facts") -> dict[str, dict[str, Any]]:
    v = case.volumetry
    out: dict[str, dict[str, Any]] = {}
    condition = "normal"
    from livermet.decision.knowledge.thresholds import value as th

    if f.cirrhosis:
        condition = "cirrhosis"
    elif f.chemo_weeks is not None and f.chemo_weeks > th("chemotherapy_prolonged_weeks"):
        condition = "chemotherapy"
    if v.remnant_ml is not None:
        if v.total_liver_ml is not None and v.tumour_ml is not None:
            out["sflr"] = {"remnant_ml": v.remnant_ml, "total_liver_ml": v.total_liver_ml,
                           "tumour_ml": v.tumour_ml, "liver_condition": condition}
        elif case.patient.height_cm and case.patient.weight_kg:
            out["sflr"] = {"remnant_ml": v.remnant_ml, "height_cm": case.patient.height_cm,
                           "weight_kg": case.patient.weight_kg, "liver_condition": condition}
    labs = {k: _lab(case.labs, k, q) for k, q in (("bilirubin", "bilirubin"),
                                                   ("albumin", "albumin"), ("inr", "inr"),
                                                   ("icg_r15", "percent"))}
    if None not in (labs["bilirubin"], labs["albumin"], labs["inr"]) and case.liver.ascites \
            and case.liver.encephalopathy:
        out["child_pugh"] = {"bilirubin": labs["bilirubin"], "albumin": labs["albumin"],
                             "inr": labs["inr"], "ascites": case.liver.ascites,
                             "encephalopathy": case.liver.encephalopathy}
    if case.liver.ascites and labs["bilirubin"] is not None:
        mk = {"ascites": case.liver.ascites, "bilirubin": labs["bilirubin"]}
        if labs["icg_r15"] is not None:
            mk["icg_r15"] = labs["icg_r15"]
        out["makuuchi"] = mk
    return out


def _compute_missing_scores(case: Any, f: "Facts", scores: dict[str, Score]) -> list[str]:
    """Fill the scores the rules need from the case; return warnings (never raises)."""
    warnings: list[str] = []
    try:
        from livermet.calculators import run  # type: ignore[attr-defined]
    except ImportError:
        try:
            from livermet.calculators.runner import run
        except ImportError:  # pragma: no cover - calculators not installed
            return ["calculators unavailable: scores not computed"]
    from livermet.calculators.base import CalculatorInputError

    for name, inputs in _calc_inputs(case, f).items():
        if name in scores:
            continue
        try:
            scores[name] = Score.of(name, run(name, inputs))  # type: ignore[assignment]
        except (CalculatorInputError, KeyError, TypeError, ValueError) as exc:
            warnings.append(f"{name} not computed: {exc}")
    # After portal vein embolisation: the remnant measured again (sFLR after PVE, KGR).
    v = case.volumetry
    sflr_in = _calc_inputs(case, f).get("sflr")
    if v.remnant_ml_after_pve is not None and sflr_in and "sflr_after_pve" not in scores:
        try:
            scores["sflr_after_pve"] = Score.of(  # type: ignore[assignment]
                "sflr_after_pve", run("sflr", {**sflr_in, "remnant_ml": v.remnant_ml_after_pve}))
        except (CalculatorInputError, KeyError, TypeError, ValueError) as exc:
            warnings.append(f"sFLR after PVE not computed: {exc}")
    # The remnant before PVE, always from volumetry.remnant_ml (``livermet assess`` passes an
    # "sflr" score that already uses the remnant after PVE).
    if v.remnant_ml_after_pve is not None and sflr_in and "sflr_before_pve" not in scores:
        try:
            scores["sflr_before_pve"] = Score.of(  # type: ignore[assignment]
                "sflr_before_pve", run("sflr", sflr_in))
        except (CalculatorInputError, KeyError, TypeError, ValueError) as exc:
            warnings.append(f"sFLR before PVE not computed: {exc}")
    before, after = scores.get("sflr_before_pve") or scores.get("sflr"), scores.get("sflr_after_pve")
    if "kgr" not in scores and v.weeks_since_pve and before is not None and after is not None:
        # The same basis and unrounded values as `livermet assess` (calculators.volume).
        from livermet.calculators.volume import sflr_before_after_pve

        try:
            pair = sflr_before_after_pve(
                v.remnant_ml, v.remnant_ml_after_pve, height_cm=case.patient.height_cm,
                weight_kg=case.patient.weight_kg, total_liver_ml=v.total_liver_ml,
                tumour_ml=v.tumour_ml) if v.remnant_ml is not None else None
            if pair is not None:
                scores["kgr"] = Score.of("kgr", run("kgr", {  # type: ignore[assignment]
                    "sflr_before": pair[0], "sflr_after": pair[1],
                    "weeks": v.weeks_since_pve}))
        except (CalculatorInputError, KeyError, TypeError, ValueError) as exc:
            warnings.append(f"kgr not computed: {exc}")
    # ICGK-F from ICG-R15 and the remnant fraction.
    rem = scores.get("sflr_after_pve") or scores.get("sflr")
    if "icgk_f" not in scores and f.icg_r15 is not None and rem is not None and \
            rem.value is not None:
        try:
            scores["icgk_f"] = Score.of("icgk_f", run("icgk_f", {  # type: ignore[assignment]
                "icg_r15": f.icg_r15, "remnant_percent": rem.value}))
        except (CalculatorInputError, KeyError, TypeError, ValueError) as exc:
            warnings.append(f"icgk_f not computed: {exc}")
    return warnings


def gather(case: Any, scores: Mapping[str, Any] | None) -> tuple[Facts, list[str]]:
    """Facts for the rules, plus warnings about scores that could not be computed."""
    p, m, pr = case.patient, case.metastases, case.primary
    lesions = []
    for l in m.lesions:
        d, visible = _current_diameter(l)
        lesions.append(LesionFacts(l.id, tuple(l.segments), d, l.near_major_vessel, visible))
    chemo = case.chemotherapy or {}
    chemo_weeks = case.liver.chemotherapy_weeks
    if chemo_weeks is None and isinstance(chemo, Mapping) and chemo.get("months") is not None:
        chemo_weeks = float(chemo["months"]) * 52 / 12
    chemo_lines = case.liver.chemotherapy_lines
    if chemo_lines is None and isinstance(chemo, Mapping) and chemo.get("lines") is not None:
        chemo_lines = int(chemo["lines"])
    chemo_given: bool | None = None
    if (chemo_weeks or 0) > 0 or (chemo_lines or 0) > 0 or bool(chemo):
        chemo_given = True
    elif chemo_weeks == 0 or chemo_lines == 0:
        chemo_given = False
    norm: dict[str, Score] = {}
    for name, obj in (scores or {}).items():
        s = Score.of(name, obj)
        if s is not None:
            norm[name] = s
    bm = pr.biomarkers
    f = Facts(
        case_id=case.id,
        site=pr.site, primary_confirmed=pr.confirmed, side=pr.side,
        kras=bm.kras_mutant, nras=bm.nras_mutant, braf=bm.braf_v600e, msi=bm.msi_high,
        her2=bm.her2_amplified, ki67=pr.ki67_percent, differentiation=pr.differentiation,
        primary_resected=pr.resected, months_since_resection=pr.months_since_resection,
        portal_drainage=pr.portal_drainage,
        age=p.age, ecog=p.ecog, symptoms=_symptoms(case),
        lesions=tuple(lesions), pattern=m.pattern, involvement=m.liver_involvement_percent,
        extrahepatic=m.extrahepatic.present, extrahepatic_resectable=m.extrahepatic.resectable,
        extrahepatic_sites=tuple(m.extrahepatic.sites),
        response=m.response_to_chemotherapy, stable_months=m.stable_months,
        recurrence_after_resection=m.recurrence_after_resection,
        bilirubin=_lab(case.labs, "bilirubin", "bilirubin"),
        albumin=_lab(case.labs, "albumin", "albumin"),
        cea=_lab(case.labs, "cea", "cea"),
        cea_rising=getattr(case.labs, "cea_rising", None),
        icg_r15=_lab(case.labs, "icg_r15", "percent"),
        ascites=case.liver.ascites, cirrhosis=case.liver.cirrhosis,
        chemo_weeks=chemo_weeks, chemo_lines=chemo_lines, chemo_given=chemo_given,
        has_volumetry=case.volumetry.remnant_ml is not None,
        lung_shunt=getattr(getattr(case, "sirt", None), "lung_shunt_percent", None),
        liver_specimen=getattr(case, "pathology", None) is not None,
        scores=norm,
        planned_resection=case.volumetry.planned_resection,
        planned_segments=_planned_segments(case.volumetry.planned_resection),
        resect_lesions=tuple(str(x).upper() for x in (case.volumetry.resect_lesions or ())),
    )
    warnings = _compute_missing_scores(case, f, norm)
    return f, warnings
