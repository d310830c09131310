"""Long commands show progress on stderr when it is a terminal, and nothing when it is not.

`livermet assess` of a case that names its images reads and measures them; before, it ran
silent for as long as that took.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading

import nibabel as nib
import numpy as np
import pytest

ENTRY = "from livermet.cli.main import main; main()"


@pytest.fixture
def case_with_images(tmp_path):
    m = np.zeros((80, 80, 80), np.uint8)
    m[20:60, 20:60, 20:60] = 1  # 512 mL at 2 mm
    nib.save(nib.Nifti1Image(m, np.diag([2.0, 2, 2, 1])), str(tmp_path / "liver.nii.gz"))
    case = {"id": "qa-progress", "patient": {"age": 60, "sex": "male"},
            "primary": {"site": "colorectal"}, "imaging": {"masks": {"liver": "liver.nii.gz"}}}
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case))
    return path


def _run(args, stderr_tty: bool):
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "100", "TERM": "xterm", "PYTHONUTF8": "1",
           **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}}
    if not stderr_tty:
        return subprocess.run([sys.executable, "-c", ENTRY, *args], capture_output=True,
                              encoding="utf-8", env=env, timeout=120)
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:  # read while the command runs: a full pty buffer would block it
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    proc = subprocess.run([sys.executable, "-c", ENTRY, *args], stdout=subprocess.PIPE,
                          stderr=slave, encoding="utf-8", env=env, timeout=120)
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    proc.stderr = b"".join(chunks).decode("utf-8", "replace")
    return proc


def test_assess_with_images_shows_progress_on_a_terminal(case_with_images):
    r = _run(["assess", str(case_with_images), "--json"], stderr_tty=True)
    assert r.returncode == 0
    assert "assessing" in r.stderr
    assert json.loads(r.stdout)["imaging"]["liver_ml"] == pytest.approx(512.0)


def test_assess_is_quiet_when_stderr_is_not_a_terminal(case_with_images):
    r = _run(["assess", str(case_with_images), "--json"], stderr_tty=False)
    assert r.returncode == 0 and r.stderr == ""
    assert json.loads(r.stdout)["case_id"] == "qa-progress"


def test_demo_shows_progress_on_a_terminal(tmp_path):
    r = _run(["demo", "--out", str(tmp_path / "demo"), "--json"], stderr_tty=True)
    assert r.returncode == 0
    assert "demo: building and measuring the CT phantom" in r.stderr
    assert json.loads(r.stdout)["case_id"] == "demo-crc-001"
    assert (tmp_path / "demo" / "report.pdf").stat().st_size > 0
