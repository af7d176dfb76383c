"""The flow engine: discrete-event simulation of emergency admissions, acute stays and discharge
into home care, reablement and care homes — how delays respond to each pathway's capacity.
See docs/method/flow.md.

>>> from devolve.engines.flow import example_model, simulate
>>> simulate(example_model(), replications=4, seed=0).replications
4
"""

from devolve.engines.flow.estimates import Estimate, estimate, paired_difference
from devolve.engines.flow.inputs import model_from_deal
from devolve.engines.flow.model import (
    CAPACITY_KEYS,
    FULL_BED_BASE,
    PATHWAY_LABELS,
    PATHWAYS,
    AgeGroup,
    DischargeModel,
    Pathway,
    example_model,
)
from devolve.engines.flow.simulate import FlowRun, FlowSummary, PathwaySummary, simulate

__all__ = ["CAPACITY_KEYS", "FULL_BED_BASE", "PATHWAYS", "PATHWAY_LABELS", "AgeGroup", "DischargeModel", "Estimate",
           "FlowRun", "FlowSummary", "Pathway", "PathwaySummary", "estimate", "example_model", "model_from_deal",
           "paired_difference", "simulate"]
