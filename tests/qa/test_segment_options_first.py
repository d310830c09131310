"""`livermet segment` checks the options its volumetry will use before segmenting.

A misspelt --resection, a non-anatomic one (its lesion ids exist only after segmentation) or
a height in metres was refused only after TotalSegmentator had run, minutes on a CPU. The
runner here records whether it was started; each refusal exits 2 without starting it.
"""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

from livermet.cli.main import app

RUNNER = '''
from pathlib import Path

class Recorder:
    name = "recorder"

    def check(self, tasks, fast):
        return None

    def run(self, ct, out_file, task, *, fast, device):
        Path(__file__).with_name("started").write_text(task)
        raise RuntimeError("the segmentation must not start")

recorder = Recorder()
'''


@pytest.fixture
def setup(tmp_path, monkeypatch):
    from livermet.cli import common

    monkeypatch.setattr(common.err, "width", 400)
    ct = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((8, 8, 8), np.int16), np.eye(4)), str(ct))
    (tmp_path / "recorder.py").write_text(RUNNER, encoding="utf-8")
    return tmp_path, ct, f"{tmp_path / 'recorder.py'}:recorder"


@pytest.mark.parametrize("options, message, hint", [
    (["--resection", "right_hepatectomie"],
     "--resection right_hepatectomie: expected one of right_hepatectomy, ", "checked before segmenting"),
    (["--resection", "left_lateral_sectionectomy+foo"],
     "--resection left_lateral_sectionectomy+foo: 'foo': expected one of ", "checked before"),
    (["--resection", "right_hepatectomy+lesions"],
     "a non-anatomic resection needs the lesion ids", "--resect-lesions"),
    (["--height-cm", "1.75", "--weight-kg", "70"],
     "--height-cm 1.75: expected a number in cm", "1.75 looks like m: use --height-cm 175"),
    (["--height-cm", "175", "--weight-kg", "75000"],
     "--weight-kg 75000: expected a number in kg", "--weight-kg 75000 is outside the usual 35-200 kg"),
])
def test_refused_before_segmenting(setup, options, message, hint):
    tmp_path, ct, runner = setup
    r = CliRunner().invoke(app, ["segment", str(ct), str(tmp_path / "out"), "--runner", runner,
                                 *options, "--json"])
    assert r.exit_code == 2, r.output
    data = json.loads(r.stdout)
    assert message in data["error"] and hint in data["hint"]
    assert not (tmp_path / "started").exists()  # the segmentation never started
    assert not (tmp_path / "out").exists()


def test_valid_options_reach_the_segmentation(setup):
    tmp_path, ct, runner = setup
    r = CliRunner().invoke(app, ["segment", str(ct), str(tmp_path / "out"), "--runner", runner,
                                 "--resection", "right_hepatectomy", "--height-cm", "175",
                                 "--weight-kg", "75"])
    # the recorder refuses to segment: what matters is that it was asked to
    assert (tmp_path / "started").read_text() == "total"
    assert r.exit_code != 0
