"""`livermet demo` prints the demo case's sFLR (38.6 %, from its typed-in volumetry) and then
the CT phantom's (39.0 %, measured): a new user saw two sFLRs for "the demo" and no word that
the phantom is measured on its own. The phantom's section now says so."""

from __future__ import annotations

from typer.testing import CliRunner

from livermet.cli.main import app


def test_demo_says_the_phantom_is_not_the_demo_case(monkeypatch):
    import livermet.imaging.phantom as phantom
    from livermet.cli import common

    monkeypatch.setattr(common.out, "width", 200)
    monkeypatch.setattr(phantom, "run_demo", lambda out_dir: {"summary": "phantom (stand-in)"})
    r = CliRunner().invoke(app, ["demo"])
    assert r.exit_code == 0, r.output
    text = r.stdout
    assert "sflr" in text  # the demo case's own sFLR, in the scores table
    note = ("A synthetic CT measured on its own: its volumes and sFLR are not the demo case's "
            "typed-in volumetry above.")
    assert note in text
    assert text.index("Imaging phantom") < text.index(note) < text.index("phantom (stand-in)")
