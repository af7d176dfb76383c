"""The main job's computing half (`devolve run`): each capability adds its stage here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devolve.domain.records import Deal
from devolve.services.deals import deal_summary, load

Progress = Callable[[str], None]

#: The stages of the main job, in order (the CLI shows them as a progress bar).
STAGES = ("load and validate the deal", "summarise the deal")


@dataclass(frozen=True)
class RunResult:
    deal: Deal
    summary: dict[str, Any]


def run_pipeline(ref: str | Path, data_dir: str | Path | None = None,
                 progress: Progress | None = None) -> RunResult:
    """The main job's computing half: load and validate the deal, then summarise it.

    Later engines (neighbourhoods, allocation, forecast, indicators, books) add their stages here.
    """
    step = progress or (lambda _name: None)
    step("load and validate the deal")
    deal = load(ref, data_dir)
    step("summarise the deal")
    summary = deal_summary(deal)
    return RunResult(deal, summary)
