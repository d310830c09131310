"""QA: with volumetry.remnant_ml and total_liver_ml filled and tumour_ml not, `livermet assess`
said `icgk_f: ... (fill volumetry.remnant_ml, volumetry.total_liver_ml, ...)`: fields already
filled were listed as missing. Only the empty ones are listed now."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from livermet.cli.main import app

CASE = """\
id: qa-missing
labs: {icg_r15: 8}
volumetry: {remnant_ml: 600, total_liver_ml: 1500}
"""


def test_assess_asks_only_for_the_empty_fields(tmp_path, monkeypatch):
    from livermet.cli import common

    monkeypatch.setattr(common.out, "width", 120)
    f = tmp_path / "case.yaml"
    f.write_text(CASE, encoding="utf-8")
    r = CliRunner().invoke(app, ["assess", str(f)])
    assert r.exit_code == 0, r.output
    assert "  icgk_f: needs remnant_percent (fill volumetry.tumour_ml)\n" in r.output
    d = json.loads(CliRunner().invoke(app, ["assess", str(f), "--json"]).stdout)
    assert d["missing_fields"]["icgk_f"] == ["volumetry.tumour_ml"]
    filled = {"volumetry.remnant_ml", "volumetry.total_liver_ml", "labs.icg_r15"}
    assert not filled & {p for fields in d["missing_fields"].values() for p in fields}
