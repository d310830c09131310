"""The start-up overlap of `livermet volumetry`: read-ahead, worker threads, light imports.

These parts only make the command faster; the tests check that they never change what is
read or computed, and that they stay out of the way when they cannot help.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import zlib

import numpy as np
import pytest

from livermet.cli.entry import _volumetry_label_file
from livermet.imaging import parallel, readahead


@pytest.fixture()
def gz_file(tmp_path):
    data = os.urandom(1000) + bytes(200_000)
    p = tmp_path / "x.nii.gz"
    p.write_bytes(gzip.compress(data))
    return p, data


def test_take_hands_over_the_inflated_bytes_once(gz_file):
    path, data = gz_file
    assert readahead.start(path) is True
    assert readahead.start(path) is False  # already under way
    assert readahead.take(path) == data
    assert readahead.take(path) is None  # handed over once
    assert readahead.pending() == 0


def test_a_file_changed_after_the_read_ahead_is_read_again(gz_file):
    path, data = gz_file
    readahead.start(path)
    # make sure the read-ahead has read the old content before the file changes
    job = readahead._pending[os.path.realpath(path)]
    job.thread.join()
    new = bytes(50) + data
    path.write_bytes(gzip.compress(new))
    os.utime(path, ns=(1, 1))  # a different modification time, whatever the clock's resolution
    assert readahead.take(path) is None


def test_a_corrupt_file_is_left_to_the_reader(tmp_path):
    p = tmp_path / "bad.nii.gz"
    p.write_bytes(b"\x1f\x8b\x08\x00" + b"not gzip at all" * 10)
    assert readahead.start(p) is True
    assert readahead.take(p) is None  # the reader then reads it and reports the error
    with pytest.raises(zlib.error):
        readahead.inflate(p.read_bytes())


def test_only_gzip_files_are_read_ahead(tmp_path):
    plain = tmp_path / "x.nii"
    plain.write_bytes(b"abc")
    assert readahead.start(plain) is False
    assert readahead.start(tmp_path) is False  # a folder (TotalSegmentator output)
    assert readahead.start(tmp_path / "missing.nii.gz") is False
    assert readahead.start(None) is False


def test_volumetry_reads_the_same_voxels_with_and_without_read_ahead(tmp_path):
    from livermet.imaging.io import read_label_images
    from livermet.imaging.phantom import make_phantom, write_phantom

    files = write_phantom(tmp_path, make_phantom())
    labels = files["labels"]  # liver_segments.nii.gz
    plain = read_label_images(labels, "labels")[0]
    assert readahead.start(labels)
    ahead = read_label_images(labels, "labels")[0]
    assert readahead.pending() == 0  # the reader took it
    np.testing.assert_array_equal(np.asarray(plain.array), np.asarray(ahead.array))
    np.testing.assert_allclose(plain.grid.affine, ahead.grid.affine)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["volumetry", "--labels", "a.nii.gz", "--json"], "a.nii.gz"),
        (["volumetry", "ct.nii.gz", "-l", "b.nii.gz"], "b.nii.gz"),
        (["volumetry", "--labels=c.nii.gz"], "c.nii.gz"),
        (["volumetry", "--mask", "liver=l.nii.gz", "--mask", "tumour=t.nii.gz"], "l.nii.gz"),
        (["volumetry", "--mask=liver=l.nii.gz"], "l.nii.gz"),
        (["volumetry", "--mask", "liver=l.nii.gz", "--labels", "x.nii.gz"], "x.nii.gz"),
        (["assess", "--labels", "a.nii.gz"], None),
        (["volumetry"], None),
        ([], None),
        (["volumetry", "--labels"], None),
    ],
)
def test_the_entry_point_guesses_the_label_file_from_the_arguments(argv, expected):
    assert _volumetry_label_file(argv) == expected


@pytest.mark.parametrize("threads", ["1", "2", "3", "4"])
def test_for_ranges_covers_every_item_once_whatever_the_thread_count(monkeypatch, threads):
    monkeypatch.setenv("LIVERMET_THREADS", threads)
    hits = np.zeros(1003, dtype=np.int64)

    def part(a, b):
        hits[a:b] += 1

    parallel.for_ranges(part, hits.size, min_part=10)
    assert (hits == 1).all()


def test_for_ranges_reports_a_failing_part(monkeypatch):
    monkeypatch.setenv("LIVERMET_THREADS", "2")

    def part(a, b):
        if a > 0:
            raise ValueError("second half failed")

    with pytest.raises(ValueError, match="second half"):
        parallel.for_ranges(part, 100)


def test_a_bad_thread_setting_is_ignored(monkeypatch):
    monkeypatch.setenv("LIVERMET_THREADS", "many")
    assert 1 <= parallel.thread_count() <= parallel.MAX_THREADS


def test_nearest_feature_does_not_depend_on_the_thread_count(monkeypatch):
    from livermet.imaging.volumetry import nearest_feature

    rng = np.random.default_rng(3)
    feat = rng.random((30, 40, 25)) < 0.05
    query = ~feat
    out = {}
    for threads in ("1", "4"):
        monkeypatch.setenv("LIVERMET_THREADS", threads)
        out[threads] = nearest_feature(feat, (0.8, 0.7, 1.5), query)
    np.testing.assert_array_equal(out["1"][0], out["4"][0])
    for a, b in zip(out["1"][1], out["4"][1]):
        np.testing.assert_array_equal(a, b)


def test_the_ranges_module_loads_without_pydantic():
    """`livermet volumetry --height-cm` checks its body sizes against the case ranges; those
    must not load the pydantic case model (about 0.1 s of start-up)."""
    code = (
        "import sys, json; import livermet.case.ranges as r; "
        "print(json.dumps({'pydantic': 'pydantic' in sys.modules, "
        "'height': r.FIELD_SPECS['patient.height_cm'].usual}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    res = json.loads(out.stdout)
    assert res["pydantic"] is False
    assert res["height"] == [130.0, 220.0]


def test_the_case_package_still_exports_its_public_names():
    import livermet.case as case

    assert case.validate_case.__module__ == "livermet.case.validate"
    assert case.Case.__name__ == "Case"
    from livermet.case import ranges, validate

    assert validate.FIELD_SPECS is ranges.FIELD_SPECS  # one table, re-exported
    with pytest.raises(AttributeError, match="no_such_name"):
        case.no_such_name  # noqa: B018


def test_the_executable_entry_gives_the_library_result_with_any_thread_count(tmp_path):
    """`livermet volumetry` through its real entry point (read-ahead, worker threads) reports
    what the library computes in-process, with 1 thread or several."""
    from livermet.imaging.phantom import make_phantom, write_phantom
    from livermet.imaging.pipeline import run_volumetry

    files = write_phantom(tmp_path, make_phantom())
    tumours = sorted(tmp_path.glob("tumour_*.nii.gz"))
    args = ["volumetry", "--labels", str(files["labels"]), "--labelset", "liver_segments",
            "--resection", "right_hepatectomy", "--json"]
    for t in tumours:
        args += ["--mask", f"tumour={t}"]
    expected = run_volumetry(
        labels=files["labels"], labelset="liver_segments", masks=[("tumour", t) for t in tumours],
        resection="right_hepatectomy",
    ).to_dict()
    for threads in ("1", "3"):
        env = {**os.environ, "LIVERMET_THREADS": threads}
        proc = subprocess.run([sys.executable, "-m", "livermet.cli.entry", *args], capture_output=True,
                              text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        got = json.loads(proc.stdout)
        for key in ("liver_ml", "tumour_ml", "functional_liver_ml", "segments_ml", "lesions"):
            assert got[key] == expected[key], (threads, key)
        assert got["resection"]["remnant_ml"] == expected["resection"]["remnant_ml"]
        assert len(got["lesions"]) == len(tumours) >= 2
