"""`livermet serve` with a port that cannot exist is a usage error (exit 2), not a traceback
from the socket layer after the database was migrated."""

from __future__ import annotations

from typer.testing import CliRunner

from livermet.cli.main import app


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_port_out_of_range(tmp_path):
    r = CliRunner().invoke(app, ["serve", "--port", "99999", "--data-dir", str(tmp_path)])
    assert r.exit_code == 2
    assert "--port" in r.output and "65535" in r.output
    assert not any(tmp_path.iterdir())  # refused before anything was created


def test_listening_beyond_this_machine_warns_about_plain_http(tmp_path, monkeypatch):
    """--host 0.0.0.0 serves patient data over plain HTTP: the start must say so."""
    import uvicorn

    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(kw))
    monkeypatch.setenv("LIVERMET_ADMIN_PASSWORD", "a-long-test-password")
    port = str(_free_port())  # serve checks that it can listen there before it starts
    r = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", port, "--no-jobs",
                                 "--data-dir", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert started["host"] == "0.0.0.0"
    assert "plain HTTP" in r.output and "TLS" in r.output
    r = CliRunner().invoke(app, ["serve", "--port", port, "--no-jobs", "--data-dir", str(tmp_path)])
    assert r.exit_code == 0 and "plain HTTP" not in r.output
