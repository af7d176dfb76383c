"""Shared test fixtures: where the real data are, and how to run the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import run_cli  # noqa: F401  (tests import it from here: `from conftest import run_cli`)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "uk"


def real_data_dir() -> Path | None:
    return SHARED_DATA if (SHARED_DATA / "imd2019_lsoa11_population_denominators_mid2015.csv").is_file() else None


@pytest.fixture
def real_data() -> Path:
    folder = real_data_dir()
    if folder is None:
        pytest.skip("the real data copies in ../shared/data/uk are not present")
    return folder


@pytest.fixture
def empty_data(tmp_path: Path) -> Path:
    folder = tmp_path / "no-data"
    folder.mkdir()
    return folder




# CI runs every property test on Hypothesis's fixed example sequence, so a run's result does not
# depend on luck; locally, examples stay random to keep finding new cases.
import os as _os  # noqa: E402

from hypothesis import settings as _settings  # noqa: E402

_settings.register_profile("ci", derandomize=True, deadline=None)
if _os.environ.get("CI"):
    _settings.load_profile("ci")
