"""The Source column of `livermet assess` at 80 columns named no paper: the citation was cut
to the column ('Vauthey JN, et al. Liver …', 'Mosteller RD. N Engl J Me…'), dropping the year.
Below 100 columns it is now author and year, with the count of further sources; from 100
columns the citation up to its volume. The sources themselves (calculators' Source) are the
independent values checked here: Vauthey 2002 (Liver Transpl 2002;8:233), Mosteller 1987.
"""

from __future__ import annotations

import os
import subprocess
import sys

from livermet.data import demo_case_path

ENTRY = "from livermet.cli.main import main; main()"


def assess(columns: int) -> list[str]:
    env = {**os.environ, "COLUMNS": str(columns), "PYTHONUTF8": "1"}
    r = subprocess.run([sys.executable, "-c", ENTRY, "assess", str(demo_case_path())],
                       capture_output=True, encoding="utf-8", env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def _row(lines: list[str], score: str) -> list[str]:
    line = next(line for line in lines if line.startswith(f"│ {score} "))
    return [cell.strip() for cell in line.strip("│").split("│")]


def test_80_columns_author_and_year():
    lines = assess(80)
    assert max(len(line) for line in lines) <= 80
    assert _row(lines, "bsa")[3] == "Mosteller 1987"
    assert _row(lines, "standard_liver_volume")[3] == "Vauthey 2002"
    assert _row(lines, "sflr_standardised")[3] == "Vauthey 2000 +2"  # Surgery 2000, +2002, +Kishi
    assert _row(lines, "child_pugh")[3] == "Pugh 1973"
    assert _row(lines, "sflr")[3] == "review +1"  # the bundled review, then Kishi 2009
    assert not any("…" in _row(lines, s)[3] for s in ("bsa", "meld", "albi", "fong", "game"))


def test_100_columns_citation_with_its_year():
    lines = assess(100)
    assert max(len(line) for line in lines) <= 100
    assert _row(lines, "standard_liver_volume")[3] == "Vauthey JN, et al. Liver Transpl 2002"
    assert _row(lines, "bsa")[3] == "Mosteller RD. N Engl J Med 1987"
