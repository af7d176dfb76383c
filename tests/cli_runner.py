"""Running the command line as a user would: `devolve ARGS…` in a fresh interpreter.

Importable by name from any test (``from cli_runner import run_cli``), whichever conftest.py pytest
happened to register last under the module name ``conftest``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run `devolve ARGS…` in a fresh interpreter, as a user would."""
    return subprocess.run([sys.executable, "-m", "devolve.interfaces.cli.main", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout)
