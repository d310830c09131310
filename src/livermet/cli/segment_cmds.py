"""`livermet segment`: TotalSegmentator on a CT, then volumetry (optional extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from livermet.cli.common import JSON_OPTION, err, fail, out, print_json

SEGMENT_HELP = """Segment a CT with TotalSegmentator (liver, Couinaud segments, vessels, tumours), then run volumetry.

Needs the optional extra (pip install "livermet\\[segment]") and TotalSegmentator's weights on this machine: livermet never downloads them, and turns TotalSegmentator's usage statistics off.

Weights are looked up in TOTALSEG_WEIGHTS_PATH, else TOTALSEG_HOME_DIR/nnunet/results, else ~/.totalsegmentator/nnunet/results.

Example:

  livermet segment ct.nii.gz out/ --device gpu --resection right_hepatectomy
"""


def register(app: typer.Typer) -> None:
    app.command("segment", help=SEGMENT_HELP, no_args_is_help=True)(segment)


def segment(
    ct: Path = typer.Argument(..., help="The CT: a NIfTI file (.nii/.nii.gz) or a DICOM series folder.", show_default=False),
    out_dir: Path = typer.Argument(..., help="Folder for the label maps, masks, figures and volumetry.json.", show_default=False),
    fast: bool = typer.Option(False, "--fast", help="TotalSegmentator's 3 mm model for the total task (quicker, coarser)."),
    device: str = typer.Option("cpu", "--device", help="cpu | gpu"),
    resection: Optional[str] = typer.Option(None, "--resection", help="Virtual resection, as in `livermet volumetry`."),
    height_cm: Optional[float] = typer.Option(None, "--height-cm", help="For the standardised FLR."),
    weight_kg: Optional[float] = typer.Option(None, "--weight-kg", help="For the standardised FLR."),
    no_figures: bool = typer.Option(False, "--no-figures", help="Skip the PNG figures."),
    runner: Optional[str] = typer.Option(
        None, "--runner",
        help="Advanced: another segmentation engine, MODULE:NAME or FILE.py:NAME (see livermet.imaging.segment.Runner).",
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    from rich.markup import escape

    from livermet.imaging.errors import ImagingInputError
    from livermet.imaging.segment import SegmenterUnavailable, WeightsMissing, load_runner, segment_ct

    def say(msg: str) -> None:
        if not json_out:
            err.print(f"[dim]{msg}[/]", highlight=False)

    _check_volumetry_options(resection, height_cm, weight_kg)

    try:
        engine = load_runner(runner) if runner else None
        with err.status("segmenting ...", spinner="dots") if not json_out else _Null():
            result = segment_ct(
                ct, out_dir, fast=fast, device=device, runner=engine, resection=resection,
                height_cm=height_cm, weight_kg=weight_kg, figures=not no_figures, progress=say,
            )
    except WeightsMissing as exc:
        fail(str(exc), hint="TOTALSEG_HOME_DIR=/path/to/.totalsegmentator livermet segment CT OUTDIR")
    except (SegmenterUnavailable, ImagingInputError) as exc:
        fail(str(exc))
    data = result.to_dict()
    if json_out:
        print_json(data)
        return
    from rich.table import Table

    t = Table(title=f"Segmentation ({result.runner})", show_header=True)
    t.add_column("output")
    t.add_column("file", overflow="fold")
    for k, v in {**result.label_maps, **{f"mask {k}": v for k, v in result.masks.items()}}.items():
        t.add_row(k, v)
    out.print(t)
    for w in result.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
    vol = result.volumetry
    if vol:
        # the same tables as `livermet volumetry` (segments were printed as a Python dict)
        from livermet.cli.imaging_cmds import _render

        _render(vol)
    out.print(f"[dim]outputs in {escape(str(out_dir))}[/]", highlight=False)


def _check_volumetry_options(resection: Optional[str], height_cm: Optional[float],
                             weight_kg: Optional[float]) -> None:
    """The options the volumetry uses after the segmentation, checked before it starts: a
    misspelt resection or a height in metres failed only after TotalSegmentator had run
    (minutes on a CPU)."""
    from livermet.imaging.errors import ImagingInputError

    if resection:
        from livermet.imaging.plans import parse_resection

        if any(p.strip().lower() in ("lesions", "non_anatomic", "nonanatomic", "wedge",
                                     "metastasectomy") for p in resection.split("+")):
            fail(f"--resection {resection}: a non-anatomic resection needs the lesion ids, which "
                 "are known only after segmentation",
                 hint="segment first, then `livermet volumetry --resection lesions "
                      "--resect-lesions L1,...` on the files written to OUT_DIR")
        try:
            parse_resection(resection)
        except ImagingInputError as exc:
            part = "" if str(exc.value).lower() == resection.strip().lower() else f"{exc.value!r}: "
            fail(f"--resection {resection}: {part}expected {exc.expected}",
                 hint="checked before segmenting; `livermet volumetry --help` describes each")
    if height_cm is not None or weight_kg is not None:
        from livermet.case.ranges import FIELD_SPECS

        for key, value in (("height_cm", height_cm), ("weight_kg", weight_kg)):
            spec = FIELD_SPECS[f"patient.{key}"]
            lo, hi = spec.hard
            if value is not None and not lo <= value <= hi:
                option = f"--{key.replace('_', '-')}"
                hint = next((f"{value:g} looks like {label}: use {option} {value * factor:.0f}"
                             for label, factor in spec.reread
                             if spec.usual[0] <= value * factor <= spec.usual[1]), None)
                fail(f"{option} {value:g}: expected a number in {spec.unit} ({lo:g} to {hi:g})",
                     hint=hint or f"{option} {value:g} is outside the usual "
                                  f"{spec.usual[0]:g}-{spec.usual[1]:g} {spec.unit}")


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
