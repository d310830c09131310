"""`livermet segment`: offline checks, usage statistics off, and a stand-in runner end to end.

The real TotalSegmentator call needs weights that cannot be downloaded here; it stays real
and untested. The stand-in runner below plays its part: it writes the label maps that
TotalSegmentator would write (same label values) from the phantom's known anatomy.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

from livermet.imaging import phantom as P
from livermet.imaging import segment as S
from livermet.imaging.errors import ImagingInputError

SHAPE, SPACING = (112, 80, 56), (3.2, 3.2, 3.6)


class StandInRunner:
    """Writes TotalSegmentator-style multilabel maps for the phantom CT (test double)."""

    name = "stand-in"

    def __init__(self):
        self.calls: list[tuple[str, bool, str]] = []

    def check(self, tasks, fast):
        return None

    def run(self, ct, out_file, task, *, fast, device):
        self.calls.append((task, fast, device))
        img = nib.load(str(ct))
        ph = P.make_phantom(shape=img.shape, spacing_mm=tuple(float(v) for v in img.header.get_zooms()))
        lab = np.zeros(img.shape, np.uint8)
        if task == "total":
            lab[ph.liver] = S.TOTAL_LABELS["liver"]
            lab[ph.ivc] = S.TOTAL_LABELS["ivc"]
        elif task == "liver_segments":
            lab[:] = ph.segments
        elif task == "liver_vessels":
            lab[(ph.hepatic_veins | ph.portal_vein) & ph.liver] = 1
            lab[ph.tumours > 0] = 2
        nib.save(nib.Nifti1Image(lab, img.affine), str(out_file))
        return out_file


@pytest.fixture(scope="module")
def phantom_ct(tmp_path_factory) -> tuple[Path, P.Phantom]:
    d = tmp_path_factory.mktemp("ph")
    ph = P.make_phantom(shape=SHAPE, spacing_mm=SPACING)
    files = P.write_phantom(d, ph)
    return files["ct"], ph


def empty_env(tmp_path: Path) -> dict[str, str]:
    return {"TOTALSEG_HOME_DIR": str(tmp_path / "ts_home")}


def test_missing_weights_are_reported_with_how_to_provision_them(tmp_path):
    env = empty_env(tmp_path)
    missing = S.missing_weights(S.TASKS, fast=False, env=env)
    assert "Dataset570" in missing and "Dataset008" in missing and "Dataset291" in missing
    with pytest.raises(S.WeightsMissing) as exc:
        S.TotalSegmentatorRunner(env).check(S.TASKS, fast=False)
    msg = str(exc.value)
    assert str(tmp_path / "ts_home" / "nnunet" / "results") in msg
    for needle in ("TOTALSEG_HOME_DIR", "TOTALSEG_WEIGHTS_PATH", "totalseg_download_weights", "never downloads"):
        assert needle in msg


def test_weights_folder_resolution_follows_totalsegmentator(tmp_path):
    assert S.weights_dir({"TOTALSEG_HOME_DIR": "/x"}) == Path("/x/nnunet/results")
    assert S.weights_dir({"TOTALSEG_HOME_DIR": "/x", "TOTALSEG_WEIGHTS_PATH": "/w"}) == Path("/w")
    root = tmp_path / "w"
    for name in ("Dataset297_TotalSegmentator_total_3mm_1559subj", "Dataset298_x", "Dataset570_liver", "Dataset008_HepaticVessel"):
        (root / name).mkdir(parents=True)
    assert S.missing_weights(S.TASKS, fast=True, env={"TOTALSEG_WEIGHTS_PATH": str(root)}) == []
    assert S.missing_weights(["total"], fast=False, env={"TOTALSEG_WEIGHTS_PATH": str(root)})[0] == "Dataset291"


def test_usage_statistics_are_turned_off_and_other_settings_kept(tmp_path):
    env = empty_env(tmp_path)
    home = Path(env["TOTALSEG_HOME_DIR"])
    home.mkdir()
    (home / "config.json").write_text(json.dumps({"totalseg_id": "abc", "send_usage_stats": True, "license_number": "L"}))
    cfg = json.loads(S.disable_usage_stats(env).read_text())
    assert cfg["send_usage_stats"] is False
    assert cfg["totalseg_id"] == "abc" and cfg["license_number"] == "L"


def test_cli_without_weights_exits_2_with_the_provisioning_message(tmp_path, phantom_ct, monkeypatch):
    from livermet.cli.main import app

    ct, _ = phantom_ct
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(tmp_path / "nowhere"))
    monkeypatch.delenv("TOTALSEG_WEIGHTS_PATH", raising=False)
    result = CliRunner().invoke(app, ["segment", str(ct), str(tmp_path / "out")])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "TOTALSEG_HOME_DIR" in text and "Traceback" not in text
    assert not (tmp_path / "out").exists()  # nothing started


def test_bad_inputs_are_refused_before_running(tmp_path, phantom_ct):
    ct, _ = phantom_ct
    runner = StandInRunner()
    with pytest.raises(ImagingInputError, match="cpu \\| gpu"):
        S.segment_ct(ct, tmp_path, device="tpu", runner=runner)
    with pytest.raises(ImagingInputError, match="NIfTI"):
        S.segment_ct(tmp_path / "missing.nii.gz", tmp_path, runner=runner)
    assert runner.calls == []


def test_stand_in_runner_end_to_end(tmp_path, phantom_ct):
    ct, ph = phantom_ct
    runner = StandInRunner()
    result = S.segment_ct(ct, tmp_path / "out", runner=runner, device="gpu", fast=True,
                          resection="right_hepatectomy", figures=False)
    assert [c[0] for c in runner.calls] == list(S.TASKS)
    assert all(c[1:] == (True, "gpu") for c in runner.calls)
    assert set(result.masks) == {"liver", "ivc", "liver_vessels", "tumour"}
    vol = result.volumetry
    vv = ph.grid.voxel_volume_ml
    assert vol["liver_ml"] == pytest.approx(ph.liver.sum() * vv, abs=0.006)
    assert vol["tumour_ml"] == pytest.approx((ph.tumours > 0).sum() * vv, abs=0.006)
    for s in range(1, 9):
        assert vol["segments_ml"][str(s)] == pytest.approx((ph.segments == s).sum() * vv, abs=0.006)
    assert sorted(les["segments"][0] for les in vol["lesions"]) == [6, 7]
    assert vol["resection"]["remnant_ml"] == pytest.approx(np.isin(ph.segments, [1, 2, 3, 4]).sum() * vv, rel=1e-3)
    assert json.loads((tmp_path / "out" / "volumetry.json").read_text())["liver_ml"] == vol["liver_ml"]


def test_cli_with_a_plugged_runner_prints_json(tmp_path, phantom_ct):
    from livermet.cli.main import app

    ct, ph = phantom_ct
    result = CliRunner().invoke(
        app, ["segment", str(ct), str(tmp_path / "out"), "--runner", f"{__file__}:StandInRunner", "--no-figures", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["runner"] == "stand-in"
    assert data["volumetry"]["liver_ml"] == pytest.approx(ph.liver.sum() * ph.grid.voxel_volume_ml, abs=0.006)


def test_bad_runner_spec_is_a_clear_error(tmp_path, phantom_ct):
    from livermet.cli.main import app

    ct, _ = phantom_ct
    result = CliRunner().invoke(app, ["segment", str(ct), str(tmp_path / "o"), "--runner", "no_such_module_xyz:Runner"])
    assert result.exit_code == 2
    assert "runner" in result.output


class RecordedRunner:
    """Replays TotalSegmentator's real output for the shared example CT (total task only)."""

    name = "recorded TotalSegmentator"

    def __init__(self, seg_file: Path):
        self.seg_file = seg_file

    def check(self, tasks, fast):
        assert list(tasks) == ["total"]

    def run(self, ct, out_file, task, *, fast, device):
        Path(out_file).write_bytes(self.seg_file.read_bytes())
        return out_file


