"""Resection plans by name: Brisbane 2000 segment sets, segment lists and lesion resections.

Parsing a plan needs no image (and no numpy), so the case validator can check a case's
``planned_resection`` without loading the imaging stack; :mod:`livermet.imaging.resection`
applies a plan to the label maps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from livermet.imaging.errors import ImagingInputError

BRISBANE_2000 = "Strasberg SM et al. The Brisbane 2000 terminology of liver anatomy and resections. HPB 2000;2:333-339; review, Surgical Anatomy [6-9]"
PARENCHYMA_SPARING = "Review, Surgical Anatomy [11, 12]: parenchyma-sparing metastasectomy"

# Brisbane 2000 name (and the common synonym livermet uses) -> Couinaud segments.
ANATOMIC_RESECTIONS: dict[str, tuple[int, ...]] = {
    "right_hepatectomy": (5, 6, 7, 8),  # right hemihepatectomy
    "left_hepatectomy": (2, 3, 4),  # left hemihepatectomy
    "extended_right_hepatectomy": (4, 5, 6, 7, 8),  # right trisectionectomy
    "extended_left_hepatectomy": (2, 3, 4, 5, 8),  # left trisectionectomy
    "right_anterior_sectionectomy": (5, 8),
    "right_posterior_sectionectomy": (6, 7),
    "left_lateral_sectionectomy": (2, 3),
    "left_medial_sectionectomy": (4,),
    "central_hepatectomy": (4, 5, 8),  # central bisectionectomy / mesohepatectomy
}
ALIASES = {
    "right_hemihepatectomy": "right_hepatectomy",
    "left_hemihepatectomy": "left_hepatectomy",
    "right_trisectionectomy": "extended_right_hepatectomy",
    "left_trisectionectomy": "extended_left_hepatectomy",
    "mesohepatectomy": "central_hepatectomy",
    "central_bisectionectomy": "central_hepatectomy",
}
DEFAULT_MARGIN_MM = 10.0  # the margin requested by default (issue 3); an R0 margin is > 0 mm


@dataclass(frozen=True)
class ResectionPlan:
    name: str
    segments: tuple[int, ...] = ()
    lesion_ids: tuple[str, ...] = ()
    margin_mm: float = DEFAULT_MARGIN_MM

    @property
    def sources(self) -> list[str]:
        out = []
        if self.segments:
            out.append(BRISBANE_2000)
        if self.lesion_ids:
            out.append(PARENCHYMA_SPARING)
        return out


def resection_names() -> list[str]:
    return [*ANATOMIC_RESECTIONS, "segmentectomy_N", "segments:N,M", "lesions"]


def parse_resection(
    name: str | None, resect_lesions: list[str] | None = None, margin_mm: float = DEFAULT_MARGIN_MM
) -> ResectionPlan | None:
    """Parse ``--resection`` (+ ``--resect-lesions``) into a :class:`ResectionPlan`."""
    lesion_ids = tuple(x.strip().upper() for x in (resect_lesions or []) if x.strip())
    if margin_mm is None or not (0 <= float(margin_mm) <= 50):
        raise ImagingInputError("margin_mm", margin_mm, "a margin from 0 to 50 mm (default 10)")
    if not name and not lesion_ids:
        return None
    segs: set[int] = set()
    parts = [p.strip().lower() for p in (name or "").split("+") if p.strip()]
    wants_lesions = bool(lesion_ids)
    for part in parts:
        key = ALIASES.get(part.replace("-", "_"), part.replace("-", "_"))
        if key in ANATOMIC_RESECTIONS:
            segs |= set(ANATOMIC_RESECTIONS[key])
            continue
        m = re.fullmatch(r"(?:segmentectomy|segment|sectionectomy)_?([1-8])", key)
        if m:
            segs.add(int(m.group(1)))
            continue
        m = re.fullmatch(r"segments?:([1-8](?:,[1-8])*)", key.replace(" ", ""))
        if m:
            segs |= {int(x) for x in m.group(1).split(",")}
            continue
        if key in ("lesions", "non_anatomic", "nonanatomic", "wedge", "metastasectomy"):
            wants_lesions = True
            continue
        raise ImagingInputError(
            "resection", part, "one of " + ", ".join(resection_names()) + " (combine with +)"
        )
    if wants_lesions and not lesion_ids:
        raise ImagingInputError("resect_lesions", None, "the lesion ids to remove, e.g. --resect-lesions L1,L2")
    label = name or "non_anatomic"
    if lesion_ids and "lesions" not in label and name:
        label = f"{name}+lesions"
    return ResectionPlan(label, tuple(sorted(segs)), lesion_ids, float(margin_mm))
