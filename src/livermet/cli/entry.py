"""The `livermet` executable's entry point: start-up work that must come before the CLI loads.

Loading the command-line framework (Typer, Rich) and numpy takes about 0.15 s. For
``livermet volumetry`` the label map's decompression, which needs neither and runs without the
interpreter lock, is started first, so that it proceeds on a second core meanwhile
(:mod:`livermet.imaging.readahead`). The command itself later asks for the same file; it gets
the inflated bytes only if the file is unchanged, so a wrong guess here costs time, never
correctness. Everything else is :func:`livermet.cli.main.main`.
"""

from __future__ import annotations

import gc
import sys


def _volumetry_label_file(argv: list[str]) -> str | None:
    """The file ``livermet volumetry`` will read first: ``--labels`` or else the first
    ``--mask ROLE=PATH``. A light scan of the arguments; Typer parses them properly later."""
    if not argv or argv[0] != "volumetry":
        return None
    labels = mask = None
    it = iter(argv[1:])
    for tok in it:
        if tok == "--":
            break
        name, eq, value = tok.partition("=") if tok.startswith("--") else (tok, "", "")
        if name in ("--labels", "-l", "--mask", "-m"):
            if not eq:
                value = next(it, "")
            if name in ("--labels", "-l") and labels is None:
                labels = value
            elif name in ("--mask", "-m") and mask is None and "=" in value:
                mask = value.split("=", 1)[1]
    return labels or mask or None


def main() -> None:
    path = _volumetry_label_file(sys.argv[1:])
    if path:
        from livermet.imaging import readahead

        readahead.start(path)
    # Start-up creates some 100,000 long-lived objects (modules, classes, Typer's models);
    # the cyclic garbage collector would scan them repeatedly for nothing while they load.
    gc.disable()
    try:
        from livermet.cli.main import main as run
    finally:
        gc.freeze()  # what was loaded stays: keep it out of later collections
        gc.enable()
    run()


if __name__ == "__main__":  # pragma: no cover
    main()
