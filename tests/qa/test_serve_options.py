"""`livermet serve` with a port that cannot exist is a usage error (exit 2), not a traceback
from the socket layer after the database was migrated."""

from __future__ import annotations

from typer.testing import CliRunner

from livermet.cli.main import app


def test_port_out_of_range(tmp_path):
    r = CliRunner().invoke(app, ["serve", "--port", "99999", "--data-dir", str(tmp_path)])
    assert r.exit_code == 2
    assert "--port" in r.output and "65535" in r.output
    assert not any(tmp_path.iterdir())  # refused before anything was created
