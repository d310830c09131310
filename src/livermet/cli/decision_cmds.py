"""`livermet explain CODE` and `livermet knowledge`: the decision knowledge base, readable."""

from __future__ import annotations

import typer

from livermet.cli.common import JSON_OPTION, closest, fail, out, print_json


def register(app: typer.Typer) -> None:
    @app.command("explain")
    def explain_cmd(
        code: str = typer.Argument(..., help="Option code, e.g. resection, ablation, sirt "
                                   "(see `livermet knowledge`)."),
        json_out: bool = JSON_OPTION,
    ) -> None:
        """Print a treatment option's rules, thresholds, evidence and sources."""
        from livermet.decision.knowledge import OPTION_CODES, explain

        try:
            data = explain(code.strip().lower().replace("-", "_"))
        except KeyError:
            guess = closest(code, tuple(OPTION_CODES))
            fail(f"unknown option code {code!r}",
                 hint=(f"did you mean {' or '.join(guess)}? " if guess else "")
                 + "Codes: " + ", ".join(OPTION_CODES))
        if json_out:
            print_json(data)
            return
        _print_explain(data)

    @app.command("knowledge")
    def knowledge_cmd(json_out: bool = JSON_OPTION) -> None:
        """List the decision knowledge base (options, thresholds, work-up) with its version."""
        from livermet.decision.knowledge import listing

        data = listing()
        if json_out:
            print_json(data)
            return
        _print_listing(data)


def _print_explain(d: dict) -> None:
    from rich.markup import escape as esc
    from rich.panel import Panel
    from rich.table import Table

    out.print(Panel(f"[bold]{esc(d['title'])}[/]  ({d['code']})\n{esc(d['summary'])}",
                    width=min(out.width, 100)))
    rules = Table(title="Rules", width=min(out.width, 100), show_lines=True,
                  title_justify="left", header_style="bold")
    rules.add_column("Effect / basis", width=10, overflow="fold")
    rules.add_column("Rule (thresholds)", ratio=3, overflow="fold")
    rules.add_column("Sources", ratio=2, overflow="fold")
    for r in d["rules"]:
        text = r["text"]
        for key, t in r["thresholds"].items():
            text += f"\n  {key} = {t['value']:g} {t['unit']}"
            if t.get("also"):
                text += f" ({t['also']})"
        rules.add_row(f"{r['effect']}\n[dim]{r['basis']}[/]", esc(text), esc("; ".join(r["sources"])))
    out.print(rules)
    if d["evidence"]:
        out.print("[bold]Evidence[/]")
        for e in d["evidence"]:
            out.print(esc(f"  - {e['text']} ({e['source']})"), highlight=False)
    if d["notes"]:
        out.print("[bold]Notes[/]")
        for n in d["notes"]:
            out.print(esc(f"  - {n['text']} ({n['source']})"), highlight=False)
    out.print(f"[dim]Case inputs read: {esc(', '.join(d['inputs']))}[/]")
    out.print(f"[dim]knowledge base {d['knowledge_version']}[/]")


def _print_listing(d: dict) -> None:
    from rich.markup import escape as esc
    from rich.table import Table

    w = min(out.width, 100)
    out.print(f"[bold]livermet decision knowledge base {d['knowledge_version']}[/]")
    t = Table(title="Options", width=w, title_justify="left", header_style="bold")
    t.add_column("Code", width=23, no_wrap=True)
    t.add_column("Title", ratio=2, overflow="fold")
    t.add_column("Rules", width=5, justify="right")
    t.add_column("Evidence", width=8, justify="right")
    for o in d["options"]:
        t.add_row(o["code"], esc(o["title"]), str(o["rules"]), str(o["evidence"]))
    out.print(t)
    th = Table(title="Thresholds", width=w, title_justify="left", header_style="bold")
    th.add_column("Key", ratio=2, overflow="fold")
    th.add_column("Value", width=14, no_wrap=True)
    th.add_column("Basis", width=9, no_wrap=True)
    th.add_column("Source", ratio=2, overflow="fold")
    for x in d["thresholds"]:
        th.add_row(x["key"], f"{x['value']:g} {x['unit']}", x["basis"],
                   esc("; ".join(s["text"] for s in x["sources"])))
    out.print(th)
    out.print("[bold]Imaging work-up:[/] " + ", ".join(i["code"] for i in d["imaging_workup"]))
    out.print("[bold]MDT minimum team:[/] " + ", ".join(d["mdt_minimum"]))
    out.print("[dim]`livermet explain CODE` shows an option's rules and sources.[/]")
