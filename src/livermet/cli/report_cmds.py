"""CLI: ``livermet report``, ``livermet fhir export|import``, ``livermet dicom-sr``.

Thin shells over :mod:`livermet.report` and :mod:`livermet.interop`; heavy libraries are
imported inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from rich.markup import escape

from livermet.cli.common import JSON_OPTION, err, fail, print_json

REPORT_HELP = """Write the MDT report for CASE as one self-contained HTML file or a PDF.

The format follows --out's suffix (.html or .pdf). The report holds the case summary, the
liver function and risk scores, the volumetry with the segment picture and the sFLR gauge,
the lesions, the treatment options with their reasons and sources, the work-up gaps,
pathology and response, the numbered sources, the versions and the decision-support notice.

With --deidentify names, dates of birth and identifiers are dropped, the id is replaced by a
pseudonym and dates are shifted by a per-case offset (set LIVERMET_PSEUDONYM_KEY to key the
pseudonyms).

Prints the path written (or, with --json, a summary object).
"""

FHIR_HELP = "FHIR R4 (mCODE STU4): export a case as a Bundle, or build a case from one."

DICOM_SR_HELP = """Write volumetry as a DICOM Structured Report (TID 1500, Comprehensive 3D SR).

VOLUMETRY is either the JSON of `livermet volumetry --json` or a case whose `imaging` names
its label maps (volumetry is then run). The SR references the DICOM SEG(s) (--seg, segment
numbers matched on their segment labels, only where the segment's own volume equals the
reported one) and the source CT series (--ct, a folder). Volumes are
in UCUM ml, the sFLR in %. Read it with 3D Slicer (QuantitativeReporting), OHIF or dcmtk's
dsrdump.
"""


CASE_HINT = "check the case with `livermet validate CASE`, and the files its imaging names"


def _case_error(exc: Exception, nothing: str) -> None:
    """A case that cannot be used: an invalid one lists every problem (as `livermet assess`
    does, on stderr; with --json also in "problems"), instead of the first three on one line."""
    from livermet.case.errors import CaseValidationError

    if not isinstance(exc, CaseValidationError):
        fail(str(exc), hint=CASE_HINT)
    from livermet.cli.case_cmds import _problem_table
    from livermet.cli.common import _json_requested

    problems = list(exc.report.problems)
    message = f"the case has {len(exc.report.errors)} error(s); {nothing}"
    hint = "fix the fields listed; `livermet validate CASE` checks the case again"
    if _json_requested():
        print_json({"error": message, "hint": hint, "problems": [p.to_dict() for p in problems]})
    else:
        err.print(_problem_table(problems, title="Problems in the case", console=err))
    fail(message, hint=hint)


def _load_case(path: Path, nothing: str = "nothing was written"):
    from livermet.case.errors import CaseError
    from livermet.case.io import load_case

    try:
        return load_case(path)
    except CaseError as exc:
        _case_error(exc, nothing)


def _assess(path: Path, imaging: bool = True, nothing: str = "nothing was written"):
    from livermet.assess import assess_case
    from livermet.case.errors import CaseError

    try:
        return assess_case(path, imaging=imaging)
    except CaseError as exc:
        _case_error(exc, nothing)


def report(
    case: Path = typer.Argument(..., help="Case file (JSON or YAML).", exists=False),
    out: Path = typer.Option(..., "--out", "-o", help="Output file: report.html or report.pdf."),
    deidentify: bool = typer.Option(False, "--deidentify", help="Drop names, birth dates and "
                                    "identifiers; pseudonymise the id; shift dates."),
    figures: bool = typer.Option(True, "--figures/--no-figures",
                                 help="Draw imaging figures when the case has images."),
    json_out: bool = JSON_OPTION,
) -> None:
    suffix = out.suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        fail(f"--out {str(out)!r}: expected a file ending in .html or .pdf")
    if not case.exists():
        fail(f"CASE {str(case)!r}: file not found")
    from livermet.case.errors import CaseError
    from livermet.report import ReportError, render_html, render_pdf, report_for_case

    # A spinner on stderr (only on a terminal): images, figures and the PDF take seconds.
    with err.status("report: assessing the case", spinner="dots") as status:
        try:
            doc, _ = report_for_case(case, deidentify=deidentify, figures=figures)
        except CaseError as exc:
            _case_error(exc, "no report was written")
        try:
            status.update(f"report: writing {out.name}")
            html = render_html(doc)
            out.parent.mkdir(parents=True, exist_ok=True)
            if suffix == ".pdf":
                out.write_bytes(render_pdf(html))
            else:
                out.write_text(html, encoding="utf-8")
        except (ReportError, OSError) as exc:
            fail(f"cannot write {str(out)!r}: {exc}")
    if json_out:
        print_json({"path": str(out), "format": suffix.lstrip("."), "case_id": doc.case_id,
                    "deidentified": deidentify, "sections": list(doc.sections),
                    "figures": [f["name"] for f in doc.figures],
                    "options": len(doc.options), "sources": len(doc.sources)})
    else:
        typer.echo(str(out))


def _para(text: str) -> str:
    """Help text: keep paragraphs, let the terminal wrap the lines."""
    return "\n\n".join(" ".join(p.split()) for p in text.strip().split("\n\n"))


REPORT_HELP, DICOM_SR_HELP = _para(REPORT_HELP), _para(DICOM_SR_HELP)

fhir_app = typer.Typer(help=FHIR_HELP, no_args_is_help=True)


@fhir_app.command("export")
def fhir_export(
    case: Path = typer.Argument(..., help="Case file (JSON or YAML)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="Write the Bundle here (default: stdout)."),
    with_assessment: bool = typer.Option(True, "--assessment/--no-assessment",
                                         help="Include scores (Observations) and options (CarePlan)."),
    mrn_system: str = typer.Option("https://livermet.org/fhir/sid/mrn", "--mrn-system",
                                   show_default=False,
                                   help="Identifier system (a URI) of the hospital's MRN "
                                        "(default: see above)."),
    deidentify: bool = typer.Option(False, "--deidentify", help="Drop names, birth dates and "
                                    "identifiers; pseudonymise the id; shift dates."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout: the "
                                  "Bundle, or with --out a summary (path, resources, not exported)."),
) -> None:
    """Export CASE as a FHIR R4 Bundle (mCODE STU4 profiles, LOINC/SNOMED CT/ICD-10 codes).

    Fields with no FHIR home (e.g. image paths, MDT attendees) are listed on stderr.

    The MRN is written with the identifier system --mrn-system; give your hospital's (the
    default, https://livermet.org/fhir/sid/mrn, is livermet's placeholder).
    """
    if not case.exists():
        fail(f"CASE {str(case)!r}: file not found")
    from livermet.interop.fhir import bundle_json, case_to_bundle, export_gaps

    case_obj = _load_case(case, "no bundle was written")
    assessment = (_assess(case, imaging=False, nothing="no bundle was written").to_dict()
                  if with_assessment else None)
    if deidentify:
        from livermet.report.deidentify import deidentify as _deid

        case_d, assessment, _info = _deid(case_obj.model_dump(mode="json"), assessment)
        case_d.pop("imaging", None)
        case_obj = case_d
    bundle = case_to_bundle(case_obj, assessment, mrn_system=mrn_system)
    text = bundle_json(bundle)
    gaps = export_gaps(case_obj)
    if gaps:
        err.print("[dim]not exported (no FHIR mapping):[/] " + escape(", ".join(gaps)), highlight=False)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        err.print(f"wrote {escape(str(out))} ({len(bundle.entry or [])} resources)", highlight=False)
        if json_out:
            print_json({"path": str(out), "resources": len(bundle.entry or []),
                        "not_exported": list(gaps)})


@fhir_app.command("import")
def fhir_import(
    bundle: Path = typer.Argument(..., help="FHIR R4 Bundle (JSON)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the case JSON here."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Build a case from a FHIR Bundle (livermet's export or a hospital's mCODE bundle).

    What cannot be mapped is reported on stderr (with --json: in "unmapped"). The case is then
    validated; its problems are reported too.
    """
    if not bundle.exists():
        fail(f"BUNDLE {str(bundle)!r}: file not found")
    from livermet.case.validate import validate_case
    from livermet.interop.fhir import FhirImportError, bundle_to_case

    try:
        # the path itself: bundle_to_case reads it (a directory, an empty file or a JSON array
        # are then reported as such, not mistaken for a file name)
        case, unmapped = bundle_to_case(bundle)
    except FhirImportError as exc:
        fail(f"{bundle}: {exc}")
    except UnicodeDecodeError:
        fail(f"{bundle}: not UTF-8 text; expected a FHIR JSON bundle")
    report = validate_case(case)
    problems = [str(p) for p in report.problems] if hasattr(report, "problems") else []
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if json_out:
        print_json({"case": case, "unmapped": unmapped, "valid": bool(report.ok),
                    "problems": problems, "path": str(out) if out else None})
    else:
        for u in unmapped:
            err.print(f"[yellow]unmapped:[/] {escape(str(u))}", highlight=False)
        for p in problems:
            err.print(f"[red]{escape(str(p))}[/]", highlight=False)
        if out is None:
            typer.echo(json.dumps(case, indent=2, ensure_ascii=False))
        else:
            err.print(f"wrote {escape(str(out))}; {len(unmapped)} item(s) not mapped", highlight=False)
    if not report.ok:
        raise typer.Exit(2)


