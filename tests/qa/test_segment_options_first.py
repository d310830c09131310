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


PHANTOM_RUNNER = '''
import nibabel as nib
import numpy as np

from livermet.imaging import phantom as P
from livermet.imaging import segment as S


class Phantom:
    """Writes the label maps TotalSegmentator would write for the phantom CT."""

    name = "phantom"

    def check(self, tasks, fast):
        return None

    def run(self, ct, out_file, task, *, fast, device):
        img = nib.load(str(ct))
        ph = P.make_phantom(shape=img.shape, spacing_mm=tuple(float(v) for v in img.header.get_zooms()))
        lab = np.zeros(img.shape, np.uint8)
        if task == "total":
            lab[ph.liver] = S.TOTAL_LABELS["liver"]
        elif task == "liver_segments":
            lab[:] = ph.segments
        elif task == "liver_vessels":
            lab[ph.tumours > 0] = 2
        nib.save(nib.Nifti1Image(lab, img.affine), str(out_file))
        return out_file


phantom = Phantom()
'''


def test_segment_prints_the_volumetry_tables(tmp_path, monkeypatch):
    """The volumes were printed as a Python dict ("segments: {'1': 33.4, ...}"); they are
    now the tables of `livermet volumetry`, with the remnant's sFLR."""
    from livermet.cli import common
    from livermet.imaging import phantom as P

    monkeypatch.setattr(common.out, "width", 100)
    ct = P.write_phantom(tmp_path / "ph", P.make_phantom(shape=(88, 64, 40),
                                                         spacing_mm=(4.0, 4.0, 5.0)))["ct"]
    (tmp_path / "phantom_runner.py").write_text(PHANTOM_RUNNER, encoding="utf-8")
    r = CliRunner().invoke(app, ["segment", str(ct), str(tmp_path / "out"), "--no-figures",
                                 "--runner", f"{tmp_path / 'phantom_runner.py'}:phantom",
                                 "--resection", "right_hepatectomy"])
    assert r.exit_code == 0, r.output
    text = r.stdout
    assert "{'" not in text and "segments_ml" not in text
    assert "Volumes" in text and "segment 8" in text
    assert "Virtual resection: right_hepatectomy" in text and "sFLR measured" in text
    vol = json.loads((tmp_path / "out" / "volumetry.json").read_text())
    row = next(line for line in text.splitlines() if line.strip().startswith("segment 8"))
    assert f"{vol['segments_ml']['8']:,.1f}" in row  # the table shows what was written
