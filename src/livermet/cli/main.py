"""The `livermet` command. Each domain registers its commands from its own module.

Heavy libraries (numpy, SimpleITK, highdicom, weasyprint ...) are imported inside the
commands that need them, so `livermet --help` and the calculators start fast.
"""

from __future__ import annotations

import importlib

import typer

from livermet import __version__

app = typer.Typer(
    name="livermet",
    help="Decision support for the liver-metastasis MDT. Not a medical device: it supports, "
    "and never replaces, the team's judgement.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Each module defines `register(app: typer.Typer) -> None`.
COMMAND_MODULES = [
    "livermet.cli.case_cmds",      # schema, validate, assess, demo
    "livermet.cli.calc_cmds",      # calc
    "livermet.cli.imaging_cmds",   # volumetry, segment
    "livermet.cli.decision_cmds",  # explain, knowledge
    "livermet.cli.report_cmds",    # report, fhir, dicom-sr
    "livermet.cli.serve_cmds",     # serve, user management
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"livermet {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """livermet: case, calculators, CT volumetry, treatment options, report, FHIR/DICOM."""


for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a domain not written yet
        if exc.name != _name:
            raise
        continue
    _mod.register(app)


def _reflow(text: str) -> str:
    """Join a help paragraph's hard-wrapped lines (Typer keeps them, and at 80 columns Rich
    then breaks mid-sentence); paragraphs whose lines are all indented (examples) stay as is."""
    import inspect

    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(
        p if all(line.startswith(" ") for line in p.splitlines()) else " ".join(p.split("\n"))
        for p in paragraphs
    )


def _reflow_help(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        text = info.help or (info.callback.__doc__ if info.callback else None)
        if text:
            info.help = _reflow(text)
    for group in typer_app.registered_groups:
        _reflow_help(group.typer_instance)


_reflow_help(app)


def _run_app() -> None:
    """Run the CLI as Click's standalone mode does, except that a usage error (an unknown
    option, a missing argument, an option value of the wrong type) also answers a --json
    request with {"error", "hint"} on stdout, as every other failure does (common.fail)."""
    import sys

    try:  # Typer >= 0.23 bundles its own click
        from typer._click.exceptions import ClickException
        from typer.exceptions import Abort
    except ImportError:  # a Typer on top of the click package
        from click.exceptions import Abort, ClickException

    try:
        code = app(standalone_mode=False)
    except ClickException as exc:
        from typer import rich_utils  # only on an error: it costs 70 ms of imports (Markdown)

        rich_utils.rich_format_error(exc)  # the usage line and the error panel, on stderr
        if "--json" in sys.argv[1:] and type(exc).__name__ != "NoArgsIsHelpError":
            from livermet.cli.common import print_json

            ctx = getattr(exc, "ctx", None)
            command = ctx.command_path if ctx is not None else "livermet"
            print_json({"error": exc.format_message(),
                        "hint": f"`{command} --help` lists the arguments and options"})
        sys.exit(exc.exit_code)
    except Abort:
        from typer import rich_utils

        rich_utils.rich_abort_error()
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def main() -> None:
    import sys

    try:
        try:
            _run_app()
        finally:
            sys.stdout.flush()  # a failing stdout (full disk, closed pipe) surfaces here, handled below
    except BrokenPipeError:  # `livermet ... | head`: the reader has gone; nothing to say
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit flush
        sys.exit(1)
    except OSError as exc:
        # A file the command had to read or write (an --out, --figures or --export-dir
        # folder, a directory given for a file ...): say which and why, exit 2, no traceback.
        from rich.markup import escape

        from livermet.cli.common import err

        where = f"{exc.filename}: " if exc.filename else ""
        message = where + str(exc.strerror or exc)
        hint = ("check that the path exists, is the right kind (file or folder) and that you may "
                "read or write it")
        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
        err.print(f"[dim]hint:[/] {hint}", highlight=False)
        try:
            if "--json" in sys.argv[1:]:  # scripts read JSON on stdout, as from common.fail
                from livermet.cli.common import print_json

                print_json({"error": message, "hint": hint})
            sys.stdout.flush()
        except OSError:  # stdout itself is what failed (a full disk ...): nothing more to write
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
