"""`devolve users …` and `devolve serve`, run as a user would (a fresh interpreter)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

CLI = [sys.executable, "-m", "devolve.interfaces.cli.main"]


def devolve(*args: str, password: str | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ}
    env.pop("DEVOLVE_PASSWORD", None)
    if password is not None:
        env["DEVOLVE_PASSWORD"] = password
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, input=stdin, timeout=300)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_users_add_list_and_token(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    added = devolve("users", "add", "Root", "--role", "administrator", "--organisation", "ca-greater-manchester",
                    "--db", db, "--json", password="first admin password")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["username"] == "root"
    by_stdin = devolve("users", "add", "bea", "--role", "board-member", "--organisation", "la-bolton",
                       "--password-stdin", "--db", db, stdin="board member password\n")
    assert by_stdin.returncode == 0 and "seat la-bolton" in by_stdin.stdout
    weak = devolve("users", "add", "weak", "--role", "analyst", "--organisation", "la-bolton", "--db", db,
                   password="short")
    assert weak.returncode == 2 and "at least 12 characters" in weak.stderr and "Traceback" not in weak.stderr
    unknown = devolve("users", "add", "x1", "--role", "wizard", "--organisation", "la-bolton", "--db", db,
                      password="long enough password")
    assert unknown.returncode == 2 and "unknown role" in unknown.stderr
    listed = json.loads(devolve("users", "list", "--db", db, "--json").stdout)
    assert [u["username"] for u in listed] == ["bea", "root"]
    token = json.loads(devolve("users", "token", "root", "--name", "ci", "--db", db, "--json").stdout)
    assert token["token"].startswith("dvl_")


@pytest.mark.slow
def test_serve_answers_on_loopback(tmp_path):
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    port = free_port()
    server = subprocess.Popen([*CLI, "serve", "--db", db, "--port", str(port), "--no-warm", "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = json.loads(_read_json(server))
        assert info["url"] == f"http://127.0.0.1:{port}/" and info["users"] == 0 and info["secure_cookies"] is False
        deadline = time.time() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/deals", timeout=5)
                break
            except httpx.TransportError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        assert response.status_code == 200 and response.json()[0]["id"]
        books = httpx.get(f"http://127.0.0.1:{port}/books", timeout=30)
        assert books.status_code == 200 and "no books in this database yet" in books.text
    finally:
        server.terminate()
        server.wait(timeout=30)


def _read_json(process: subprocess.Popen) -> str:
    lines = []
    while True:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"serve exited: {process.stderr.read()}")
        lines.append(line)
        if line.startswith("}"):
            return "".join(lines)
