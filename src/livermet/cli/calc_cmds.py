"""`livermet calc`: list the calculators, describe one, or run one on key=value inputs."""

from __future__ import annotations

from typing import Any, List, NoReturn, Optional

import typer

from livermet.cli.common import JSON_OPTION, closest, err, out, print_json
from livermet.cli.common import fail as _fail


def escape(text: str) -> str:
    from rich.markup import escape as _escape

    return _escape(text)


def fail(message: str, hint: str | None = None) -> NoReturn:
    """common.fail (which prints user values such as '[' as plain text)."""
    _fail(message, hint=hint)

CALC_HELP = """Run a clinical calculator.

`livermet calc --list`: all calculators.

`livermet calc NAME`: what NAME needs (parameters, units, sources).

`livermet calc NAME key=value ... [--json]`: run it.

Values take the parameter's canonical unit, or a unit suffix that converts, e.g.
`livermet calc meld_na bilirubin=34umol/L inr=1.4 creatinine=90umol/L sodium=131`.
"""


def _param_rows(calc: Any) -> list[dict[str, Any]]:
    from livermet.calculators import describe_param

    rows = []
    for p in calc.params:
        if p.group:
            alt = p.group.partition(".")[0]
            need = f"alternative '{alt}'"
        elif p.required and p.default is None:
            need = "required"
        elif p.default is not None:
            need = f"optional (default {p.default})"
        else:
            need = "optional"
        rows.append({
            "name": p.name, "kind": p.kind, "unit": p.unit, "accepts": describe_param(p, False),
            "units_accepted": describe_param(p).partition("other units accepted: ")[2] or None,
            "need": need, "help": p.help, "choices": list(p.choices) or None,
            "default": p.default, "minimum": p.minimum, "maximum": p.maximum,
        })
    return rows


def _describe(calc: Any) -> dict[str, Any]:
    return {
        "name": calc.name,
        "title": calc.title,
        "domain": calc.domain,
        "unit": calc.unit,
        "parameters": _param_rows(calc),
        "sources": [s.to_dict() for s in calc.sources],
        "examples": [
            {"inputs": dict(e.inputs), "value": e.value, "category": e.category, "source": e.source}
            for e in calc.examples
        ],
    }


def _short_citation(citation: str) -> str:
    """'Johnson PJ, et al. J Clin Oncol 2015;33:550' -> 'Johnson 2015' (for narrow tables)."""
    import re

    year = re.search(r"\b(1[89]\d\d|20\d\d)\b", citation)
    first = re.split(r"[ ,.:]", citation.strip(), maxsplit=1)[0]
    return f"{first} {year.group(1)}" if year else citation.split(":")[0][:24]


