"""Label sets: what each value of a multilabel map means for liver volumetry.

A label set maps label values to *roles*. Roles are the vocabulary of the whole imaging
package (and of ``--mask ROLE=PATH``): ``liver``, ``tumour``, ``segment_1`` ... ``segment_8``
(Couinaud), ``portal_vein``, ``hepatic_veins``, ``ivc`` and ``liver_vessels`` (intrahepatic
vessels without a finer distinction). A liver voxel is any voxel whose role is ``liver``,
``tumour`` or a segment (intrahepatic vessels count as liver when the map also has a liver
label, as TotalSegmentator's ``liver_vessels`` task is cropped to the liver).

Built-in sets
-------------
``totalsegmentator``
    TotalSegmentator v2 ``total`` task (117 classes). Values read from the label table that
    TotalSegmentator writes into its multilabel NIfTI (see the example in
    ``shared/data/ct-totalsegmentator-example``): 5 liver, 52 aorta, 63 inferior_vena_cava,
    64 portal_vein_and_splenic_vein. Reference: Wasserthal et al., Radiol Artif Intell
    2023;5:e230024.
``liver_segments``
    TotalSegmentator ``liver_segments`` task: 1-8 = Couinaud segments I-VIII.
``liver_vessels``
    TotalSegmentator ``liver_vessels`` task: 1 liver vessels, 2 liver tumour.

A JSON file ``{"5": "liver", "9": "tumour", ...}`` (value -> role) defines any other set;
role names are matched leniently (``tumor``, ``lesion``, ``liver_segment_4``, ``S4``...).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from livermet.imaging.errors import ImagingInputError

SEGMENT_ROLES = tuple(f"segment_{n}" for n in range(1, 9))
ROLES = ("liver", "tumour", *SEGMENT_ROLES, "portal_vein", "hepatic_veins", "ivc", "liver_vessels")

# Role codes used internally on cropped arrays (uint8): 1-8 are the Couinaud segments.
ROLE_CODE = {f"segment_{n}": n for n in range(1, 9)} | {
    "liver": 9,
    "tumour": 10,
    "portal_vein": 11,
    "hepatic_veins": 12,
    "ivc": 13,
    "liver_vessels": 14,
}
CODE_ROLE = {v: k for k, v in ROLE_CODE.items()}
LIVER_CODES = tuple(range(1, 11))  # segments, liver, tumour

# TotalSegmentator v2 `total` task: the classes livermet uses (values from the label table
# TotalSegmentator embeds in its multilabel output; the full 117-class table is in
# TOTALSEGMENTATOR_TOTAL_V2 below for naming other labels).
TOTALSEGMENTATOR_TOTAL_V2_ROLES = {5: "liver", 63: "ivc", 64: "portal_vein"}
TOTALSEGMENTATOR_TOTAL_V2 = {
    1: "spleen", 2: "kidney_right", 3: "kidney_left", 4: "gallbladder", 5: "liver",
    6: "stomach", 7: "pancreas", 8: "adrenal_gland_right", 9: "adrenal_gland_left",
    18: "small_bowel", 19: "duodenum", 20: "colon", 51: "heart", 52: "aorta",
    62: "superior_vena_cava", 63: "inferior_vena_cava", 64: "portal_vein_and_splenic_vein",
}

BUILTIN: dict[str, dict[int, str]] = {
    "totalsegmentator": dict(TOTALSEGMENTATOR_TOTAL_V2_ROLES),
    "total": dict(TOTALSEGMENTATOR_TOTAL_V2_ROLES),
    "liver_segments": {n: f"segment_{n}" for n in range(1, 9)},
    "liver_vessels": {1: "liver_vessels", 2: "tumour"},
}

# TotalSegmentator output folder: one file per class -> role.
TOTALSEGMENTATOR_FILES = {
    "liver": "liver",
    "liver_tumor": "tumour",
    "liver_vessels": "liver_vessels",
    "portal_vein_and_splenic_vein": "portal_vein",
    "inferior_vena_cava": "ivc",
    **{f"liver_segment_{n}": f"segment_{n}" for n in range(1, 9)},
}

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "iva": 4, "ivb": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8}


def normalise_role(name: str) -> str | None:
    """Map a free-text structure name to a role, or None when it is not a liver structure.

    Accepts the canonical roles and common spellings from TotalSegmentator, 3D Slicer and
    DICOM SEG segment labels: ``tumor``, ``lesion``, ``metastasis``, ``liver_segment_4``,
    ``Segment IV``, ``S4``, ``Couinaud 4``, ``portal vein``, ``hepatic veins``, ``IVC``.
    """
    text = re.sub(r"[\s\-]+", "_", str(name).strip().lower())
    if text in ROLES:
        return text
    # also "Couinaud segment 7", "Couinaud hepatic segment VII" (DICOM CID 7170 meanings)
    m = re.fullmatch(
        r"(?:liver_)?(?:couinaud_)?(?:hepatic_)?(?:segment|seg|couinaud|s)_?([1-8]|[iv]+[ab]?)(?:_segment)?",
        text,
    )
    if m:
        tok = m.group(1)
        n = int(tok) if tok.isdigit() else _ROMAN.get(tok)
        if n:
            return f"segment_{n}"
    if re.search(r"tumou?r|lesion|metasta|neoplasm|mass", text):
        return "tumour"
    if "portal" in text:
        return "portal_vein"
    if "hepatic_vein" in text:
        return "hepatic_veins"
    if text in ("ivc", "inferior_vena_cava", "vena_cava_inferior"):
        return "ivc"
    if text in ("liver_vessels", "vessels", "blood_vessel", "hepatic_vessels"):
        return "liver_vessels"
    if text in ("liver", "liver_parenchyma", "whole_liver", "hepar") or "liver" in text:
        return "liver"  # e.g. "Future liver remnant", "Resected liver"
    return None


def resolve(labelset: str | Path) -> dict[int, str]:
    """Return ``{label value: role}`` for a built-in name or a JSON mapping file.

    Raises
    ------
    ImagingInputError
        Unknown name, unreadable file, or a mapping naming an unknown role.
    """
    key = str(labelset)
    if key.lower() in BUILTIN:
        return dict(BUILTIN[key.lower()])
    path = Path(key)
    if not path.suffix.lower() == ".json" or not path.exists():
        raise ImagingInputError(
            "labelset",
            key,
            f"one of {', '.join(sorted(BUILTIN))}, or a JSON file mapping label values to roles "
            f"({', '.join(ROLES)})",
        )
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ImagingInputError("labelset", key, f"a readable JSON object ({exc})") from exc
    if not isinstance(raw, dict) or not raw:
        raise ImagingInputError("labelset", key, 'a JSON object such as {"5": "liver", "9": "tumour"}')
    mapping: dict[int, str] = {}
    for k, v in raw.items():
        # Accept {"5": "liver"} and the reverse {"liver": 5}.
        if str(k).lstrip("-").isdigit():
            value, name = int(k), v
        elif isinstance(v, int):
            value, name = v, k
        else:
            raise ImagingInputError("labelset", f"{k}: {v}", "integer label value -> role name")
        role = normalise_role(str(name))
        if role is None:
            continue  # other organs in a shared map are allowed; they are ignored
        if value <= 0:
            raise ImagingInputError("labelset", f"{k}: {v}", "label values > 0 (0 is background)")
        mapping[value] = role
    if not any(r in ("liver", "tumour") or r.startswith("segment_") for r in mapping.values()):
        raise ImagingInputError("labelset", key, "a mapping with at least a liver, tumour or segment label")
    return mapping
