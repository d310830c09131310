"""Benchmark: `livermet volumetry` on a 512x512x600 label map vs the load floor and a peer.

Run:  .venv/bin/python bench/volumetry.py [--repeat 3] [--keep DIR]

It writes a synthetic label map (.nii.gz, uint8, 0.78x0.78x1.0 mm): an ellipsoidal liver cut
into Couinaud-like segments 1-8 by planes, five spherical tumours (label 9) and two other
organs (labels 10, 11, ignored by the label set), then times three whole processes, imports
included, as a user waits for them:

- **floor**: ``python -c`` that loads the file with nibabel and reads the voxels
  (``np.asanyarray(img.dataobj)``, no float copy);
- **livermet**: ``livermet volumetry --labels ... --labelset map.json --resection
  right_hepatectomy --height-cm 175 --weight-kg 75 --json`` (load, volumes, segments,
  lesions with diameters, a right hepatectomy, sFLR);
- **peer**: SimpleITK ``ReadImage`` + ``LabelShapeStatisticsImageFilter`` (volumes only;
  multithreaded C++).

- **livermet, 1 thread**: the same command with ``LIVERMET_THREADS=1`` (no worker threads;
  the label map is still inflated beside the start-up), for the record.

Each is run ``--repeat`` times, round robin; the best and median wall times and the peak
resident memory (``ru_maxrss`` of that child, from ``os.wait4``) are reported. Ratios are
given on the best times (the least disturbed by other load on the machine) and on the
medians. Goals (issue 3): livermet within 2x the floor, faster than the peer, peak memory
under 3x the decompressed label volume.

Before timing, livermet's modules are byte-compiled (``compileall``), as ``pip install``
does: an editable checkout run with ``PYTHONDONTWRITEBYTECODE=1`` would otherwise compile
every module from source at each start (~0.07 s), which no installed copy does.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHAPE = (512, 512, 600)
SPACING = (0.78, 0.78, 1.0)
VENV_BIN = Path(sys.executable).parent


def make_labelmap(path: Path) -> dict:
    import nibabel as nib

    lab = np.zeros(SHAPE, dtype=np.uint8, order="F")
    x = (np.arange(SHAPE[0]) - 256) * SPACING[0]
    y = (np.arange(SHAPE[1]) - 256) * SPACING[1]
    xx, yy = np.meshgrid(x, y, indexing="ij")
    tumours = [((-40, 10, 15), 25), ((50, -20, -10), 15), ((-60, 30, -30), 10), ((20, 40, 35), 8), ((-10, -50, 0), 12)]
    for k in range(SHAPE[2]):
        z = (k - 300) * SPACING[2]
        r = 1 - (z / 55.0) ** 2
        if r > 0:  # ellipsoid 190 x 150 x 110 mm: 1.64 L, an adult liver
            liver = (xx / 95.0) ** 2 + (yy / 75.0) ** 2 <= r
            right = xx < -15  # patient's right hemiliver (lower x in this toy frame)
            upper = z >= 0
            seg = np.where(
                right,
                np.where(yy < 0, np.where(upper, 8, 5), np.where(upper, 7, 6)),
                np.where(xx < 30, np.where(yy < 20, 4, 1), np.where(upper, 2, 3)),
            ).astype(np.uint8)
            sl = lab[:, :, k]
            sl[liver] = seg[liver]
            for (cx, cy, cz), rad in tumours:
                if abs(z - cz) <= rad:
                    t = (xx - cx) ** 2 + (yy - cy) ** 2 <= rad**2 - (z - cz) ** 2
                    sl[t] = 9
        # two other organs the label set ignores
        lab[:, :, k][((xx - 150) / 50) ** 2 + (yy / 40) ** 2 <= 1] = 10 if abs(k - 300) < 60 else 0
        if abs(k - 200) < 100:
            lab[:, :, k][((xx + 20) / 15) ** 2 + ((yy - 120) / 15) ** 2 <= 1] = 11
    aff = np.diag([*SPACING, 1.0])
    nib.save(nib.Nifti1Image(lab, aff), str(path))
    return {str(n): f"segment_{n}" for n in range(1, 9)} | {"9": "tumour"}


def run_child(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of one child process."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as fh:
        p = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        errtxt = p.stderr.read().decode() if p.stderr else ""
        fh.seek(0)
        outtxt = fh.read().decode()
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}\n{errtxt}")
    return wall, ru.ru_maxrss / 1024.0, outtxt  # Linux: ru_maxrss in KiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="keep the label map in this folder")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="livermet-bench-"))
    try:
        path = tmp / "labels.nii.gz"
        mapping_path = tmp / "map.json"
        t0 = time.perf_counter()
        mapping_path.write_text(json.dumps(make_labelmap(path)))
        print(f"label map {SHAPE} uint8 written in {time.perf_counter() - t0:.1f} s "
              f"({path.stat().st_size / 2**20:.1f} MiB compressed)", file=sys.stderr)
        py = sys.executable
        livermet = str(VENV_BIN / "livermet")
        import compileall

        import livermet as _pkg

        compileall.compile_dir(str(Path(_pkg.__file__).parent), quiet=1)  # as an installation has it
        volumetry_args = [
            "volumetry", "--labels", str(path), "--labelset", str(mapping_path),
            "--resection", "right_hepatectomy", "--height-cm", "175", "--weight-kg", "75", "--json",
        ]
        cmds = {
            "floor (nibabel load)": [
                py, "-c",
                "import sys, numpy as np, nibabel as nib; img = nib.load(sys.argv[1]); "
                "a = np.asanyarray(img.dataobj); print(a.shape, a.dtype)", str(path),
            ],
            "livermet volumetry": [livermet, *volumetry_args],
            "livermet volumetry, 1 thread": ["env", "LIVERMET_THREADS=1", livermet, *volumetry_args],
            "peer (SimpleITK LabelShapeStatistics)": [
                py, "-c",
                "import sys, SimpleITK as sitk; img = sitk.ReadImage(sys.argv[1]); "
                "f = sitk.LabelShapeStatisticsImageFilter(); f.Execute(img); "
                "print({l: f.GetPhysicalSize(l) / 1000 for l in f.GetLabels()})", str(path),
            ],
        }
        results = {}
        outputs = {}
        runs: dict[str, list] = {name: [] for name in cmds}
        for _ in range(args.repeat):  # round robin: background load hits all three alike
            for name, cmd in cmds.items():
                runs[name].append(run_child(cmd))
        for name in cmds:
            best = min(r[0] for r in runs[name])
            median = sorted(r[0] for r in runs[name])[len(runs[name]) // 2]
            peak = max(r[1] for r in runs[name])
            results[name] = (best, peak, median)
            outputs[name] = runs[name][-1][2]
            print(f"{name:40s} best {best:5.2f} s  median {median:5.2f} s  peak {peak:5.0f} MiB  (runs: "
                  + ", ".join(f"{r[0]:.2f}" for r in runs[name]) + ")")
        # For the record: the analysis alone, in a process whose imports are already done.
        inproc = [
            py, "-c",
            "import sys, time, cc3d, livermet.calculators; "
            "from livermet.imaging.pipeline import run_volumetry; t = time.perf_counter(); "
            "run_volumetry(labels=sys.argv[1], labelset=sys.argv[2], resection='right_hepatectomy', "
            "height_cm=175, weight_kg=75); print(time.perf_counter() - t)", str(path), str(mapping_path),
        ]
        inside = min(float(run_child(inproc)[2]) for _ in range(args.repeat))
        print(f"{'livermet analysis after imports':40s} best {inside:5.2f} s  (read + volumes + lesions + "
              "resection + sFLR, in-process)")
        floor, _, floor_med = results["floor (nibabel load)"]
        ours, our_mem, ours_med = results["livermet volumetry"]
        peer, _, peer_med = results["peer (SimpleITK LabelShapeStatistics)"]
        single, _, single_med = results["livermet volumetry, 1 thread"]
        raw_mib = np.prod(SHAPE) / 2**20
        print(f"\nlivermet / floor  = {ours / floor:.2f} best, {ours_med / floor_med:.2f} median  (goal <= 2)")
        print(f"livermet / peer   = {ours / peer:.2f} best, {ours_med / peer_med:.2f} median  (goal < 1)")
        print(f"livermet 1 thread / peer = {single / peer:.2f} best, {single_med / peer_med:.2f} median  "
              "(for the record; the peer uses every core)")
        print(f"livermet peak memory = {our_mem:.0f} MiB = {our_mem / raw_mib:.2f} x the decompressed "
              f"label volume ({raw_mib:.0f} MiB; goal < 3)")
        d = json.loads(outputs["livermet volumetry"])
        r = d["resection"]
        print(f"check: liver {d['liver_ml']:.1f} mL, tumour {d['tumour_ml']:.1f} mL, {len(d['lesions'])} lesions, "
              f"right hepatectomy remnant {r['remnant_ml']:.1f} mL, sFLR {r['sflr_measured_percent']}% measured / "
              f"{r['sflr_standardised_percent']}% standardised")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, args.keep / path.name)
            shutil.copy(mapping_path, args.keep / mapping_path.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
