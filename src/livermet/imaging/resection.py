"""Virtual resection: which liver is removed, what remains, and the future liver remnant.

Anatomic resections are sets of Couinaud segments named by the Brisbane 2000 terminology
(Strasberg SM et al., "The Brisbane 2000 terminology of liver anatomy and resections",
HPB 2000;2:333-339), which builds on Couinaud's eight functional segments (review, Surgical
Anatomy [6-9]). The caudate lobe (segment 1) is not part of any named resection unless added
(``right_hepatectomy+segments:1``), as in Brisbane's "(+/- segment 1)".

Non-anatomic (parenchyma-sparing) resection removes chosen lesions with a margin of
surrounding liver; the review calls multiple parenchyma-sparing metastasectomies the standard
of care for colorectal liver metastases, sparing liver for later resections (review, Surgical
Anatomy [11, 12]). The margin region is every liver voxel whose centre lies within
``margin_mm`` of a lesion voxel centre, by an exact Euclidean distance transform with the
physical voxel spacing, computed on a box around the lesion.

Plans combine with ``+``: ``right_hepatectomy+lesions`` (with ``resect_lesions``),
``segments:2,3``, ``segmentectomy_4+segmentectomy_5``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from livermet.imaging.errors import ImagingInputError
from livermet.imaging.grid import Grid
from livermet.imaging.lesions import Lesion
from livermet.imaging.plans import (  # noqa: F401  (the plans' public names, re-exported)
    ALIASES,
    ANATOMIC_RESECTIONS,
    BRISBANE_2000,
    DEFAULT_MARGIN_MM,
    PARENCHYMA_SPARING,
    ResectionPlan,
    parse_resection,
    resection_names,
)

@dataclass
class ResectionOutcome:
    name: str
    segments: list[int]
    resected: np.ndarray  # bool, crop
    resected_ml: float
    remnant_ml: float  # functional (tumour-free) remnant
    remnant_segments: list[int]
    lesions_removed: list[dict] = field(default_factory=list)
    remnant_tumour_ml: float = 0.0
    warnings: list[str] = field(default_factory=list)
    margin_mm: float = DEFAULT_MARGIN_MM


def _box(shape, bbox, pad: tuple[int, int, int]) -> tuple[slice, slice, slice]:
    return tuple(
        slice(max(s.start - p, 0), min(s.stop + p, n)) for s, p, n in zip(bbox, pad, shape)
    )  # type: ignore[return-value]


def apply_resection(
    plan: ResectionPlan,
    liver: np.ndarray,
    tumour: np.ndarray,
    segments: np.ndarray | None,
    lesion_labels: np.ndarray,
    lesions: list[Lesion],
    grid: Grid,
) -> ResectionOutcome:
    """Apply ``plan`` on the crop arrays and measure the result."""
    warnings: list[str] = []
    spacing = np.asarray(grid.spacing)
    resected = np.zeros(liver.shape, dtype=bool)
    if plan.segments:
        if segments is None:
            raise ImagingInputError(
                "resection",
                plan.name,
                "Couinaud segments for an anatomic resection: give segment labels "
                "(--labelset liver_segments or --mask segment_N=...), --landmarks or --portal-branches",
            )
        for seg in plan.segments:  # (a comparison per segment is faster than a lookup table)
            resected |= segments == seg
        resected &= liver
        missing = [s for s in plan.segments if not (segments == s).any()]
        if missing:
            warnings.append(f"segments {missing} of {plan.name} have no voxels in the segment map.")
    by_id = {les.id: les for les in lesions}
    unknown = [i for i in plan.lesion_ids if i not in by_id]
    if unknown:
        raise ImagingInputError(
            "resect_lesions", ",".join(unknown), f"lesion ids among {', '.join(by_id) or '(no lesions found)'}"
        )
    pad_margin = tuple(int(math.ceil(plan.margin_mm / s)) + 1 for s in spacing)
    for lid in plan.lesion_ids:
        from scipy import ndimage  # only non-anatomic plans need the margin's distance map

        les = by_id[lid]
        box = _box(liver.shape, les.bbox, pad_margin)
        lm = lesion_labels[box] == les.label
        dist = ndimage.distance_transform_edt(~lm, sampling=spacing)
        resected[box] |= (dist <= plan.margin_mm) & liver[box]
    vv = grid.voxel_volume_ml
    remnant = liver & ~resected
    remnant_func = remnant & ~tumour
    remnant_tumour = remnant & tumour
    outcome = ResectionOutcome(
        name=plan.name,
        segments=list(plan.segments),
        resected=resected,
        resected_ml=int(np.count_nonzero(resected)) * vv,
        remnant_ml=int(np.count_nonzero(remnant_func)) * vv,
        remnant_segments=[s for s in range(1, 9) if s not in plan.segments],
        remnant_tumour_ml=int(np.count_nonzero(remnant_tumour)) * vv,
        warnings=warnings,
        margin_mm=plan.margin_mm,
    )
    outcome.lesions_removed = [
        _lesion_margin(les, lesion_labels, remnant_func, resected, spacing, plan.margin_mm) for les in lesions
    ]
    left = [d["id"] for d in outcome.lesions_removed if not d["removed"]]
    if left:
        warnings.append(f"lesions left in the remnant: {', '.join(left)} ({outcome.remnant_tumour_ml:.1f} mL of tumour).")
    return outcome


def _lesion_margin(
    les: Lesion,
    lesion_labels: np.ndarray,
    remnant: np.ndarray,
    resected: np.ndarray,
    spacing: np.ndarray,
    margin_mm: float,
) -> dict:
    """Whether the plan removes ``les``, and the achieved margin: the smallest distance (mm,
    between voxel centres) from the lesion to the remaining liver parenchyma."""
    from livermet.imaging.lesions import min_distance_mm

    look = margin_mm + 5.0  # search this far for remnant liver; beyond it the margin is ">= look"
    pad = tuple(int(math.ceil(look / s)) + 1 for s in spacing)
    box = _box(lesion_labels.shape, les.bbox, pad)
    lm = lesion_labels[box] == les.label
    removed = bool(resected[box][lm].all())
    rem = remnant[box]
    margin: float | None
    if not removed:
        margin, lower_bound = None, False
    elif not rem.any():
        margin, lower_bound = look, True
    else:
        # exact, as distance_transform_edt(~rem)[lm].min(), known exactly up to `look`
        margin = min_distance_mm(lm, rem, spacing, limit=look)
        lower_bound = margin > look
        margin = min(margin, look)
    with_margin = removed and margin is not None and margin >= margin_mm - 1e-6
    return {
        "id": les.id,
        "removed": removed,
        "removed_with_margin": with_margin,
        "margin_mm": None if margin is None else round(margin, 1),
        "margin_at_least": lower_bound,
    }
