"""Segmentation from CT with TotalSegmentator (optional extra ``livermet[segment]``).

``segment_ct`` runs three TotalSegmentator tasks on one CT (Wasserthal et al., Radiol Artif
Intell 2023;5:e230024), turns their label maps into livermet's role masks and runs the
volumetry pipeline on them:

- ``total``: the liver (label 5), inferior vena cava (63), portal and splenic vein (64);
- ``liver_segments``: Couinaud segments 1-8;
- ``liver_vessels``: intrahepatic vessels (1) and liver tumours (2).

Offline by design. TotalSegmentator downloads its weights on first use; livermet never lets
it: before running, the weights folder is checked (``TOTALSEG_WEIGHTS_PATH``, else
``TOTALSEG_HOME_DIR/nnunet/results``, else ``~/.totalsegmentator/nnunet/results``, as
TotalSegmentator's ``config.py`` resolves it) and a missing model raises
:class:`WeightsMissing`, whose message says how to provision them; during the run, its
download function is replaced by one that raises the same error. Usage statistics are
turned off in TotalSegmentator's ``config.json`` (``"send_usage_stats": false``, read by its
``config.send_usage_stats``) before every run.

The segmentation engine is pluggable: anything with the :class:`Runner` shape works (a site's
own model, or the stand-in runner the tests use); :class:`TotalSegmentatorRunner` is the
real one.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from livermet.imaging.errors import ImagingInputError

TASKS = ("total", "liver_segments", "liver_vessels")
DEVICES = ("cpu", "gpu")
# nnU-Net datasets behind each task (TotalSegmentator 2.x, python_api.py); the liver tasks
# crop to the liver found by the 6 mm `total` model (dataset 298) first.
TASK_DATASETS: dict[str, tuple[int, ...]] = {
    "total": (291, 292, 293, 294, 295),
    "total_fast": (297,),
    "liver_segments": (570, 298),
    "liver_vessels": (8, 298),
}
# TotalSegmentator v2 label values used here (multilabel output, --ml)
TOTAL_LABELS = {"liver": 5, "ivc": 63, "portal_vein": 64}
LIVER_VESSELS_LABELS = {"liver_vessels": 1, "tumour": 2}

Progress = Callable[[str], None]


class WeightsMissing(RuntimeError):
    """TotalSegmentator's weights are not on this machine (livermet never downloads them)."""

    def __init__(self, missing: Sequence[str], weights_dir: Path, tasks: Sequence[str],
                 package_missing: bool = False):
        self.missing = list(missing)
        self.weights_dir = weights_dir
        self.package_missing = package_missing
        task_flags = " ".join(f"-t {t}" for t in tasks)
        first = ("TotalSegmentator is not installed here either: first pip install 'livermet[segment]' "
                 "(or pip install TotalSegmentator, from a local wheel on an offline machine). "
                 if package_missing else "")
        super().__init__(
            f"TotalSegmentator weights missing in {weights_dir}: {', '.join(self.missing)}. {first}"
            "livermet never downloads model weights. To provision them: on a machine with "
            f"internet access, `pip install TotalSegmentator` and run `totalseg_download_weights {task_flags}`; "
            "copy its folder ~/.totalsegmentator to this machine and set TOTALSEG_HOME_DIR to it "
            "(or TOTALSEG_WEIGHTS_PATH to its nnunet/results folder); then run this command again."
        )


class SegmenterUnavailable(RuntimeError):
    """The TotalSegmentator package (optional extra) is not installed."""


@runtime_checkable
class Runner(Protocol):
    """A segmentation engine: writes one multilabel NIfTI per task.

    ``check`` raises (e.g. :class:`WeightsMissing`) when the engine cannot run the tasks;
    ``run`` segments ``ct`` (a NIfTI file or DICOM folder) with ``task`` and writes the label
    map to ``out_file`` (labels as in TotalSegmentator's multilabel output), returning it.
    """

    name: str

    def check(self, tasks: Sequence[str], fast: bool) -> None: ...

    def run(self, ct: Path, out_file: Path, task: str, *, fast: bool, device: str) -> Path: ...


# --- TotalSegmentator's folders -------------------------------------------------------------------


def totalseg_home(env: Mapping[str, str] | None = None) -> Path:
    """TotalSegmentator's home folder (config.json, weights), resolved as TotalSegmentator does."""
    env = os.environ if env is None else env
    if env.get("TOTALSEG_HOME_DIR"):
        return Path(env["TOTALSEG_HOME_DIR"])
    home = Path.home()
    return (Path("/tmp") if str(home) == "/" else home) / ".totalsegmentator"


def weights_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("TOTALSEG_WEIGHTS_PATH"):
        return Path(env["TOTALSEG_WEIGHTS_PATH"])
    return totalseg_home(env) / "nnunet" / "results"


