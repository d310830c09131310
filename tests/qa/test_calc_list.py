"""`livermet calc --list` in an 80- or 100-column terminal shows every calculator and
parameter name whole: they are what the user must type, so an ellipsis hides the answer."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from livermet.calculators import list_calculators
from livermet.cli.main import app


@pytest.mark.parametrize("width", [80, 100, 140])
def test_every_name_is_shown_whole(monkeypatch, width):
    from livermet.cli import common

    monkeypatch.setattr(common.out, "width", width)
    r = CliRunner().invoke(app, ["calc", "--list"])
    assert r.exit_code == 0
    assert "…" not in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= width
    tokens = set(re.findall(r"[A-Za-z0-9_]+", r.stdout))
    for calc in list_calculators():
        assert calc.name in tokens
        for p in calc.params:
            assert p.name in tokens, (calc.name, p.name)
