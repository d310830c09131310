"""The JSON Schema of a case (``livermet schema``), generated from the pydantic model.

Descriptions carry the units; each lab also says its canonical unit and the units that convert
(``x-canonical-unit``, ``x-accepted-units``), so a form or an integration can be built from it.
"""

from __future__ import annotations

from typing import Any

from livermet import units
from livermet.case.model import Case
from livermet.case.validate import accepted_units

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Lab field -> livermet.units quantity.
LAB_QUANTITIES = {
    "bilirubin": "bilirubin",
    "albumin": "albumin",
    "inr": "inr",
    "creatinine": "creatinine",
    "sodium": "sodium",
    "cea": "cea",
    "platelets": "platelets",
    "icg_r15": "percent",
}


def case_json_schema() -> dict[str, Any]:
    """The case's JSON Schema (draft 2020-12), with units on the labs."""
    schema = Case.model_json_schema(mode="validation")
    schema = {"$schema": SCHEMA_DIALECT, **schema}
    schema["title"] = "livermet case"
    schema["description"] = (
        "One patient as the liver-metastasis MDT discusses it. Units are in each field's "
        "description; labs may also be {\"value\": x, \"unit\": \"...\"} in any unit that "
        "converts. Unknown fields are kept but not used."
    )
    labs = schema.get("$defs", {}).get("Labs", {}).get("properties", {})
    for name, quantity in LAB_QUANTITIES.items():
        if name in labs:
            q = units.QUANTITIES[quantity]
            labs[name]["x-canonical-unit"] = q.canonical
            labs[name]["x-accepted-units"] = accepted_units(quantity)
    return schema
