"""`livermet volumetry` (and `livermet segment`, registered from segment_cmds)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from rich.markup import escape

from livermet.cli.common import JSON_OPTION, err, fail, out, print_json, status

VOLUMETRY_HELP = """Liver, tumour and Couinaud segment volumes, lesions, and a virtual resection with its sFLR.

From a CT's label maps (NIfTI, NRRD/.seg.nrrd, DICOM series or DICOM SEG), or from separate
masks, or from a TotalSegmentator output folder (--labels FOLDER).

Examples:

  livermet volumetry --labels segs.nii.gz --labelset liver_segments \\
    --resection right_hepatectomy

  livermet volumetry ct.nii.gz --mask liver=liver.nii.gz \\
    --mask tumour=t1.nii.gz --landmarks landmarks.json \\
    --resection lesions --resect-lesions L1 --height-cm 175 --weight-kg 80

Environment: LIVERMET_THREADS sets the worker threads for the large passes (default: the
machine's cores, at most 4; 1 turns them off). Results do not depend on it.
"""


def register(app: typer.Typer) -> None:
    app.command("volumetry", help=VOLUMETRY_HELP, no_args_is_help=True)(volumetry)
    import importlib

    try:  # `livermet segment` lives beside this module (TotalSegmentator adapter)
        segment_cmds = importlib.import_module("livermet.cli.segment_cmds")
    except ModuleNotFoundError as exc:
        if exc.name != "livermet.cli.segment_cmds":
            raise
    else:
        segment_cmds.register(app)


def _first_mask_path(specs: list[str]) -> str | None:
    """The file of the first ``--mask ROLE=PATH`` (read ahead when no --labels is given)."""
    return specs[0].split("=", 1)[1] if specs and "=" in specs[0] else None


def _warn_bad_thread_setting() -> None:
    import os

    raw = os.environ.get("LIVERMET_THREADS", "").strip()
    if raw and not (raw.isdigit() and int(raw) >= 1):
        err.print(f"[yellow]warning:[/] LIVERMET_THREADS={escape(raw)} is not a whole number of threads "
                  "(1 or more); the default is used", highlight=False)


def _body_advice(height_cm: float | None, weight_kg: float | None) -> dict[str, str]:
    """A height of 1.75 (metres) or a weight of 165 (pounds): what was probably meant, from
    the case validator's usual ranges and common other units."""
    if height_cm is None and weight_kg is None:
        return {}  # nothing to check: do not load the case validator (start-up time)
    from livermet.case.ranges import FIELD_SPECS

    advice = {}
    for key, value in (("height_cm", height_cm), ("weight_kg", weight_kg)):
        spec = FIELD_SPECS[f"patient.{key}"]
        lo, hi = spec.usual
        if value is None or lo <= value <= hi:
            continue
        # "!": outside the possible range, so the volumetry will refuse it
        mark = "" if spec.hard[0] <= value <= spec.hard[1] else "!"
        option = f"--{key.replace('_', '-')}"
        for label, factor in spec.reread:
            if lo <= value * factor <= hi:
                advice[key] = f"{mark}{value:g} looks like {label}: use {option} {value * factor:.0f}"
                break
        else:
            advice[key] = f"{mark}{option} {value:g} is outside the usual {lo:g}-{hi:g} {spec.unit}"
    return advice


def _fmt(v, nd: int = 1) -> str:
    return "-" if v is None else f"{v:,.{nd}f}"


def volumetry(
    ct: Optional[Path] = typer.Argument(
        None, help="The CT (NIfTI, NRRD or DICOM series folder): reference grid and figure background."
    ),
    labels: Optional[Path] = typer.Option(
        None, "--labels", "-l", help="Multilabel map, or a TotalSegmentator output folder (one file per class)."
    ),
    labelset: Optional[str] = typer.Option(
        None,
        "--labelset",
        help="totalsegmentator (total task, liver = 5) | liver_segments (1-8 = Couinaud) | liver_vessels "
        "(1 vessels, 2 tumour) | a JSON file {value: role}. Default: the names stored in the file.",
    ),
    mask: List[str] = typer.Option(
        [],
        "--mask",
        "-m",
        help="ROLE=PATH, repeatable. Roles: liver, tumour, segment_1..segment_8, portal_vein, "
        "hepatic_veins, ivc. Several tumour masks are several lesions.",
    ),
    landmarks: Optional[Path] = typer.Option(
        None, "--landmarks", help="JSON landmarks (LPS mm) to derive Couinaud segments by the classical planes (format: docs/landmarks.md in the project)."
    ),
    portal_branches: Optional[Path] = typer.Option(
        None, "--portal-branches", help="Label map of portal branches (N = branch of segment N): vascular territories."
    ),
    resection: Optional[str] = typer.Option(
        None,
        "--resection",
        "-r",
        help="right_hepatectomy, left_hepatectomy, extended_right_hepatectomy, extended_left_hepatectomy, "
        "right_anterior_sectionectomy, right_posterior_sectionectomy, left_lateral_sectionectomy, "
        "central_hepatectomy, segmentectomy_N, segments:N,M, lesions; combine with + "
        "(e.g. left_lateral_sectionectomy+lesions).",
    ),
    resect_lesions: Optional[str] = typer.Option(
        None, "--resect-lesions", help="Lesions to remove non-anatomically, e.g. L1,L3 (ids as listed)."
    ),
    margin_mm: float = typer.Option(10.0, "--margin-mm", help="Margin around non-anatomically resected lesions (mm)."),
    height_cm: Optional[float] = typer.Option(None, "--height-cm", help="Height for the standardised sFLR (Vauthey)."),
    weight_kg: Optional[float] = typer.Option(None, "--weight-kg", help="Weight for the standardised sFLR (Vauthey)."),
    liver_condition: str = typer.Option(
        "normal", "--liver-condition", help="normal (20%) | chemotherapy (30%) | cirrhosis (40%): minimum sFLR."
    ),
    figures: Optional[Path] = typer.Option(None, "--figures", help="Write PNG figures to this folder."),
    export_dir: Optional[Path] = typer.Option(
        None, "--export-dir", help="Write segment and resection label maps (NIfTI and DICOM SEG) here."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    from livermet.imaging import readahead

    # The label map is inflated on a second core while numpy and the imaging modules load
    # (usually begun already by livermet.cli.entry; this covers other entry points).
    readahead.start(labels if labels is not None else _first_mask_path(mask))
    from livermet.imaging.anatomy import parse_mask_specs
    from livermet.imaging.errors import ImagingInputError
    from livermet.imaging.pipeline import run_volumetry

    body_advice = _body_advice(height_cm, weight_kg)
    for key, text in body_advice.items():
        if not text.startswith("!"):  # impossible values fail below, with this as the hint
            err.print(f"[yellow]warning:[/] {escape(text)}", highlight=False)
        elif resection is None:  # not used without a resection, so nothing fails: say it here
            err.print(f"[yellow]warning:[/] {escape(text[1:])} (not used: no --resection)", highlight=False)
    _warn_bad_thread_setting()
    impossible = {k: v.lstrip("!") for k, v in body_advice.items() if v.startswith("!")}
    if (height_cm is None) != (weight_kg is None):
        err.print("[yellow]warning:[/] the standardised sFLR needs both --height-cm and --weight-kg; "
                  "only the measured sFLR is given", highlight=False)
    lesions_to_resect = [x for x in (resect_lesions or "").split(",") if x.strip()]
    try:
        with status("volumetry") as spinner:

            def progress(msg: str) -> None:
                spinner.update(f"volumetry: {msg}")

            result = run_volumetry(
                ct=ct,
                labels=labels,
                labelset=labelset,
                masks=parse_mask_specs(mask),
                landmarks=landmarks,
                portal_branches=portal_branches,
                resection=resection,
                resect_lesions=lesions_to_resect,
                margin_mm=margin_mm,
                height_cm=height_cm,
                weight_kg=weight_kg,
                liver_condition=liver_condition,
                figures_dir=figures,
                export_dir=export_dir,
                progress=progress,
            )
    except ImagingInputError as exc:
        fail(str(exc), hint=impossible.get(exc.field) or "; ".join(impossible.values())
             or "see `livermet volumetry --help`")
    except ImportError as exc:
        fail(f"a part of livermet's imaging is missing ({exc})")
    data = result.to_dict()
    if as_json:
        print_json(data)
        return
    _render(data)


def _render(d: dict) -> None:
    from rich.table import Table

    liver = d["liver_ml"] or 0.0
    t = Table(title="Volumes", show_edge=False, expand=False)
    t.add_column("structure")
    t.add_column("mL", justify="right")
    t.add_column("% of liver", justify="right")
    for name, key in (("liver (total)", "liver_ml"), ("tumour", "tumour_ml"), ("functional liver", "functional_liver_ml")):
        v = d[key]
        t.add_row(name, _fmt(v), _fmt(100 * v / liver if liver else None))
    if d["segments_ml"]:
        for k, v in d["segments_ml"].items():
            t.add_row(f"segment {k}", _fmt(v), _fmt(100 * v / liver if liver else None))
        t.caption = f"segments from {d['segments_method']}"
    out.print(t)
    if d["lesions"]:
        lt = Table(title=f"Lesions ({d['lesion_connectivity']}-connected)", show_edge=False)
        for c in ("id", "mL", "axial diameter mm", "segments", "centroid LPS mm"):
            lt.add_column(c, justify="right" if c not in ("id", "segments") else "left")
        for les in d["lesions"]:
            lt.add_row(
                les["id"],
                _fmt(les["volume_ml"], 2),
                _fmt(les["longest_axial_diameter_mm"]),
                ",".join(map(str, les["segments"])) or "-",
                ", ".join(f"{c:.0f}" for c in les["centroid_mm"]),
            )
        out.print(lt)
    r = d["resection"]
    if r:
        rt = Table(title=f"Virtual resection: {r['name']}", show_edge=False, show_header=False)
        rt.add_column("")
        rt.add_column("", justify="right")
        rt.add_row("resected", f"{_fmt(r['resected_ml'])} mL")
        rt.add_row("remnant (FLR)", f"{_fmt(r['remnant_ml'])} mL")
        rt.add_row("sFLR measured", f"{_fmt(r['sflr_measured_percent'])} %")
        std = r["sflr_standardised_percent"]
        rt.add_row("sFLR standardised",
                   f"{_fmt(std)} %" if std is not None else "- (needs --height-cm and --weight-kg)")
        verdict = "[green]adequate[/]" if r["adequate"] else "[bold red]inadequate[/]"
        rt.add_row(
            f"adequacy ({r['liver_condition']} liver, min {_fmt(r.get('threshold_percent'), 0)} %)", verdict
        )
        for les in r["lesions_removed"]:
            if les["removed"]:
                m = f"margin {'>=' if les['margin_at_least'] else ''}{_fmt(les['margin_mm'])} mm"
                if les["removed_with_margin"]:
                    txt = f"[green]removed[/], {m}"
                else:
                    txt = f"[yellow]removed[/], {m} (< {_fmt(r.get('requested_margin_mm'), 0)} mm asked)"
            else:
                txt = "[bold red]left in the remnant[/]"
            rt.add_row(f"lesion {les['id']}", txt)
        out.print(rt)
        for c in r.get("cautions", []):
            out.print(f"[yellow]caution:[/] {escape(c)}")
        for note in r.get("notes", []):
            out.print(f"[dim]note:[/] {escape(note)}")
    for w in d["warnings"]:
        err.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
    for f in d["files"]:
        out.print(f"wrote {escape(str(f))}", highlight=False)