def required_datasets(tasks: Sequence[str], fast: bool) -> list[int]:
    ids: list[int] = []
    for t in tasks:
        key = "total_fast" if (t == "total" and fast) else t
        if key not in TASK_DATASETS:
            raise ImagingInputError("task", t, " | ".join(TASKS))
        ids += [i for i in TASK_DATASETS[key] if i not in ids]
    return ids


def missing_weights(tasks: Sequence[str], fast: bool = False, env: Mapping[str, str] | None = None) -> list[str]:
    """Dataset folders (``DatasetNNN``) the tasks need and ``weights_dir`` lacks."""
    root = weights_dir(env)
    present = {p.name[:10] for p in root.iterdir() if p.is_dir()} if root.is_dir() else set()
    return [f"Dataset{i:03d}" for i in required_datasets(tasks, fast) if f"Dataset{i:03d}" not in present]


def disable_usage_stats(env: Mapping[str, str] | None = None) -> Path:
    """Set ``"send_usage_stats": false`` in TotalSegmentator's config.json (created if absent)."""
    home = totalseg_home(env)
    cfg_file = home / "config.json"
    try:
        home.mkdir(parents=True, exist_ok=True)
        cfg: dict[str, Any] = {}
        if cfg_file.is_file():
            try:
                cfg = json.loads(cfg_file.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                cfg = {}
        if not isinstance(cfg, dict):
            cfg = {}
        cfg.setdefault("totalseg_id", "totalseg_livermet")
        cfg.setdefault("prediction_counter", 0)
        cfg["send_usage_stats"] = False
        cfg["statistics_disclaimer_shown"] = True
        cfg_file.write_text(json.dumps(cfg, indent=4) + "\n", encoding="utf-8")
    except OSError as exc:
        raise SegmenterUnavailable(
            f"cannot write {cfg_file} to turn TotalSegmentator's usage statistics off ({exc.strerror}); "
            'make it writable or create it with {"send_usage_stats": false}'
        ) from exc
    return cfg_file


class TotalSegmentatorRunner:
    """The real engine: TotalSegmentator's Python API, offline, statistics off."""

    name = "TotalSegmentator"

    def __init__(self, env: Mapping[str, str] | None = None):
        self.env = env

    def check(self, tasks: Sequence[str], fast: bool) -> None:
        missing = missing_weights(tasks, fast, self.env)
        package_missing = importlib.util.find_spec("totalsegmentator") is None
        if missing:  # say both when both are missing: the package first, then the weights
            raise WeightsMissing(missing, weights_dir(self.env), tasks, package_missing=package_missing)
        if package_missing:
            raise SegmenterUnavailable(
                "TotalSegmentator is not installed: pip install 'livermet[segment]' (or pip install TotalSegmentator)"
            )
        disable_usage_stats(self.env)

    def run(self, ct: Path, out_file: Path, task: str, *, fast: bool, device: str) -> Path:  # pragma: no cover - needs weights
        import totalsegmentator.python_api as api

        root = weights_dir(self.env)

        def no_download(task_id: int, *args: Any, **kwargs: Any) -> None:
            name = f"Dataset{int(task_id):03d}"
            if not any(p.name.startswith(name) for p in root.iterdir() if p.is_dir()):
                raise WeightsMissing([name], root, [task])

        patched = [m for m in (api, importlib.import_module("totalsegmentator.libs"))
                   if hasattr(m, "download_pretrained_weights")]
        saved = [(m, m.download_pretrained_weights) for m in patched]
        for m in patched:
            m.download_pretrained_weights = no_download
        try:
            api.totalsegmentator(
                input=str(ct),
                output=str(out_file),
                ml=True,
                task=task,
                fast=bool(fast and task == "total"),
                device=device,
                quiet=True,
                statistics=False,
            )
        finally:
            for m, fn in saved:
                m.download_pretrained_weights = fn
        return out_file


def load_runner(spec: str) -> Runner:
    """A runner from ``module:attr`` or ``path/to/file.py:attr`` (a class or a factory)."""
    mod_name, sep, attr = spec.rpartition(":")
    if not sep or not mod_name or not attr:
        raise ImagingInputError("runner", spec, "MODULE:NAME or FILE.py:NAME")
    try:
        if mod_name.endswith(".py"):
            path = Path(mod_name)
            if not path.is_file():
                raise ImagingInputError("runner", spec, "an existing Python file")
            s = importlib.util.spec_from_file_location(f"livermet_runner_{path.stem}", path)
            module = importlib.util.module_from_spec(s)  # type: ignore[arg-type]
            s.loader.exec_module(module)  # type: ignore[union-attr]
        else:
            module = importlib.import_module(mod_name)
        obj = getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise ImagingInputError("runner", spec, f"an importable runner ({exc})") from exc
    runner = obj() if isinstance(obj, type) or (callable(obj) and not isinstance(obj, Runner)) else obj
    if not isinstance(runner, Runner):
        raise ImagingInputError("runner", spec, "an object with name, check(tasks, fast) and run(ct, out_file, task, fast=, device=)")
    return runner


# --- the whole step ---------------------------------------------------------------------------


@dataclass
class SegmentationResult:
    ct: str
    runner: str
    label_maps: dict[str, str]
    masks: dict[str, str]
    volumetry: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ct": self.ct,
            "runner": self.runner,
            "label_maps": dict(self.label_maps),
            "masks": dict(self.masks),
            "volumetry": self.volumetry,
            "warnings": list(self.warnings),
        }