def _print_list(as_json: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    from livermet.calculators import list_calculators

    calcs = list_calculators()
    if as_json:
        print_json([
            {"name": c.name, "title": c.title, "domain": c.domain, "unit": c.unit,
             "parameters": [p.name for p in c.params],
             "sources": [str(s) for s in c.sources]}
            for c in calcs
        ])
        return
    # Parameter names are what the user types: one per line, never cut with an ellipsis. In
    # a narrow terminal the title goes under the name to leave them room.
    narrow = out.width < 110
    table = Table(title="livermet calculators", show_lines=narrow, expand=False)
    table.add_column("name", style="bold cyan", no_wrap=not narrow, overflow="fold",
                     min_width=max(len(c.name) for c in calcs))
    if not narrow:
        table.add_column("title")
    table.add_column("parameters", style="green", overflow="fold", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    table.add_column("source", style="dim")
    for c in calcs:
        params = escape("\n".join(p.name if (p.required or p.group) else f"[{p.name}]"
                                  for p in c.params))
        cites = ", ".join(dict.fromkeys(_short_citation(x.citation) for x in c.sources[:2]))
        if narrow:
            table.add_row(f"{c.name}\n[dim]{escape(c.title)}[/]", params, c.unit or "-", cites)
        else:
            table.add_row(c.name, c.title, params, c.unit or "-", cites)
    out.print(table)
    out.print("[dim]`livermet calc NAME` shows a calculator's parameters; \\[name] = optional.[/]")


def _print_description(calc: Any, as_json: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    from livermet.calculators import alternatives

    if as_json:
        print_json(_describe(calc))
        return
    table = Table(title=f"{calc.name}: {calc.title}")
    table.add_column("parameter", style="bold cyan", no_wrap=True)
    table.add_column("accepts")
    table.add_column("needed")
    table.add_column("meaning", style="dim")
    for row in _param_rows(calc):
        table.add_row(*(Text(str(row[k])) for k in ("name", "accepts", "need", "help")))
    out.print(table)
    for alt, sets in alternatives(calc).items():
        out.print(f"Alternative '{alt}': give " + " or ".join("+".join(n) for n in sets.values()),
                  highlight=False)
    out.print("Units: a value may carry a unit that converts, e.g. bilirubin=34umol/L.",
              highlight=False)
    out.print(Text("Sources: " + "; ".join(str(s) for s in calc.sources)), highlight=False)
    if calc.examples:
        ex = calc.examples[0]
        args = " ".join(f"{k}={v}" for k, v in ex.inputs.items())
        out.print(Text.assemble("Example: ", (f"livermet calc {calc.name} {args}", "bold")),
                  highlight=False)


def _short(v: Any) -> str:
    """A number as a person reads it (4 significant digits); anything else as is."""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _input_text(result: Any, calc: Any = None, raw: dict[str, str] | None = None) -> str:
    """The inputs as used, each with its unit; a value converted from the unit it was typed
    in says so ("bilirubin=1.988 mg/dL (from 34umol/L)"). Without the units a person could not
    tell whether "bilirubin=17" was read as mg/dL or umol/L."""
    from livermet.units import parse_value_with_unit

    units = {p.name: p.unit for p in getattr(calc, "params", ())}
    parts = []
    for key, value in result.inputs.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = _short(value)
            unit = units.get(key)
            if isinstance(value, (int, float)) and unit and unit not in ("1", "score"):
                text += f" {unit}"
        typed = (raw or {}).get(key)
        if typed is not None:
            try:
                typed_unit = parse_value_with_unit(typed)[1]
            except ValueError:
                typed_unit = None
            if typed_unit is not None:
                text += f" (from {typed})"
        parts.append(f"{key}={text}")
    return ", ".join(parts)


def _print_result(result: Any, calc: Any = None, raw: dict[str, str] | None = None) -> None:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    value = f"{result.value}" + (f" {result.unit}" if result.unit and result.unit != "score" else "")
    grid.add_row("value", Text(value, style="bold green"))
    if result.category is not None:
        grid.add_row("category", Text(str(result.category), style="bold"))
    grid.add_row("inputs", Text(_input_text(result, calc, raw)))
    grid.add_row("formula", Text(result.formula))
    for i, note in enumerate(result.notes):
        grid.add_row("notes" if i == 0 else "", Text(f"- {note}"))
    for i, s in enumerate(result.sources):
        grid.add_row("sources" if i == 0 else "", Text(str(s)))
    failed = result.details.get("failed") if hasattr(result.details, "get") else None
    if failed:
        grid.add_row("failed", ", ".join(failed))
    unknown = result.details.get("not_assessable") if hasattr(result.details, "get") else None
    if unknown:
        grid.add_row("not assessable", ", ".join(unknown))
    out.print(Panel(grid, title=Text(result.name, style="bold"), expand=False), highlight=False)


def _parse_pairs(name: str, pairs: list[str]) -> dict[str, str]:
    raw: dict[str, str] = {}
    for item in pairs:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            fail(f"{name}: {item!r} is not key=value",
                 hint=f"write each input as key=value; `livermet calc {name}` lists the parameters")
        if key in raw:
            fail(f"{name}: {key} given twice")
        raw[key] = value.strip()
    return raw


def _unit_advice(raw: dict[str, str]) -> dict[str, str]:
    """For numbers typed without a unit and outside the usual range of that lab (or height,
    weight), what was probably meant: the same number in another common unit, as the case
    validator says it (e.g. bilirubin=34 is 34 mg/dL unless written 34umol/L)."""
    from livermet.case.ranges import FIELD_SPECS, LAB_SPECS
    from livermet.units import parse_value_with_unit

    # the case fields a calculator parameter shares its name with (height_cm, total_liver_ml,
    # lung_shunt_percent ...), and the labs
    specs = {**{path.rsplit(".", 1)[-1]: spec for path, spec in FIELD_SPECS.items()}, **LAB_SPECS}
    advice: dict[str, str] = {}
    for key, text in raw.items():
        spec = specs.get(key)
        if spec is None:
            continue
        try:
            number, unit = parse_value_with_unit(text)
        except ValueError:
            continue
        lo, hi = spec.usual if spec.usual != (None, None) else spec.hard
        if unit is not None or ((lo is None or number >= lo) and (hi is None or number <= hi)):
            continue
        unit_name = "" if spec.unit in ("1", "") else f" {spec.unit}"
        for label, factor in spec.reread:
            v = number * factor
            if (lo is None or v >= lo) and (hi is None or v <= hi):
                if label.startswith("fraction"):
                    advice[key] = f"{key}={text} looks like a fraction: percent is {key}={v:g}"
                else:
                    advice[key] = (f"{key}={text} is taken as {number:g}{unit_name}, which is "
                                   f"unusual; if the unit is {label}, write "
                                   f"{key}={text}{label.replace(' ', '')} (= {v:.4g}{unit_name})")
                break
        else:
            advice[key] = (f"{key}={text} is taken as {number:g}{unit_name}, outside the usual "
                           f"{lo:g}-{hi:g}{unit_name}; check the value and its unit")
    return advice


def calc(
    name: Optional[str] = typer.Argument(None, help="Calculator name (see --list)."),
    params: Optional[List[str]] = typer.Argument(None, help="Inputs as key=value (units allowed)."),
    list_: bool = typer.Option(False, "--list", "-l", help="List all calculators."),
    as_json: bool = JSON_OPTION,
) -> None:
    from livermet.calculators import CalculatorInputError, get_calculator, run

    if list_ or name is None:
        if name is not None:
            fail("give either --list or a calculator name, not both")
        _print_list(as_json)
        return
    try:
        # "Child-Pugh", "MELD-Na": the registry's names are lower case with underscores
        calc_def = get_calculator(name.strip().lower().replace("-", "_"))
    except CalculatorInputError as exc:
        from livermet.calculators import list_calculators

        guess = closest(name, tuple(c.name for c in list_calculators()))
        fail(f"unknown calculator {name!r}",
             hint=(f"did you mean {' or '.join(guess)}? " if guess else "")
             + exc.expected + " (`livermet calc --list`)")
    name = calc_def.name
    if not params:
        _print_description(calc_def, as_json)
        return
    raw = _parse_pairs(name, params)
    advice = _unit_advice(raw)
    try:
        result = run(name, raw)
    except CalculatorInputError as exc:
        if exc.value is None:  # absent, not a bad value
            fail(f"{name}: {exc.parameter} is missing: expected {exc.expected}",
                 hint=f"`livermet calc {name}` lists the parameters and their units")
        fail(str(exc), hint=advice.get(exc.parameter) or "; ".join(advice.values())
             or f"`livermet calc {name}` lists the parameters and their units")
    for text in advice.values():  # stderr: --json output stays JSON only
        err.print(f"[yellow]warning:[/] {escape(text)}", highlight=False)
    if as_json:
        print_json(result.to_dict())
    else:
        _print_result(result, calc_def, raw)


def register(app: typer.Typer) -> None:
    app.command("calc", help=CALC_HELP, no_args_is_help=False)(calc)


__all__ = ["register", "calc", "err"]