def test_real_totalsegmentator_output_gives_the_documented_liver_volume(tmp_path, totalseg_example):
    """example_seg_fast_force_split.nii.gz is TotalSegmentator's own `total` output for
    example_ct.nii.gz; its README gives the liver as 41,692 voxels of 27 mm3 = 1125.7 mL."""
    runner = RecordedRunner(totalseg_example / "example_seg_fast_force_split.nii.gz")
    result = S.segment_ct(totalseg_example / "example_ct.nii.gz", tmp_path, runner=runner, tasks=("total",),
                          figures=False)
    assert set(result.masks) >= {"liver", "ivc", "portal_vein"}
    assert result.volumetry["liver_ml"] == pytest.approx(41692 * 0.027, abs=0.01)
    assert result.volumetry["segments_ml"] is None  # no segment labels from the total task


def test_missing_weights_also_say_when_the_package_is_missing(tmp_path, monkeypatch):
    """QA: with neither the package nor the weights, the message said only 'weights missing'."""
    import importlib.util

    real = importlib.util.find_spec
    for installed in (False, True):
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name, *a, _i=installed: (object() if _i else None) if name == "totalsegmentator"
                            else real(name, *a))
        with pytest.raises(S.WeightsMissing) as exc:
            S.TotalSegmentatorRunner(empty_env(tmp_path)).check(S.TASKS, fast=False)
        assert exc.value.package_missing is (not installed)
        assert ("not installed here either" in str(exc.value)) is (not installed)
        assert "TOTALSEG_HOME_DIR" in str(exc.value)