def _read_labels(path: Path):
    import nibabel as nib

    from livermet.imaging.grid import Grid

    img = nib.load(str(path))
    arr = np.asanyarray(img.dataobj)
    if arr.ndim != 3:
        raise ImagingInputError("label map", f"{path} (shape {arr.shape})", "a 3-D label map from the runner")
    return arr, Grid.from_ras_affine(arr.shape, img.affine)


def _check_ct(ct: Path) -> None:
    if not ct.exists():
        raise ImagingInputError("ct", str(ct), "an existing NIfTI file (.nii/.nii.gz) or DICOM series folder")
    if ct.is_file() and not ct.name.lower().endswith((".nii", ".nii.gz")):
        raise ImagingInputError("ct", str(ct), "a NIfTI file (.nii/.nii.gz) or DICOM series folder")


def segment_ct(
    ct: str | Path,
    out_dir: str | Path,
    *,
    fast: bool = False,
    device: str = "cpu",
    runner: Runner | None = None,
    tasks: Sequence[str] = TASKS,
    resection: str | None = None,
    height_cm: float | None = None,
    weight_kg: float | None = None,
    figures: bool = True,
    progress: Progress | None = None,
) -> SegmentationResult:
    """Segment ``ct`` into ``out_dir`` and run volumetry on the result.

    Writes ``<task>.nii.gz`` per task, the role masks (``liver.nii.gz``, ``tumour.nii.gz``,
    ``ivc.nii.gz``, ``portal_vein.nii.gz``, ``liver_vessels.nii.gz``), ``figures/`` and
    ``volumetry.json``. Raises :class:`WeightsMissing`, :class:`SegmenterUnavailable` or
    :class:`ImagingInputError` before any segmentation starts when something is missing.
    """
    from livermet.imaging.export import write_label_nifti

    say = progress or (lambda _m: None)
    ct = Path(ct)
    out = Path(out_dir)
    if device not in DEVICES:
        raise ImagingInputError("device", device, " | ".join(DEVICES))
    unknown = [t for t in tasks if t not in TASKS]
    if unknown or not tasks:
        raise ImagingInputError("tasks", unknown or "none", " | ".join(TASKS))
    _check_ct(ct)
    runner = runner if runner is not None else TotalSegmentatorRunner()
    runner.check(list(tasks), fast)
    out.mkdir(parents=True, exist_ok=True)
    maps: dict[str, str] = {}
    for task in tasks:
        say(f"{runner.name}: {task}")
        produced = Path(runner.run(ct, out / f"{task}.nii.gz", task, fast=fast, device=device))
        if not produced.is_file():
            raise ImagingInputError(f"{runner.name} {task}", str(produced), "a label map written by the runner")
        maps[task] = str(produced)

    say("role masks")
    masks: dict[str, str] = {}
    warnings: list[str] = []
    if "total" in maps:
        arr, grid = _read_labels(Path(maps["total"]))
        for role, value in TOTAL_LABELS.items():
            m = arr == value
            if m.any():
                masks[role] = str(write_label_nifti(out / f"{role}.nii.gz", m, grid))
            elif role == "liver":
                warnings.append("TotalSegmentator found no liver (total task, label 5).")
    if "liver_vessels" in maps:
        arr, g = _read_labels(Path(maps["liver_vessels"]))
        for role, value in LIVER_VESSELS_LABELS.items():
            m = arr == value
            if m.any():
                masks[role] = str(write_label_nifti(out / f"{role}.nii.gz", m, g))
        if "tumour" not in masks:
            warnings.append("No liver tumour found by the liver_vessels task.")

    volumetry = None
    if "liver_segments" in maps or "liver" in masks:
        from livermet.imaging.pipeline import run_volumetry

        say("volumetry")
        mask_list = [(role, masks[role]) for role in ("liver", "tumour", "ivc", "portal_vein", "liver_vessels")
                     if role in masks]
        res = run_volumetry(
            ct=ct,
            labels=maps.get("liver_segments"),
            labelset="liver_segments" if "liver_segments" in maps else None,
            masks=mask_list,
            resection=resection,
            height_cm=height_cm,
            weight_kg=weight_kg,
            figures_dir=out / "figures" if figures else None,
            progress=say,
        )
        volumetry = res.to_dict()
        (out / "volumetry.json").write_text(json.dumps(volumetry, indent=2, default=str) + "\n", encoding="utf-8")
    else:
        warnings.append("No liver label map: volumetry skipped.")
    return SegmentationResult(str(ct), runner.name, maps, masks, volumetry, warnings)