CT_FOLDER_HINT = ("`livermet volumetry CT --export-dir DIR` writes the SEGs and, when the CT is not "
                  "DICOM (NIfTI, NRRD), the CT as a DICOM series in DIR/source_ct_dicom: pass that "
                  "folder")
SEG_HINT = ("the .seg.dcm files `livermet volumetry --export-dir DIR` writes (DIR/segments.seg.dcm, "
            "DIR/resection.seg.dcm)")


def _sr_error(message: str) -> tuple[str, str | None]:
    """The SR writer's message in the command's own words: its parameters ct_dir and seg_path
    are --ct and --seg here, and pydicom's advice to force-read a non-DICOM file is no use to a
    user. Returns the message and a hint."""
    import re

    text = re.sub(r"^ct_dir\b", "--ct", message)
    text = re.sub(r"^seg_path\b", "--seg", text)
    text = text.replace(" in ct_dir ", " in --ct ")
    text = re.sub(r"\s*Use force=True to force reading\.?", "", text)
    if text.startswith("--ct"):
        return text, CT_FOLDER_HINT
    if text.startswith("--seg"):
        return text, SEG_HINT
    return text, None


def dicom_sr(
    volumetry: Path = typer.Argument(..., help="Volumetry JSON (`livermet volumetry --json`) or a case with imaging."),
    seg: list[Path] = typer.Option(..., "--seg", help="A DICOM SEG of the same CT (repeatable: "
                                   "e.g. the segments SEG and the resection SEG)."),
    ct: Path = typer.Option(..., "--ct", help="Folder with the source CT series (DICOM)."),
    out: Path = typer.Option(..., "--out", "-o", help="SR file to write (.dcm)."),
    json_out: bool = JSON_OPTION,
) -> None:
    for name, p in (("VOLUMETRY", volumetry), *(("--seg", s) for s in seg), ("--ct", ct)):
        if not p.exists():
            fail(f"{name} {str(p)!r}: not found")
    if not ct.is_dir():
        fail(f"--ct {str(ct)!r}: is a file; expected the folder of the CT's DICOM series",
             hint=CT_FOLDER_HINT)
    for s in seg:
        if s.is_dir():
            fail(f"--seg {str(s)!r}: is a folder; expected a DICOM SEG file", hint=SEG_HINT)
    from livermet.interop.dicom_sr import DicomSrError, read_volumetry_sr, write_volumetry_sr

    try:
        data = json.loads(volumetry.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        data = None
    if not (isinstance(data, dict) and ("liver_ml" in data or "segments_ml" in data)):
        case = _load_case(volumetry)
        try:
            from livermet.imaging.pipeline import volumetry_for_case
        except ImportError:
            fail("the imaging module is not installed; pass the JSON of `livermet volumetry --json`")
        try:
            data = volumetry_for_case(case, base_dir=volumetry.resolve().parent)
        except ValueError as exc:  # the message names its field (imaging, imaging.labels ...)
            text = str(exc)
            fail(text if text.startswith("imaging") else f"imaging: {text}",
                 hint="VOLUMETRY is the JSON of `livermet volumetry --json`, or a case whose imaging "
                 "names its label maps")
    try:
        path = write_volumetry_sr(out, data, seg, ct)
    except DicomSrError as exc:
        message, hint = _sr_error(str(exc))
        fail(message, hint=hint)
    if json_out:
        print_json({"path": str(path), "measurements": {
            k: {m: list(v) if isinstance(v, tuple) else v for m, v in d.items()}
            for k, d in read_volumetry_sr(path).items()}})
    else:
        typer.echo(str(path))


def register(app: typer.Typer) -> None:
    app.command("report", help=REPORT_HELP, no_args_is_help=True)(report)
    app.add_typer(fhir_app, name="fhir")
    app.command("dicom-sr", help=DICOM_SR_HELP, no_args_is_help=True)(dicom_sr)
