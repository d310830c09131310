"""`livermet schema`: a valid JSON Schema that an independent validator accepts the demo with."""

from __future__ import annotations

import copy
import json

import jsonschema
from typer.testing import CliRunner

from livermet.cli.main import app

from livermet.data import demo_case_path

DEMO = json.loads(demo_case_path().read_text(encoding="utf-8"))


def _schema() -> dict:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _resolve(schema: dict, node: dict) -> dict:
    if "$ref" in node:
        return schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    for alt in node.get("anyOf", []):
        if "$ref" in alt:
            return schema["$defs"][alt["$ref"].rsplit("/", 1)[-1]]
    return node


def test_schema_is_valid_json_schema_and_accepts_the_demo():
    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(DEMO, schema)


def test_schema_rejects_a_wrong_vocabulary_value():
    schema = _schema()
    bad = copy.deepcopy(DEMO)
    bad["primary"]["site"] = "crc"
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(bad))
    assert [list(e.absolute_path) for e in errors] == [["primary", "site"]]


def test_schema_contains_every_contract_field_with_units():
    schema = _schema()

    def walk(doc: dict, node: dict, path: str) -> None:
        props = node.get("properties", {})
        for key, value in doc.items():
            assert key in props, f"{path}.{key} missing from the schema"
            sub = _resolve(schema, props[key])
            if isinstance(value, dict) and "properties" in sub:
                walk(value, sub, f"{path}.{key}")
            if isinstance(value, list) and value and isinstance(value[0], dict):
                items = props[key].get("items", {})
                walk(value[0], _resolve(schema, items), f"{path}.{key}[]")

    walk(DEMO, schema, "")
    labs = schema["$defs"]["Labs"]["properties"]
    assert labs["bilirubin"]["x-canonical-unit"] == "mg/dL"
    assert "umol/L" in labs["bilirubin"]["x-accepted-units"]
    assert "g/dL" in labs["albumin"]["description"]
    assert "cm" in schema["$defs"]["Patient"]["properties"]["height_cm"]["description"]
