"""The registry is the one list the CLI, assess, report and web read: check it is complete and
honest (sources, units, examples that reproduce) and that the issue's names are kept."""

from __future__ import annotations

import math

import pytest

from livermet.calculators import REGISTRY, list_calculators, run

# The public contract: issue 2, section 3 (names and parameters).
ISSUE_TABLE = {
    "bsa": ["height_cm", "weight_kg", "formula"],
    "standard_liver_volume": ["bsa_m2", "height_cm", "weight_kg", "formula"],
    "sflr": ["remnant_ml", "total_liver_ml", "tumour_ml", "height_cm", "weight_kg", "liver_condition"],
    "kgr": ["sflr_before", "sflr_after", "weeks"],
    "icg": ["icg_r15", "icg_k", "icg_pdr"],
    "icgk_f": ["icg_k", "icg_r15", "icg_pdr", "remnant_percent"],
    "makuuchi": ["ascites", "bilirubin", "icg_r15"],
    "child_pugh": ["bilirubin", "albumin", "inr", "ascites", "encephalopathy"],
    "meld": ["bilirubin", "inr", "creatinine", "dialysis"],
    "meld_na": ["bilirubin", "inr", "creatinine", "sodium", "dialysis"],
    "meld_3": ["sex", "bilirubin", "inr", "creatinine", "sodium", "albumin", "dialysis"],
    "albi": ["bilirubin", "albumin"],
    "fong": ["node_positive", "disease_free_interval_months", "lesion_count", "largest_diameter_mm", "cea"],
    "tumour_burden_score": ["lesion_count", "largest_diameter_mm"],
    "game": ["kras_mutant", "cea", "node_positive", "lesion_count", "largest_diameter_mm", "extrahepatic"],
    "nordlinger": ["age", "serosal_invasion", "node_positive", "disease_free_interval_months",
                   "lesion_count", "largest_diameter_mm"],
    "milan_net": ["ki67_percent", "liver_involvement_percent", "age", "primary_resected",
                  "portal_drainage", "stable_months", "extrahepatic"],
    "transmet": ["age", "ecog", "primary_resected", "braf_v600e", "extrahepatic", "chemotherapy_months",
                 "chemotherapy_lines", "response_to_chemotherapy"],
    "oslo": ["largest_diameter_mm", "cea", "progressive_on_chemotherapy", "months_since_resection"],
    "recist": ["baseline_sum_mm", "nadir_sum_mm", "current_sum_mm", "new_lesions", "all_targets_gone"],
    "choi": ["size_change_percent", "density_change_percent", "new_lesions"],
    "margin": ["margin_mm"],
    "pathological_response": ["viable_tumour_percent"],
    "bed": ["dose_per_fraction_gy", "fractions", "alpha_beta"],
    "sirt_bsa": ["bsa_m2", "height_cm", "weight_kg", "tumour_ml", "total_liver_ml", "lung_shunt_percent"],
    "sirt_mird": ["target_dose_gy", "target_mass_kg", "lung_shunt_percent"],
}

ISSUE_CATEGORIES = {
    "sflr": {"adequate", "inadequate"}, "kgr": {"adequate", "inadequate"},
    "icgk_f": {"adequate", "inadequate"},
    "makuuchi": {"no_resection", "enucleation", "limited_resection", "segmentectomy", "sectionectomy",
                 "hemihepatectomy"},
    "child_pugh": {"A", "B", "C"}, "albi": {"1", "2", "3"}, "fong": {"low", "high"},
    "tumour_burden_score": {"zone_1", "zone_2", "zone_3"}, "game": {"low", "medium", "high"},
    "nordlinger": {"low", "intermediate", "high"},
    "milan_net": {"eligible", "not_eligible", "indeterminate"},
    "transmet": {"eligible", "not_eligible", "indeterminate"},
    "recist": {"CR", "PR", "SD", "PD"}, "choi": {"PR", "SD", "PD"}, "margin": {"R0", "R1"},
    "pathological_response": {"complete", "major", "minor"}, "sirt_bsa": {"treat", "do_not_treat"},
}


def test_registry_has_exactly_the_issue_calculators():
    assert set(REGISTRY) == set(ISSUE_TABLE)
    assert len(list_calculators()) == 26


@pytest.mark.parametrize("name", sorted(ISSUE_TABLE))
def test_issue_parameter_names_kept(name):
    params = {p.name for p in REGISTRY[name].params}
    assert set(ISSUE_TABLE[name]) <= params


@pytest.mark.parametrize("name", sorted(ISSUE_TABLE))
def test_entry_has_sources_units_examples(name):
    calc = REGISTRY[name]
    assert calc.sources and all(s.citation for s in calc.sources)
    assert calc.title and calc.domain
    assert len(calc.examples) >= 1 and all(e.source for e in calc.examples)
    for p in calc.params:
        if p.kind == "float":
            assert p.unit, f"{name}.{p.name} has no unit"
        if p.kind == "choice":
            assert p.choices
    first = run(name, calc.examples[0].inputs)
    if isinstance(first.value, (int, float)) and not isinstance(first.value, bool):
        assert calc.unit, f"{name} returns a number but declares no unit"
        assert first.unit == calc.unit


@pytest.mark.parametrize(
    "name, example",
    [(n, e) for n, c in sorted(REGISTRY.items()) for e in c.examples],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_registered_examples_reproduce(name, example):
    r = run(name, example.inputs)
    if isinstance(example.value, float):
        assert math.isclose(r.value, example.value, abs_tol=example.tolerance + 1e-12)
    elif example.value is not None:
        assert r.value == example.value
    assert r.category == example.category


@pytest.mark.parametrize("name", sorted(ISSUE_TABLE))
def test_results_are_frozen_and_serialisable(name):
    import dataclasses
    import json

    r = run(name, REGISTRY[name].examples[0].inputs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.value = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        r.inputs["x"] = 1  # type: ignore[index]
    d = json.loads(json.dumps(r.to_dict()))
    assert d["name"] == name and "value" in d and "category" in d and d["sources"]
    assert r.formula


@pytest.mark.parametrize("name", sorted(ISSUE_CATEGORIES))
def test_categories_in_the_issue_vocabulary(name):
    for e in REGISTRY[name].examples:
        assert run(name, e.inputs).category in ISSUE_CATEGORIES[name]


@pytest.mark.parametrize("name", ["makuuchi", "oslo", "pathological_response", "sirt_bsa"])
def test_check_items_flagged(name):
    """Items marked (check) in calculators.md carry Source(check=True) and say so in notes."""
    r = run(name, REGISTRY[name].examples[0].inputs)
    assert any(s.check for s in r.sources)
    assert any("not confirmed" in n or "(check)" in n for n in r.notes)


@pytest.mark.parametrize("name", ["bed", "sirt_mird"])
def test_items_confirmed_by_the_clinical_review_are_not_flagged(name):
    """calculators.md's (check) items confirmed in docs/clinical-review.md section 3 (BED10 target:
    Ohri/HyTEC; 700 mL: Schefter 2005; MIRD and lung limits) carry no check flag."""
    r = run(name, REGISTRY[name].examples[0].inputs)
    assert not any(s.check for s in r.sources)
    assert not any("not confirmed against the primary paper" in n for n in r.notes)
