"""`livermet dicom-sr` with the wrong kind of input names its own options (--ct, --seg), not
the library's parameters (ct_dir, seg_path), and says where the right files come from; no
advice from pydicom to "use force=True". Each exits 2. `fhir export --help` shows the whole
default MRN system (the options column cut it to 'https://livermet.org/fhir/sid/…').
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from livermet.cli.main import app


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    from livermet.cli import common

    monkeypatch.setattr(common.err, "width", 400)
    return CliRunner()


@pytest.fixture
def files(tmp_path):
    vol = tmp_path / "volumetry.json"
    vol.write_text(json.dumps({"liver_ml": 1500.0}), encoding="utf-8")
    nifti = tmp_path / "ct.nii.gz"
    nifti.write_bytes(b"\x1f\x8b not DICOM")
    folder = tmp_path / "series"
    folder.mkdir()
    return vol, nifti, folder


def _run(runner, vol, seg, ct, tmp_path):
    return runner.invoke(app, ["dicom-sr", str(vol), "--seg", str(seg), "--ct", str(ct),
                               "--out", str(tmp_path / "sr.dcm")])


def test_ct_given_as_a_file(runner, files, tmp_path):
    vol, nifti, folder = files
    r = _run(runner, vol, nifti, nifti, tmp_path)
    assert r.exit_code == 2
    assert f"--ct '{nifti}': is a file; expected the folder of the CT's DICOM series" in r.stderr
    assert "source_ct_dicom" in r.stderr  # where such a folder comes from


def test_seg_given_as_a_folder(runner, files, tmp_path):
    vol, nifti, folder = files
    r = _run(runner, vol, folder, folder, tmp_path)
    assert r.exit_code == 2
    assert f"--seg '{folder}': is a folder; expected a DICOM SEG file" in r.stderr


def test_seg_that_is_not_dicom(runner, files, tmp_path):
    vol, nifti, folder = files
    r = _run(runner, vol, nifti, folder, tmp_path)
    assert r.exit_code == 2
    assert f"--seg '{nifti}': not a readable DICOM file" in r.stderr
    assert "seg_path" not in r.stderr and "force=True" not in r.stderr
    assert "segments.seg.dcm" in r.stderr  # the hint: which files to pass
    assert not (tmp_path / "sr.dcm").exists()


def test_fhir_export_help_shows_the_whole_default_mrn_system():
    r = CliRunner().invoke(app, ["fhir", "export", "--help"], env={"COLUMNS": "80"})
    assert r.exit_code == 0
    assert "https://livermet.org/fhir/sid/mrn" in r.stdout
    assert "…" not in r.stdout
