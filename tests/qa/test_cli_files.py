"""Files a user gets wrong: outputs that cannot be written, inputs of the wrong kind.

Each must exit 2 with a message naming the path, never a Python traceback. The commands run
as a user runs them (the console entry point, in a subprocess).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest

from livermet.imaging.errors import ImagingInputError
from livermet.imaging.pipeline import run_volumetry

ENTRY = "from livermet.cli.main import main; main()"


def livermet(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", ENTRY, *args], capture_output=True,
                          encoding="utf-8", cwd=cwd, timeout=120,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "PYTHONUTF8": "1",
                               **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}})


def _nifti(path, arr):
    nib.save(nib.Nifti1Image(arr, np.diag([2.0, 2.0, 2.0, 1.0])), str(path))
    return path


@pytest.fixture
def liver_mask(tmp_path):
    m = np.zeros((24, 24, 24), np.uint8)
    m[4:20, 4:20, 4:20] = 1
    return _nifti(tmp_path / "liver.nii.gz", m)


def _clean_failure(r: subprocess.CompletedProcess, *needles: str, as_json: bool = False) -> None:
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in r.stderr
    if as_json:  # --json: the error as JSON on stdout too, nothing else
        assert all(n in json.loads(r.stdout)["error"] for n in needles if n != "error:")
    else:
        assert r.stdout == ""


@pytest.mark.parametrize("option", ["--figures", "--export-dir"])
def test_volumetry_output_folder_that_cannot_be_made(tmp_path, liver_mask, option):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    target = blocker / "out"
    r = livermet("volumetry", "--mask", f"liver={liver_mask}", option, str(target), "--json")
    _clean_failure(r, "error:", str(blocker), as_json=True)


def test_fhir_import_of_a_directory(tmp_path):
    r = livermet("fhir", "import", str(tmp_path))
    _clean_failure(r, str(tmp_path), "Is a directory")


@pytest.mark.parametrize("content, expected", [
    ("", "bundle is not JSON"),
    ("[1, 2]", "expected 'Bundle'"),
])
def test_fhir_import_of_an_empty_file_or_array_says_what_it_is(tmp_path, content, expected):
    f = tmp_path / "bundle.json"
    f.write_text(content)
    r = livermet("fhir", "import", str(f))
    _clean_failure(r, expected)
    assert "No such file" not in r.stderr and "Is a directory" not in r.stderr


def test_multilabel_map_given_as_mask_is_called_a_label_map_not_a_ct(tmp_path):
    # A TotalSegmentator `total` map holds over a hundred classes: many distinct values, all
    # small whole numbers. It is a label map (use --labels), not a CT image.
    lab = np.zeros((24, 24, 24), np.uint8)
    lab.reshape(-1)[:: 7] = (np.arange(lab.size)[:: 7] % 117 + 1).astype(np.uint8)
    p = _nifti(tmp_path / "total.nii.gz", lab)
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(masks=[("liver", p)])
    assert "like a label map" in e.value.expected and "--labels" in e.value.expected
    assert "CT image" not in e.value.expected


def test_volumetry_json_is_only_json(tmp_path, liver_mask):
    r = livermet("volumetry", "--mask", f"liver={liver_mask}", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["liver_ml"] == pytest.approx(16 ** 3 * 8 / 1000, abs=0.005)  # 16^3 voxels of 8 mm^3


def test_interpolated_mask_is_named_as_such(tmp_path):
    # A 0/1 mask resampled with linear interpolation has fractions at its edge: it is not a CT.
    m = np.zeros((24, 24, 24), np.float32)
    m[4:20, 4:20, 4:20] = 1.0
    m[3, 4:20, 4:20] = 0.5
    p = _nifti(tmp_path / "mask.nii.gz", m)
    with pytest.raises(ImagingInputError) as e:
        run_volumetry(masks=[("liver", p)])
    assert "linear interpolation" in e.value.expected and "CT image" not in e.value.expected


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_stdout_that_cannot_be_written_is_a_clean_error(tmp_path):
    case = tmp_path / "case.json"
    case.write_text('{"id": "x"}')
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-c", ENTRY, "validate", str(case), "--json"],
                           stdout=full, stderr=subprocess.PIPE, encoding="utf-8", timeout=120,
                           env={"PATH": "/usr/bin:/bin", "PYTHONUTF8": "1",
                                **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}})
    assert r.returncode == 2
    assert "No space left on device" in r.stderr and "Traceback" not in r.stderr

