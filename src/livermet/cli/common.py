"""Shared CLI plumbing: JSON output, user errors (exit 2, no traceback), consoles."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console

# Human-readable output goes to stdout unless --json is given; diagnostics go to stderr so
# that `--json` output stays machine-readable.
out = Console()
err = Console(stderr=True)

JSON_OPTION = typer.Option(False, "--json", help="Machine-readable JSON on stdout, nothing else.")


def _default(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    try:
        import numpy as np

        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    return str(obj)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=_default, ensure_ascii=False) + "\n")


def fail(message: str, code: int = 2, hint: str | None = None) -> NoReturn:
    """A user mistake: say what is wrong and how to fix it, exit with ``code``; no traceback."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    if hint:
        err.print(f"[dim]hint:[/] {hint}", highlight=False)
    raise typer.Exit(code)
