"""`livermet explain`, `livermet knowledge` and the options table."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from _decision_cases import make_case
from livermet.cli.main import app
from livermet.decision import KNOWLEDGE_VERSION, assess_options, render_options

runner = CliRunner()


def test_explain_json_and_text() -> None:
    res = runner.invoke(app, ["explain", "sbrt", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["code"] == "sbrt"
    assert any("[53]" in e["source"] for e in data["evidence"])
    text = runner.invoke(app, ["explain", "whole-liver-rt"])
    assert text.exit_code == 0
    assert "55%" in text.stdout


def test_explain_unknown_code_exits_2_with_the_known_codes() -> None:
    res = runner.invoke(app, ["explain", "chemo"])
    assert res.exit_code == 2
    assert "resection" in res.output and "Traceback" not in res.output


def test_knowledge_json_lists_the_version() -> None:
    res = runner.invoke(app, ["knowledge", "--json"])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["knowledge_version"] == KNOWLEDGE_VERSION
    assert len(data["options"]) == 16
    assert runner.invoke(app, ["knowledge", "--help"]).exit_code == 0


def test_options_table_fits_100_columns() -> None:
    from rich.console import Console

    for width in (120, 100, 80):
        console = Console(width=width, record=True, color_system=None)
        console.print(render_options(assess_options(make_case(), {})))
        lines = console.export_text().splitlines()
        assert max(len(l) for l in lines) <= min(width, 100)
        text = "\n".join(lines)
        assert "resection" in text and "recommended" in text


def test_option_codes_are_never_split_at_80_columns():
    """`pve_then_resection` must stay searchable in an 80-column terminal (QA finding)."""
    import io

    from rich.console import Console

    from livermet.assess import assess_case
    from livermet.data import demo_case_path
    from livermet.decision import render_options

    a = assess_case(demo_case_path())
    buf = io.StringIO()
    Console(file=buf, width=80, color_system=None).print(render_options(a.decision, width=80))
    text = buf.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    for code in ("pve_then_resection", "resection_with_ablation", "best_supportive_care"):
        assert code in text


def test_source_names_are_never_split_mid_word_at_80_columns():
    """QA finding: at 80 columns the Sources column broke "Makuuchi" into "Makuuch / i"."""
    import io
    import re

    from rich.console import Console

    from livermet.assess import assess_case
    from livermet.data import demo_case_path
    from livermet.decision import render_options
    from livermet.decision.render import _refs

    a = assess_case(demo_case_path())
    options = a.decision.to_dict()["options"]
    words = {w.strip(",") for o in options for w in _refs(o.get("sources") or [], 4).split()}
    assert "Makuuchi" in words  # the case that broke
    buf = io.StringIO()
    Console(file=buf, width=80, color_system=None).print(render_options(a.decision, width=80))
    cells = [c.strip() for line in buf.getvalue().splitlines() for c in re.split(r"[│┃]", line)]
    shown = {w.strip(",") for c in cells for w in c.split()}
    long_words = {w for w in words if len(w) <= 16}
    assert long_words <= shown, sorted(long_words - shown)
