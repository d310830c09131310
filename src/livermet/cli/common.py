"""Shared CLI plumbing: JSON output, user errors (exit 2, no traceback), consoles."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console

from livermet.plain import to_plain

# Human-readable output goes to stdout unless --json is given; diagnostics go to stderr so
# that `--json` output stays machine-readable.
# emoji=False: user text such as "runner=nope.py:X: expected ..." must not turn ":X:" into an emoji
out = Console(emoji=False)
err = Console(stderr=True, emoji=False)

JSON_OPTION = typer.Option(False, "--json", help="Machine-readable JSON on stdout, nothing else.")


def _current_context() -> Any:
    """The running command's context (Typer >= 0.23 bundles its own click), or None."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # a Typer on top of the click package
        from click import get_current_context
    return get_current_context(silent=True)


def _context_meta() -> dict | None:
    ctx = _current_context()
    return ctx.meta if ctx is not None else None


def _json_requested() -> bool:
    """Whether the running command was given --json (its parameter is as_json or json_out)."""
    ctx = _current_context()
    return ctx is not None and any(bool(ctx.params.get(k)) for k in ("as_json", "json_out"))


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(to_plain(obj), indent=2, ensure_ascii=False) + "\n")
    meta = _context_meta()
    if meta is not None:
        meta["livermet.json_written"] = True


def fail(message: str, code: int = 2, hint: str | None = None) -> NoReturn:
    """A user mistake: say what is wrong and how to fix it, exit with ``code``; no traceback.

    With --json, stdout also gets ``{"error": ..., "hint": ...}`` (unless JSON was written
    already), so that a script always reads JSON.
    """
    from rich.text import Text

    # plain text, never Rich markup: messages quote user input ("case[draft].json", "[/x]")
    err.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False)
    if hint:
        err.print(Text.assemble(("hint:", "dim"), " ", hint), highlight=False)
    meta = _context_meta()
    if _json_requested() and not (meta or {}).get("livermet.json_written"):
        print_json({"error": message, "hint": hint})
    raise typer.Exit(code)


def closest(word: str, choices: "list[str] | tuple[str, ...]") -> list[str]:
    """The names among ``choices`` that ``word`` probably meant: those it starts or is part of
    ("pve" -> pve_then_resection), else the close spellings ("child_pugg" -> child_pugh)."""
    import difflib

    key = word.strip().lower().replace("-", "_").replace(" ", "_")
    if not key:
        return []
    parts = [c for c in choices if c.startswith(key) or (len(key) >= 3 and key in c)]
    return parts[:3] or difflib.get_close_matches(key, list(choices), n=3, cutoff=0.6)


class _NoStatus:
    """Stands in for a Rich status when stderr is no terminal (nothing would be drawn)."""

    def __enter__(self) -> "_NoStatus":
        return self

    def __exit__(self, *exc: Any) -> bool:
        return False

    def update(self, *args: Any, **kwargs: Any) -> None:
        pass


def status(text: str) -> Any:
    """A spinner with ``text`` on stderr while a long step runs, when stderr is a terminal.

    Elsewhere (a pipe, a log file, a hospital's job runner) it draws nothing, so nothing is
    set up: Rich's live display and its refresh thread are only started for a person to see.
    """
    if not err.is_terminal:
        return _NoStatus()
    return err.status(text, spinner="dots")
