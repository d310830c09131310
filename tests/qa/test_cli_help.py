"""`--help` reads well in an 80-column terminal: sentences are not broken where the source
text happened to wrap, and no line is wider than the terminal."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from livermet.cli.main import app

COMMANDS = [
    [], ["schema"], ["validate"], ["assess"], ["demo"], ["calc"], ["volumetry"], ["segment"],
    ["explain"], ["knowledge"], ["report"], ["dicom-sr"], ["serve"], ["fhir"], ["fhir", "export"],
    ["fhir", "import"], ["users"], ["users", "add"], ["users", "token"],
]


def help_text(args: list[str], columns: int) -> str:
    r = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": str(columns)})
    assert r.exit_code == 0, r.output
    return r.output


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "livermet")
def test_help_fits_80_columns(args):
    lines = help_text(args, 80).splitlines()
    assert max(len(line) for line in lines) <= 80


@pytest.mark.parametrize("args, sentence", [
    (["serve"], "names PostgreSQL; its schema is migrated at start"),
    (["volumetry"], "or from separate masks, or from a TotalSegmentator output folder"),
    (["demo"], "the MDT report (HTML and PDF) and the phantom's images"),
    (["fhir", "import"], "The case is then validated; its problems are reported too."),
])
def test_help_paragraphs_are_not_broken_mid_sentence(args, sentence):
    # In a wide terminal a paragraph is one line: the words must not be split by a line break
    # that only existed in the source code.
    assert sentence in help_text(args, 200)
