"""The volumetry pipeline: files in, volumes, lesions, virtual resection and sFLR out.

:func:`run_volumetry` is what ``livermet volumetry`` runs; :func:`volumetry_for_case` is the
hook ``livermet assess`` calls for a case that points at its images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from livermet.imaging.anatomy import Anatomy, check_tumour_inside, load_anatomy, read_into_crop
from livermet.imaging.errors import ImagingInputError
from livermet.imaging.lesions import (
    CONNECTIVITY,
    OBLIQUE_DEGREES,
    Lesion,
    axial_axis,
    label_lesions_with_boxes,
    measure_lesions,
)
from livermet.imaging.resection import DEFAULT_MARGIN_MM, apply_resection, parse_resection
from livermet.imaging.volumetry import fill_unassigned_segments, label_counts

Progress = Callable[[str], None]
LIVER_CONDITIONS = ("normal", "chemotherapy", "cirrhosis")
# Segment-map holes larger than this share of the liver are reported (they were filled by
# nearest segment, which is exact for tumour cut-outs but a guess for large gaps).
_FILL_WARN_FRACTION = 0.02


@dataclass
class VolumetryResult:
    liver_ml: float
    tumour_ml: float
    functional_liver_ml: float
    segments_ml: dict[str, float] | None
    segments_method: str | None
    lesions: list[Lesion]
    resection: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)
    grid: dict[str, Any] = field(default_factory=dict)
    segments_functional_ml: dict[str, float] | None = None
    files: list[str] = field(default_factory=list)
    unassigned_ml: float = 0.0
    tumour_segmented: bool = True

    def to_dict(self) -> dict[str, Any]:
        r2 = lambda v: None if v is None else round(float(v), 2)  # noqa: E731
        return {
            "liver_ml": r2(self.liver_ml),
            "tumour_ml": r2(self.tumour_ml),
            "tumour_segmented": self.tumour_segmented,
            "functional_liver_ml": r2(self.functional_liver_ml),
            "segments_ml": None if self.segments_ml is None else {k: r2(v) for k, v in self.segments_ml.items()},
            "segments_functional_ml": None
            if self.segments_functional_ml is None
            else {k: r2(v) for k, v in self.segments_functional_ml.items()},
            "segments_method": self.segments_method,
            "unassigned_liver_ml": r2(self.unassigned_ml) if self.segments_ml is not None else None,
            "coordinates": "LPS mm (DICOM patient coordinates)",
            "lesions": [les.to_dict() for les in self.lesions],
            "lesion_connectivity": CONNECTIVITY,
            "resection": self.resection,
            "warnings": list(self.warnings),
            "grid": self.grid,
            "files": list(self.files),
        }


def _sflr(
    remnant_ml: float,
    liver_ml: float,
    tumour_ml: float,
    height_cm: float | None,
    weight_kg: float | None,
    liver_condition: str,
) -> dict[str, Any]:
    """sFLR via the registered ``sflr`` calculator (Vauthey; thresholds by liver condition)."""
    from livermet.calculators import CalculatorInputError, run

    std = height_cm is not None and weight_kg is not None
    raw: dict[str, Any] = {
        "remnant_ml": remnant_ml,
        "total_liver_ml": liver_ml,
        "tumour_ml": tumour_ml,
        "liver_condition": liver_condition,
        "method": "standardised" if std else "measured",
    }
    if std:
        raw.update(height_cm=height_cm, weight_kg=weight_kg)
    if remnant_ml <= 0:
        from livermet.calculators.volume import SFLR_MIN, SFLR_MIN_SOURCE

        return {
            "sflr_measured_percent": 0.0,
            "sflr_standardised_percent": 0.0 if std else None,
            "adequate": False,
            "adequacy_basis": raw["method"],
            "threshold_percent": SFLR_MIN[liver_condition],
            "notes": ["No liver remains after this plan: it cannot be performed as planned."],
            "sources": [str(SFLR_MIN_SOURCE[liver_condition])],
        }
    try:
        res = run("sflr", raw)
    except CalculatorInputError as exc:
        raise ImagingInputError(exc.parameter, exc.value, exc.expected) from exc
    d = res.details
    meas = d.get("sflr_measured_percent")
    stdv = d.get("sflr_standardised_percent")
    return {
        "sflr_measured_percent": None if meas is None else round(float(meas), 1),
        "sflr_standardised_percent": None if stdv is None else round(float(stdv), 1),
        "adequate": res.category == "adequate",
        "adequacy_basis": d.get("method"),
        "threshold_percent": d.get("threshold_percent"),
        "standard_liver_volume_ml": None
        if d.get("standard_liver_volume_ml") is None
        else round(float(d["standard_liver_volume_ml"]), 1),
        "cautions": list(d.get("cautions", [])),
        "notes": list(res.notes),
        "sources": [str(s) for s in res.sources],
    }


def _derive_segments(anat: Anatomy, landmarks, portal_branches, say: Progress) -> None:
    if anat.segments is not None:
        if landmarks is not None or portal_branches is not None:
            anat.warnings.append("segment labels were given: the landmarks / portal branches were not used "
                                 "(the segments come from the labels).")
        return
    if landmarks is not None:
        from livermet.imaging.couinaud import segments_from_landmarks

        say("segments from landmarks")
        from livermet.imaging.couinaud import load_landmarks

        lm = landmarks if isinstance(landmarks, dict) else load_landmarks(landmarks)
        seg = segments_from_landmarks(anat.liver, anat.crop_grid, lm)
        anat.segments = np.asarray(seg, dtype=np.uint8) * anat.liver
        anat.segments_method = "landmarks"
    elif portal_branches is not None:
        from livermet.imaging.couinaud import segments_from_portal_branches

        say("segments from portal branches")
        branches = read_into_crop(portal_branches, anat, None, "portal_branches")
        if not branches.any():
            raise ImagingInputError(
                "portal_branches", str(portal_branches), "a label map with portal branches 1-8 near the liver"
            )
        seg = segments_from_portal_branches(anat.liver, anat.crop_grid, branches)
        anat.segments = np.asarray(seg, dtype=np.uint8) * anat.liver
        anat.segments_method = "portal_territories"


def run_volumetry(
    *,
    ct: str | Path | None = None,
    labels: str | Path | None = None,
    labelset: str | Path | None = None,
    masks: Sequence[tuple[str, str | Path]] = (),
    landmarks: str | Path | dict | None = None,
    portal_branches: str | Path | None = None,
    resection: str | None = None,
    resect_lesions: Sequence[str] | None = None,
    margin_mm: float = DEFAULT_MARGIN_MM,
    height_cm: float | None = None,
    weight_kg: float | None = None,
    liver_condition: str = "normal",
    figures_dir: str | Path | None = None,
    export_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> VolumetryResult:
    """Volumes, lesions and (optionally) a virtual resection with its sFLR.

    See ``livermet volumetry --help`` for the parameters. Raises :class:`ImagingInputError`
    for every input problem, before any output is written.
    """
    say = progress or (lambda _m: None)
    if liver_condition not in LIVER_CONDITIONS:
        raise ImagingInputError("liver_condition", liver_condition, " | ".join(LIVER_CONDITIONS))
    plan = parse_resection(resection, list(resect_lesions or []), margin_mm)
    anat = load_anatomy(ct=ct, labels=labels, labelset=labelset, masks=masks, progress=say)
    _derive_segments(anat, landmarks, portal_branches, say)
    if not anat.tumour_labelled:
        anat.warnings.append(
            "no input marks tumour (e.g. TotalSegmentator's total task has no tumour class): a tumour "
            "volume of 0 means tumours were not segmented, not that there are none. Add --mask tumour=PATH "
            "or a label set with a tumour label."
        )
    grid = anat.crop_grid
    say("lesions")
    lesion_labels, n, sources, boxes = label_lesions_with_boxes(anat.tumour, anat.tumour_masks)
    check_tumour_inside(anat, lesion_labels, n, boxes)
    unassigned_ml = 0.0
    if anat.segments is not None:
        # Tumour voxels cut out of a segment map take the nearest segment. Other liver voxels
        # without a segment are filled the same way only when they are a thin rim (<= 2% of
        # the parenchyma, e.g. a liver mask slightly larger than the segment map); otherwise
        # they stay unassigned (never resected by an anatomic plan) and a warning says so.
        parenchyma = anat.liver & ~anat.tumour
        gaps = int(np.count_nonzero(parenchyma & (anat.segments == 0)))
        n_par = int(np.count_nonzero(parenchyma))
        fill_all = gaps <= _FILL_WARN_FRACTION * max(n_par, 1)
        fill_unassigned_segments(
            anat.segments, anat.liver if fill_all else anat.tumour, grid, [b for b in boxes if b is not None]
        )
        if gaps and fill_all:
            anat.warnings.append(
                f"{gaps * grid.voxel_volume_ml:.1f} mL of liver outside tumours had no segment label; "
                "each voxel was given the nearest segment."
            )
        elif gaps:
            unassigned_ml = gaps * grid.voxel_volume_ml
            anat.warnings.append(
                f"{unassigned_ml:.1f} mL of liver ({100.0 * gaps / n_par:.0f}%) has no segment label: it is "
                "counted in the liver but in no segment, and no anatomic resection removes it."
            )
    say("volumes")
    vv = grid.voxel_volume_ml
    seg_ml = seg_func = None
    if anat.segments is not None:
        # one pass: bins 0-8 = segment of a non-tumour liver voxel, 9-17 = of a tumour voxel
        # (outside the liver both are 0: bin 0 then also counts non-liver voxels)
        key = anat.segments + np.uint8(9) * anat.tumour.view(np.uint8)
        counts = label_counts(key, 18)
        del key
        liver_n, tumour_n = int(np.count_nonzero(anat.liver)), int(counts[9:].sum())
        seg_ml = {str(k): float((counts[k] + counts[k + 9]) * vv) for k in range(1, 9)}
        seg_func = {str(k): float(counts[k] * vv) for k in range(1, 9)}
    else:
        liver_n, tumour_n = int(np.count_nonzero(anat.liver)), int(np.count_nonzero(anat.tumour))
    liver_ml, tumour_ml = liver_n * vv, tumour_n * vv
    lesions = measure_lesions(lesion_labels, n, grid, anat.segments, sources, boxes=boxes)
    if lesions:
        _, tilt = axial_axis(grid)
        if tilt > OBLIQUE_DEGREES:
            anat.warnings.append(
                f"the image is stored {tilt:.0f} degrees oblique to the patient axial plane: lesion diameters "
                "are measured in patient-axial slabs of voxel centres (an approximation of an axial reformat)."
            )
    res_dict = None
    outcome = None
    if plan is not None:
        say(f"resection {plan.name}")
        outcome = apply_resection(plan, anat.liver, anat.tumour, anat.segments, lesion_labels, lesions, grid)
        anat.warnings += outcome.warnings
        s = _sflr(outcome.remnant_ml, liver_ml, tumour_ml, height_cm, weight_kg, liver_condition)
        res_dict = {
            "name": plan.name,
            "segments": outcome.segments,
            "remnant_segments": outcome.remnant_segments if outcome.segments else None,
            "resected_ml": round(outcome.resected_ml, 2),
            "remnant_ml": round(outcome.remnant_ml, 2),
            "remnant_tumour_ml": round(outcome.remnant_tumour_ml, 2),
            **{k: s.get(k) for k in ("sflr_measured_percent", "sflr_standardised_percent", "adequate")},
            "liver_condition": liver_condition,
            "threshold_percent": s.get("threshold_percent"),
            "adequacy_basis": s.get("adequacy_basis"),
            "standard_liver_volume_ml": s.get("standard_liver_volume_ml"),
            "margin_mm": plan.margin_mm if plan.lesion_ids else None,
            "requested_margin_mm": plan.margin_mm,
            "lesions_removed": outcome.lesions_removed,
            "cautions": s.get("cautions", []),
            "notes": s.get("notes", []),
            "sources": plan.sources + s.get("sources", []),
        }
    result = VolumetryResult(
        liver_ml=liver_ml,
        tumour_ml=tumour_ml,
        functional_liver_ml=liver_ml - tumour_ml,
        segments_ml=seg_ml,
        segments_method=anat.segments_method,
        lesions=lesions,
        resection=res_dict,
        warnings=anat.warnings,
        grid={
            "shape": list(anat.grid.shape),
            "spacing_mm": [round(v, 4) for v in anat.grid.spacing],
            "voxel_volume_ml": anat.grid.voxel_volume_ml,
            "crop_offset": list(anat.offset),
            "crop_shape": list(anat.liver.shape),
        },
        segments_functional_ml=seg_func,
        unassigned_ml=unassigned_ml,
        tumour_segmented=anat.tumour_labelled,
    )
    if figures_dir is not None:
        say("figures")
        result.files += _figures(anat, lesion_labels, outcome, seg_ml, Path(figures_dir))
    if export_dir is not None:
        say("export")
        result.files += _export(anat, outcome, Path(export_dir))
    return result


def _figures(anat: Anatomy, lesion_labels, outcome, seg_ml, out_dir: Path) -> list[str]:
    from livermet.imaging.figures import write_figures

    ct = None
    if anat.ct_path is not None:
        from livermet.imaging.io import read_image

        arr, g = read_image(anat.ct_path, "ct")
        if g.same_space(anat.grid):
            ct = np.asarray(arr[anat.crop_slices])
    out_dir.mkdir(parents=True, exist_ok=True)
    resected = outcome.resected if outcome is not None else np.zeros(anat.liver.shape, dtype=bool)
    sflr = None
    if outcome is not None and anat.liver.any():
        functional = int(np.count_nonzero(anat.liver & ~anat.tumour))
        sflr = 100.0 * outcome.remnant_ml / (functional * anat.crop_grid.voxel_volume_ml) if functional else None
    paths = write_figures(
        out_dir,
        anat.crop_grid,
        anat.liver,
        anat.segments if anat.segments is not None else np.zeros(anat.liver.shape, dtype=np.uint8),
        lesion_labels,
        resected,
        ct=ct,
        segments_ml=seg_ml,
        remnant_segments=outcome.remnant_segments if outcome is not None and outcome.segments else None,
        sflr_percent=sflr,
    )
    return [str(p) for p in paths]


TUMOUR_LABEL_IN_EXPORT = 9


def _export(anat: Anatomy, outcome, out_dir: Path) -> list[str]:
    from livermet.imaging.export import write_dicom_seg, write_label_nifti
    from livermet.imaging.io import is_dicom_series_dir

    out_dir.mkdir(parents=True, exist_ok=True)
    # segments 1-8, tumour 9 (liver voxels without a segment: 10)
    seg = np.zeros(anat.liver.shape, dtype=np.uint8)
    if anat.segments is not None:
        seg[:] = anat.segments
    seg[anat.liver & (seg == 0)] = 10
    seg[anat.tumour] = TUMOUR_LABEL_IN_EXPORT
    names = {n: f"Couinaud segment {n}" for n in range(1, 9)} | {9: "Tumour", 10: "Liver"}
    files = []
    full = anat.uncrop(seg)
    p = out_dir / "segments.nii.gz"
    write_label_nifti(p, full, anat.grid)
    files.append(p)
    present = {k: v for k, v in names.items() if (seg == k).any()}
    ct_dir = anat.ct_path if anat.ct_path and is_dicom_series_dir(anat.ct_path) else None
    p = out_dir / "segments.seg.dcm"
    write_dicom_seg(p, full, anat.grid, present, source_ct_dir=ct_dir)
    files.append(p)
    if outcome is not None:
        rl = np.zeros(anat.liver.shape, dtype=np.uint8)
        rl[anat.liver] = 1
        rl[outcome.resected] = 2
        full = anat.uncrop(rl)
        p = out_dir / "resection.nii.gz"
        write_label_nifti(p, full, anat.grid)
        files.append(p)
        p = out_dir / "resection.seg.dcm"
        write_dicom_seg(p, full, anat.grid, {1: "Future liver remnant", 2: "Resected liver"}, source_ct_dir=ct_dir)
        files.append(p)
    return [str(f) for f in files]


# ------------------------------------------------------------------------------ case hook


def _case_path(value: str | None, base_dir: Path | None) -> str | None:
    if value is None:
        return None
    p = Path(value).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = Path(base_dir) / p
    return str(p)


def volumetry_for_case(case, base_dir: str | Path | None = None, progress: Progress | None = None,
                       figures_dir: str | Path | None = None,
                       export_dir: str | Path | None = None) -> dict[str, Any]:
    """Run volumetry for a :class:`~livermet.case.model.Case` whose ``imaging`` names files.

    Paths relative to ``base_dir`` (the case file's folder) are allowed. Fills
    ``case.volumetry`` (total_liver_ml, tumour_ml, segments_ml, remnant_ml when a resection
    is planned in ``case.volumetry.planned_resection``; source "imaging") and
    ``case.metastases.lesions`` (created from the image when the case lists none; otherwise
    lesions with the same id get their diameter and segments filled where missing).
    Returns the volumetry dict (as ``VolumetryResult.to_dict``).
    """
    img = case.imaging
    if img is None or (not img.labels and not img.masks):
        raise ImagingInputError("imaging", None, 'case.imaging with "labels" or "masks" (paths to label maps)')
    base = Path(base_dir) if base_dir is not None else None
    from livermet.imaging import labelsets

    masks: list[tuple[str, str]] = []
    for role, paths in (img.masks or {}).items():
        canon = labelsets.normalise_role(role)  # "tumor", "Liver", "segment IV" as on the CLI
        if canon is None:
            raise ImagingInputError("imaging.masks", role, f"a role among {', '.join(labelsets.ROLES)}")
        for p in [paths] if isinstance(paths, str) else list(paths):
            masks.append((canon, _case_path(p, base)))  # type: ignore[arg-type]
    builtin = img.labelset is not None and img.labelset.strip().lower() in labelsets.BUILTIN
    vol = case.volumetry
    plan = vol.planned_resection if vol is not None else None
    liver = case.liver
    condition = "normal"
    if liver is not None and liver.cirrhosis:
        condition = "cirrhosis"
    elif liver is not None and (liver.chemotherapy_weeks or 0) > 12:
        condition = "chemotherapy"  # > 12 weeks: Shindoh, Ann Surg Oncol 2013 (calculators.md)
    result = run_volumetry(
        ct=_case_path(img.ct, base),
        labels=_case_path(img.labels, base),
        labelset=img.labelset if img.labelset is None or builtin else _case_path(img.labelset, base),
        masks=masks,
        landmarks=_case_path(img.landmarks, base),
        portal_branches=_case_path(img.portal_branches, base),
        resection=plan,
        resect_lesions=(vol.resect_lesions or None) if vol is not None else None,
        margin_mm=vol.margin_mm if vol is not None and vol.margin_mm is not None else DEFAULT_MARGIN_MM,
        height_cm=case.patient.height_cm if case.patient else None,
        weight_kg=case.patient.weight_kg if case.patient else None,
        liver_condition=condition,
        figures_dir=figures_dir,  # the report's pictures (livermet report)
        export_dir=export_dir,  # label maps of segments and resection (the web viewer)
        progress=progress,
    )
    d = result.to_dict()
    typed_lesions = len(case.metastases.lesions) if case.metastases is not None else 0
    vol.total_liver_ml = d["liver_ml"]
    if d["tumour_segmented"]:
        vol.tumour_ml = d["tumour_ml"]
    elif vol.tumour_ml is not None:  # the images cannot show tumour: keep the typed volume
        d["warnings"].append(f"volumetry.tumour_ml {vol.tumour_ml:g} mL is kept as typed: the images have no "
                             "tumour label to measure it.")
    else:
        vol.tumour_ml = None if typed_lesions else d["tumour_ml"]
    if d["tumour_segmented"] and typed_lesions > len(d["lesions"]):
        d["warnings"].append(f"the case lists {typed_lesions} lesion(s) but the tumour labels show "
                             f"{len(d['lesions'])}: check that the labels belong to this case and are complete.")
    vol.segments_ml = d["segments_ml"]
    if d["resection"] is not None:
        vol.remnant_ml = d["resection"]["remnant_ml"]
    vol.source = "imaging"
    from livermet.case.model import Lesion as CaseLesion

    existing = {les.id: les for les in case.metastases.lesions}
    if not existing:
        case.metastases.lesions = [
            CaseLesion(id=les["id"], segments=les["segments"], diameter_mm=les["longest_axial_diameter_mm"])
            for les in d["lesions"]
        ]
    else:
        for les in d["lesions"]:
            c = existing.get(les["id"])
            if c is not None:
                if c.diameter_mm is None:
                    c.diameter_mm = les["longest_axial_diameter_mm"]
                if not c.segments:
                    c.segments = les["segments"]
    return d
