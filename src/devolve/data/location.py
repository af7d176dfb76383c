"""Where devolve looks for official data files.

In order: the ``--data-dir`` option; the ``DEVOLVE_DATA_DIR`` environment variable;
``../shared/data/uk/`` beside the checkout (the project's real test copies) when present; else the
user cache (``$XDG_CACHE_HOME/devolve/data`` or ``~/.cache/devolve/data``), where
``devolve data fetch`` and ``devolve data import`` put files.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "DEVOLVE_DATA_DIR"


def checkout_shared_data() -> Path | None:
    """``shared/data/uk`` beside the source checkout, if this is a checkout and it exists."""
    package_dir = Path(__file__).resolve().parents[1]  # src/devolve
    repo_root = package_dir.parents[1]
    candidate = repo_root.parent / "shared" / "data" / "uk"
    return candidate if candidate.is_dir() else None


def user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "devolve" / "data"


def resolve_data_dir(explicit: str | Path | None = None) -> tuple[Path, str]:
    """The data folder to use and why it was chosen (for `devolve data status`)."""
    if explicit:
        return Path(explicit).expanduser(), "--data-dir"
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser(), f"${ENV_VAR}"
    shared = checkout_shared_data()
    if shared is not None:
        return shared, "../shared/data/uk beside the checkout"
    return user_cache_dir(), "user cache"
