"""`livermet schema | validate | assess | demo`: the case and its assessment on the command line.

A thin shell: reading, validation and scoring live in :mod:`livermet.case` and
:mod:`livermet.assess`; this module only renders their results (Rich tables that fit 100
columns, or JSON with ``--json``) and turns user errors into exit code 2 without a traceback.
Heavy imports stay inside the commands (start-up time is benchmarked).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List, Mapping, Optional

import typer

from rich.markup import escape
from rich.text import Text

from livermet.cli.common import JSON_OPTION, err, fail, out, print_json
from livermet.plain import to_plain

TABLE_WIDTH = 100
NOT_A_DEVICE = (
    "livermet supports the MDT's discussion; it is not a medical device and does not "
    "replace clinical judgement."
)


# ----------------------------------------------------------------------------------------
# Rendering helpers
# ----------------------------------------------------------------------------------------


def _width() -> int:
    return min(out.width or TABLE_WIDTH, TABLE_WIDTH)


def _short(value: Any, limit: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _problem_body(p: Any) -> Any:
    """The problem's message, then what was expected (unless the message says it already) and
    the hint, as plain Text (values come from the user's file: "[/x]" must show as is)."""
    from rich.text import Text

    cell = Text(p.message)
    if p.expected and p.expected not in p.message:
        cell.append("\nexpected: ", style="dim")
        cell.append(p.expected)
    if p.hint:
        cell.append("\nhint: ", style="cyan")
        cell.append(p.hint)
    return cell


class _Indented:
    """Text wrapped to the console's width less ``indent``, each line indented (no padding
    to the full width: log files and pipes get no trailing spaces)."""

    def __init__(self, text: Any, indent: int = 4):
        self.text, self.indent = text, indent

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.text import Text

        for line in self.text.wrap(console, max(options.max_width - self.indent, 20)):
            line.rstrip()
            yield Text(" " * self.indent) + line


def _problem_table(problems: list[Any], title: str | None = None, console: Any = None) -> Any:
    """Every problem: a table from 100 columns; below that (80-column terminals, pipes and log
    files) one block per problem, so that a long field path does not squeeze the value and the
    message into a few characters per line."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    width = min((console or out).width or TABLE_WIDTH, TABLE_WIDTH)
    if width < TABLE_WIDTH:
        blocks: list[Any] = [Text(title, style="bold")] if title else []
        for p in problems:
            head = Text.assemble(("✗ " if p.is_error else "! ",
                                  "bold red" if p.is_error else "bold yellow"),
                                 (p.path or "(case)", "bold"))
            if p.value is not None:
                head.append(" = ")
                head.append(_short(p.value, 60))
            blocks += [head, _Indented(_problem_body(p))]
        return Group(*blocks)
    table = Table(title=title, width=width, show_lines=False, header_style="bold",
                  title_justify="left")
    table.add_column("", width=1, no_wrap=True)
    # A field path is what the user searches for in their file: never split it.
    longest = max((len(p.path or "(case)") for p in problems), default=8)
    table.add_column("Field", no_wrap=True, min_width=min(longest, 44), overflow="fold")
    table.add_column("Value", ratio=2, overflow="fold")
    table.add_column("Problem, expected, hint", ratio=6, overflow="fold")
    for p in problems:
        mark = Text("✗", style="bold red") if p.is_error else Text("!", style="bold yellow")
        value = "" if p.value is None else _short(p.value)
        table.add_row(mark, Text(p.path or "(case)"), Text(value), _problem_body(p))
    return table


def _read_case(path: Path, json_mode: bool) -> dict[str, Any]:
    """The raw case from a file, or from standard input when the path is ``-``."""
    from livermet.case import CaseError, parse_case_text, read_case_data

    try:
        if str(path) == "-":
            import sys

            return parse_case_text(sys.stdin.read(), source="<stdin>")
        return read_case_data(path)
    except CaseError as exc:
        if json_mode:
            _fail_json(str(exc), [_load_error_json(exc)], hint=getattr(exc, "hint", None))
        fail(str(exc), hint=getattr(exc, "hint", None))


def _fail_json(message: str, problems: list[dict[str, Any]] | None = None, hint: str | None = None) -> None:
    """With --json: the error as JSON on stdout (for scripts), the message on stderr, exit 2."""
    print_json({"error": message, "hint": hint, "problems": problems or []})
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    if hint:  # stderr says what the human output says (fail() prints the hint too)
        err.print(f"[dim]hint:[/] {escape(hint)}", highlight=False)
    raise typer.Exit(2)


def _load_error_json(exc: Exception) -> dict[str, Any]:
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    return {"path": "", "severity": "error", "code": "parse" if line is not None else "file",
            "value": None, "expected": "a JSON or YAML case document",
            "message": str(exc), "hint": getattr(exc, "hint", None),
            "line": line, "column": column}


def _fmt_value(value: Any, unit: str | None) -> str:
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    elif value is None:
        text = "–"
    else:
        text = str(value)
    if unit and unit not in _UNITLESS and not isinstance(value, (str, bool)):
        text += f" {unit}" if unit != "%" else "%"
    return text


_UNITLESS = {"1", "", "points", "score", "pts", "grade", "ratio", "class"}


def _author_year(source: Any) -> str:
    """'Vauthey JN, et al. Liver Transpl 2002;8:233' -> 'Vauthey 2002'; the bundled review
    -> 'review [40]' (or 'review'); without a year, the citation's first words."""
    import re

    citation = source.citation
    if citation.startswith("Liver metastasis review"):
        return "review" + (f" [{source.review_ref}]" if source.review_ref is not None else "")
    year = re.search(r"\b(1[89]\d\d|20\d\d)\b", citation)
    if year:
        return f"{re.split(r'[ ,.:;(]', citation.strip(), maxsplit=1)[0]} {year.group(1)}"
    if source.review_section:
        return "review" + (f" [{source.review_ref}]" if source.review_ref is not None else "")
    return citation.split(";")[0][:20]


def _short_source(result: Any, narrow: bool = False) -> str:
    """The first source of a score for its table row. In a narrow table the citation cut to
    the column ('Vauthey JN, et al. Liver …') named no paper: there it is author and year, with
    the number of further sources ('Vauthey 2000 +2'); `--json` and the report give them all."""
    if not result.sources:
        return ""
    if narrow:
        more = len(result.sources) - 1
        return _author_year(result.sources[0]) + (f" +{more}" if more else "")
    return result.sources[0].citation.split(";")[0]  # the column ellipsises what does not fit


def _patient_line(case: Any) -> str:
    p, pr, met = case.patient, case.primary, case.metastases
    bits = []
    who = [x for x in (
        p.sex,
        f"{p.age:g} y" if p.age is not None else None,
        f"{p.height_cm:g} cm" if p.height_cm is not None else None,
        f"{p.weight_kg:g} kg" if p.weight_kg is not None else None,
        f"ECOG {p.ecog}" if p.ecog is not None else None,
    ) if x]
    if who:
        bits.append(", ".join(who))
    primary = " ".join(x for x in (
        pr.site, f"({pr.side})" if pr.side else None, pr.histology, pr.t_stage,
        "N+" if pr.node_positive else ("N0" if pr.node_positive is False else None),
        "resected" if pr.resected else ("in place" if pr.resected is False else None),
    ) if x)
    if primary:
        bits.append(primary)
    timing = ("synchronous" if met.synchronous else
              f"metachronous, DFI {met.disease_free_interval_months:g} months"
              if met.disease_free_interval_months is not None else
              "metachronous" if met.synchronous is False else None)
    n = len(met.lesions)
    if n:
        sizes = [les.diameter_mm for les in met.lesions if les.diameter_mm is not None]
        segs = sorted({s for les in met.lesions for s in les.segments})
        lesion_text = f"{n} liver lesion{'s' if n != 1 else ''}"
        if sizes:
            lesion_text += f" (largest {max(sizes):g} mm)"
        if segs:
            lesion_text += f" in segment{'s' if len(segs) > 1 else ''} {', '.join(map(str, segs))}"
        bits.append(", ".join(x for x in (timing, lesion_text) if x))
    elif timing:
        bits.append(timing)
    eh = met.extrahepatic.present
    if eh is not None:
        bits.append("extrahepatic disease" + (f": {', '.join(met.extrahepatic.sites)}"
                                              if eh and met.extrahepatic.sites else "")
                    if eh else "no extrahepatic disease")
    return " · ".join(bits)


def render_assessment(assessment: Any) -> None:
    """Print an assessment readably (patient line, scores, warnings, missing, options)."""
    from rich.table import Table
    from rich.text import Text

    case = assessment.case
    out.rule(f"[bold]livermet assessment · {escape(str(assessment.case_id))}", align="left")
    if case is not None:
        out.print(Text(_patient_line(case)), highlight=False)
    table = Table(title="Scores", width=_width(), header_style="bold", title_justify="left")
    table.add_column("Score", no_wrap=True)
    table.add_column("Value", no_wrap=True, justify="right", max_width=18, overflow="ellipsis")
    table.add_column("Category", no_wrap=True, max_width=16, overflow="ellipsis")
    table.add_column("Source", no_wrap=True, overflow="ellipsis", style="dim", ratio=1)
    for name, result in assessment.scores.items():
        value = _fmt_value(result.value, result.unit)
        category = "" if result.category is None or str(result.category) == str(result.value) \
            else str(result.category)
        style = ""
        if category in ("inadequate", "high", "C", "3", "zone_3", "PD", "R1", "do_not_treat"):
            style = "bold red"
        elif category in ("adequate", "low", "A", "1", "zone_1", "R0", "eligible"):
            style = "green"
        table.add_row(name, value, Text(category, style=style),
                      _short_source(result, narrow=_width() < TABLE_WIDTH))
    out.print(table)
    img = assessment.imaging
    if isinstance(img, Mapping) and img.get("liver_ml") is not None:
        # what was measured on the case's images (else nothing on screen says it was read)
        line = (f"Imaging: liver {img['liver_ml']:,.1f} mL, tumour {img.get('tumour_ml') or 0:,.1f} mL, "
                f"functional {img.get('functional_liver_ml') or 0:,.1f} mL")
        if img.get("segments_ml"):
            line += f"; segments from {img.get('segments_method') or 'labels'}"
        if img.get("lesions"):
            line += f"; {len(img['lesions'])} lesion(s) measured"
        res = img.get("resection")
        if isinstance(res, Mapping) and res.get("remnant_ml") is not None:
            line += f"; {res.get('name')}: remnant {res['remnant_ml']:,.1f} mL"
        out.print(Text(line))
    if assessment.warnings:
        out.print("[bold yellow]Warnings[/]")
        for w in assessment.warnings:
            out.print(Text("  ! " + w, style="yellow"))
    if assessment.missing:
        out.print("[bold]Not computed: inputs missing[/]")
        for name, inputs in assessment.missing.items():
            fields = assessment.missing_fields.get(name) or ()
            line = f"  {name}: needs {', '.join(inputs)}"
            if fields:
                line += f" (fill {', '.join(fields)})"
            out.print(Text(line))
    if assessment.failed:
        out.print("[bold red]Not computed: inputs rejected[/]")
        for name, message in assessment.failed.items():
            out.print(Text(f"  {name}: {message}", style="red"))
    if assessment.not_applicable:
        out.print("[dim]Not applicable: " + ", ".join(assessment.not_applicable) + "[/]")
    options = assessment.extras.get("options")
    if options:
        from livermet.decision import render_options

        out.print(render_options(assessment.decision or assessment.extras, width=_width()))
    intent = assessment.extras.get("treatment_intent")
    if intent:
        out.print(f"Treatment intent (decision support): [bold]{intent}[/]", highlight=False)
    out.print(f"[dim]{NOT_A_DEVICE}[/]")


def _assess_or_fail(path_or_data: Any, json_mode: bool, **kwargs: Any) -> Any:
    from livermet.assess import assess_case
    from livermet.case import CaseError, CaseValidationError

    try:
        # A spinner on stderr (only on a terminal): reading a case's images can take a while.
        with err.status("assessing", spinner="dots") as status:
            kwargs.setdefault("progress", lambda msg: status.update(f"assessing: {msg}"))
            return assess_case(path_or_data, **kwargs)
    except CaseValidationError as exc:
        report = exc.report
        msg = f"the case has {len(report.errors)} error(s); nothing was assessed"
        if json_mode:
            _fail_json(msg, [p.to_dict() for p in report.problems],
                       hint="run `livermet validate CASE` for the full list")
        err.print(_problem_table(report.problems, title="Problems in the case", console=err))
        fail(msg, hint="fix the fields above; `livermet schema` shows every field and unit")
    except CaseError as exc:
        if json_mode:
            _fail_json(str(exc), [_load_error_json(exc)], hint=getattr(exc, "hint", None))
        fail(str(exc), hint=getattr(exc, "hint", None))


# ----------------------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------------------


def schema_cmd(
    json_out: bool = typer.Option(False, "--json", help="Accepted for symmetry: the schema is JSON."),
) -> None:
    """Print the JSON Schema of a case (fields, types, units, vocabularies)."""
    from livermet.case.schema import case_json_schema

    print_json(case_json_schema())


def validate_cmd(
    cases: List[Path] = typer.Argument(
        ..., help="Case file(s) (.json, .yaml or .yml), e.g. cases/*.yaml; - reads standard input.",
        show_default=False),
    json_out: bool = JSON_OPTION,
) -> None:
    """Check a case: every problem at once. Exit 0 when valid (warnings allowed), 2 when not.

    Several files (a meeting's cases) are checked one after the other, with a summary; exit 2
    when any is invalid. With --json: one file gives its report object, several a list of them,
    each with its "file".
    """
    from livermet.case import validate_case

    if len(cases) == 1:
        report = validate_case(_read_case(cases[0], json_out))
        if json_out:
            print_json(report.to_dict())
        else:
            _print_validation(cases[0], report)
        raise typer.Exit(0 if report.ok else 2)
    _validate_several(cases, json_out)


def _print_validation(case: Path, report: Any) -> None:
    if report.problems:
        out.print(_problem_table(list(report.problems)))
    for conv in report.conversions:
        out.print(f"[dim]converted {conv['path']}: {conv['value']:g} {escape(str(conv['unit']))} -> "
                  f"{conv['canonical_value']:.4g} {conv['canonical_unit']}[/]", highlight=False)
    n_err, n_warn = len(report.errors), len(report.warnings)
    if report.ok:
        out.print(f"[green]valid[/]: {escape(str(case))}" + (f" ({n_warn} warning(s))" if n_warn else ""),
                  highlight=False)
    else:
        err.print(f"[bold red]invalid:[/] {escape(str(case))}: {n_err} error(s), {n_warn} warning(s)",
                  highlight=False)


def _validate_several(cases: List[Path], json_out: bool) -> None:
    """`livermet validate a.yaml b.yaml ...`: each file in turn (one that cannot be read is
    reported and counted as invalid, the others are still checked), then a summary."""
    import sys

    from livermet.case import CaseError, parse_case_text, read_case_data, validate_case

    if sum(str(c) == "-" for c in cases) > 1:
        fail("- (standard input) can be given only once")
    results: list[dict[str, Any]] = []
    n_invalid = 0
    for case in cases:
        if not json_out:
            out.rule(Text(str(case), style="bold"), align="left")
        try:
            data = (parse_case_text(sys.stdin.read(), source="<stdin>") if str(case) == "-"
                    else read_case_data(case))
        except CaseError as exc:
            n_invalid += 1
            hint = getattr(exc, "hint", None)
            if json_out:
                results.append({"file": str(case), "valid": False, "error": str(exc), "hint": hint,
                                "problems": [_load_error_json(exc)]})
            else:
                err.print(Text.assemble(("error:", "bold red"), " ", str(exc)), highlight=False)
                if hint:
                    err.print(Text.assemble(("hint:", "dim"), " ", hint), highlight=False)
            continue
        report = validate_case(data)
        n_invalid += not report.ok
        if json_out:
            results.append({"file": str(case), **report.to_dict()})
        else:
            _print_validation(case, report)
    if json_out:
        print_json(results)
    else:
        n = len(cases)
        summary = f"{n} case files: {n - n_invalid} valid, {n_invalid} invalid"
        out.rule(style="dim")
        out.print(Text(summary, style="bold red" if n_invalid else "bold green"))
    raise typer.Exit(2 if n_invalid else 0)


def assess_cmd(
    case: Path = typer.Argument(
        ..., help="Case file (.json, .yaml or .yml); - reads standard input.", show_default=False),
    json_out: bool = JSON_OPTION,
    no_imaging: bool = typer.Option(False, "--no-imaging", help="Use the typed-in volumetry; do not read images."),
) -> None:
    """Validate a case and compute every score its data allows (and treatment options)."""
    data = _read_case(case, json_out)
    base_dir = Path.cwd() if str(case) == "-" else case.resolve().parent
    assessment = _assess_or_fail(data, json_out, base_dir=base_dir, imaging=not no_imaging)
    if json_out:
        print_json(assessment.to_dict())
        return
    render_assessment(assessment)


def demo_cmd(
    json_out: bool = JSON_OPTION,
    out_dir: Optional[Path] = typer.Option(
        None, "--out", help="Folder for the demo's outputs: assessment.json, report.html, "
        "report.pdf, and the CT phantom's images, volumetry and figures (imaging/)."),
) -> None:
    """Assess the bundled demo case, measure the synthetic CT phantom, and print both.

    With --out, also write the assessment, the MDT report (HTML and PDF) and the phantom's
    images, volumetry and figures.
    """
    import tempfile

    from livermet.data import demo_case_path
    from livermet.imaging.phantom import run_demo

    if out_dir is not None:  # before the assessment: a wrong --out fails at once
        if out_dir.exists() and not out_dir.is_dir():
            fail(f"--out {out_dir}: is a file; expected a folder (it is created if missing)",
                 hint="give a new or existing folder, e.g. --out demo-output")
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(f"--out {out_dir}: cannot create this folder: {exc.strerror or exc}")
    assessment = _assess_or_fail(demo_case_path(), json_out)
    data = assessment.to_dict()
    target = out_dir / "imaging" if out_dir is not None else Path(
        tempfile.mkdtemp(prefix="livermet-demo-"))
    target.mkdir(parents=True, exist_ok=True)
    with err.status("demo: building and measuring the CT phantom", spinner="dots") as status:
        imaging_summary = run_demo(target)
        data["imaging_demo"] = to_plain(imaging_summary)
        data["imaging_demo_dir"] = str(target)
        if out_dir is not None:
            status.update("demo: writing the assessment and the MDT report (HTML, PDF)")
            (out_dir / "assessment.json").write_text(
                json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
            _write_demo_report(out_dir)
    if json_out:
        print_json(data)
        return
    render_assessment(assessment)
    if imaging_summary is not None:
        out.rule("[bold]Imaging phantom", align="left")
        out.print("[dim]A synthetic CT measured on its own: its volumes and sFLR are not the "
                  "demo case's typed-in volumetry above.[/]")
        summary = getattr(imaging_summary, "summary", None)
        if callable(summary):
            summary = summary()
        if summary is None and isinstance(imaging_summary, dict):
            summary = imaging_summary.get("summary")
        if summary:
            out.print(summary, highlight=False)
        out.print(f"[dim]outputs in {escape(str(data['imaging_demo_dir']))}[/]", highlight=False)
    if out_dir is not None:
        out.print(f"[dim]assessment written to {escape(str(out_dir / 'assessment.json'))}; MDT report: "
                  f"{escape(str(out_dir / 'report.html'))} and {escape(str(out_dir / 'report.pdf'))}[/]",
                  highlight=False)


def _write_demo_report(out_dir: Path) -> None:
    from livermet.data import demo_case_path
    from livermet.report import render_html, render_pdf, report_for_case

    doc, _ = report_for_case(demo_case_path())
    html = render_html(doc)
    (out_dir / "report.html").write_text(html, encoding="utf-8")
    (out_dir / "report.pdf").write_bytes(render_pdf(html))




def register(app: typer.Typer) -> None:
    """Add schema, validate, assess and demo to the `livermet` command."""
    app.command("schema")(schema_cmd)
    app.command("validate")(validate_cmd)
    app.command("assess")(assess_cmd)
    app.command("demo")(demo_cmd)
