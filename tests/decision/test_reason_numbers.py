"""Numbers in reasons never contradict their comparison: a value just under a cut-off is never
printed as the cut-off itself ("KGR 2%/week < 2%/week" was a Q4 audit finding)."""

from __future__ import annotations

import re

from livermet.decision import assess_options
from livermet.decision.rules.base import num

from _decision_cases import make_case


def test_num_shows_enough_decimals_near_a_cut_off():
    assert num(1.975, near=2.0) == "1.98"       # round(1.975, 2) -> 1.98, != 2
    assert num(19.96, near=20.0) == "19.96"
    assert num(0.04996, near=0.05) == "0.04996"
    assert num(37.64, near=20.0) == "37.6"      # far from the cut-off: as before
    assert num(2.0, near=2.0) == "2"            # exactly on it: printed as it is


def test_kgr_just_below_two_is_not_printed_as_two():
    # Remnant 180 mL before PVE and 310 mL four weeks after; height 175 cm, weight 75 kg, so
    # the KGR uses the standardised sFLR (Shindoh 2013): BSA = sqrt(175*75/3600) = 1.909407 m2,
    # sTLV (Vauthey) = -794.41 + 1267.28*1.909407 = 1625.34 mL,
    # KGR = (310 - 180)/1625.34*100/4 = 1.99958 %/week: just below the 2 %/week cut-off, so
    # "inadequate" - and it must not be printed as "2%/week < 2" (one-decimal display).
    case = make_case(**{"labs.icg_r15": None, "volumetry.remnant_ml": 180,
                        "volumetry.remnant_ml_after_pve": 310, "volumetry.weeks_since_pve": 4})
    report = assess_options(case, {}).to_dict()
    texts = [r for o in report["options"] for r in o["reasons"] if "KGR" in r]
    assert texts, "KGR reasons expected after PVE"
    for t in texts:
        m = re.search(r"KGR ([0-9.]+)%/week after PVE ([<>]=?) ([0-9.]+)", t)
        assert m, t
        value, op, cut = float(m.group(1)), m.group(2), float(m.group(3))
        assert value != cut and (value < cut if op == "<" else value >= cut), t
    assert any("1.9996%/week after PVE < 2" in t for t in texts), texts


def test_standalone_decision_and_assess_agree_on_the_kgr():
    """assess_options(case, {}) computes the KGR itself: same basis and value as assess."""
    from livermet.assess import assess_case

    case = make_case(**{"volumetry.remnant_ml": 180, "volumetry.remnant_ml_after_pve": 310,
                        "volumetry.weeks_since_pve": 4})
    standalone = assess_options(case, {}).to_dict()
    full = assess_case(case).to_dict()
    pick = [o for o in standalone["options"] if o["code"] == "pve_then_resection"][0]
    assert pick["details"]["kgr"] == full["scores"]["kgr"]["details"]["kgr_unrounded"]
