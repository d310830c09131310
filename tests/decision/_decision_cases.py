from __future__ import annotations

import copy
from typing import Any


BASE: dict[str, Any] = {
    "id": "unit",
    "patient": {"age": 61, "sex": "male", "height_cm": 175, "weight_kg": 75, "ecog": 1},
    "primary": {"site": "colorectal", "confirmed": True, "side": "left", "resected": True,
                "node_positive": True, "portal_drainage": True,
                "biomarkers": {"kras_mutant": False, "nras_mutant": False, "braf_v600e": False,
                               "msi_high": False, "her2_amplified": False}},
    "metastases": {"lesions": [{"id": "L1", "segments": [7], "diameter_mm": 25},
                               {"id": "L2", "segments": [6], "diameter_mm": 18}],
                   "pattern": "discrete", "liver_involvement_percent": 5,
                   "extrahepatic": {"present": False}},
    "labs": {"bilirubin": 0.7, "albumin": 4.1, "inr": 1.0, "creatinine": 0.9, "sodium": 139,
             "cea": 35, "icg_r15": 6.0},
    "liver": {"cirrhosis": False, "ascites": "none", "encephalopathy": "none",
              "chemotherapy_weeks": 0, "chemotherapy_lines": 0},
    "volumetry": {"total_liver_ml": 1650, "tumour_ml": 45, "remnant_ml": 620},
}


def make_case(**changes: Any) -> dict[str, Any]:
    """BASE with dotted-path changes: make_case(**{"labs.bilirubin": 2.0})."""
    d = copy.deepcopy(BASE)
    for path, value in changes.items():
        node = d
        keys = path.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return d


