"""Writing report files safely: to a temporary name beside the target, then moved into place, so a
failure never leaves a half-written file (and readers never see one)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)``, then replace ``path`` with the result; return ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # hidden, and ending in the target's own suffix (GDAL checks a GeoPackage's extension)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.stem}.part-", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    try:
        write(Path(tmp))
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
