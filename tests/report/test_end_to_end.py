"""A new user's path: hospital FHIR bundle -> case -> PDF report -> FHIR again; and a case
with images -> report with the imaging part's figures."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from livermet.cli.main import app

HOSPITAL_BUNDLE = Path(__file__).parents[1] / "interop" / "data" / "hospital_mcode_bundle.json"


def test_fhir_bundle_to_pdf_report_and_back_to_fhir(tmp_path):
    import livermet.assess  # noqa: F401  (part of livermet: never skipped)
    runner = CliRunner()
    case_path = tmp_path / "case.json"
    r = runner.invoke(app, ["fhir", "import", str(HOSPITAL_BUNDLE), "--out", str(case_path)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["report", str(case_path), "--out", str(tmp_path / "r.pdf"), "--json"])
    assert r.exit_code == 0, r.output
    pdf = tmp_path / "r.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "Hanna Example" in text and "colorectal" in text
    r = runner.invoke(app, ["fhir", "export", str(case_path), "--out", str(tmp_path / "b.json")])
    assert r.exit_code == 0, r.output
    bundle = json.loads((tmp_path / "b.json").read_text())
    codes = {c["code"] for e in bundle["entry"] for c in e["resource"].get("code", {}).get("coding", [])}
    assert {"1975-2", "2039-6", "94381002", "C78.7", "89247-1"} <= codes


def test_case_with_images_gets_the_imaging_figures(tmp_path):
    import livermet.imaging.phantom as phantom
    import livermet.imaging.figures  # noqa: F401  (part of livermet: never skipped)
    files = phantom.write_phantom(tmp_path / "ph")
    r = CliRunner().invoke(app, ["report", str(files["case"]), "--out", str(tmp_path / "r.html"),
                                 "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert len(info["figures"]) >= 2 and all(f.endswith(".png") for f in info["figures"])
    html = (tmp_path / "r.html").read_text()
    assert html.count('src="data:image/png;base64,') >= 2
    assert "imaging" in html  # volumes from the images
