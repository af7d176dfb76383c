"""The allocate engine: each district's, CCG's, neighbourhood's and small area's fair share of a
deal's pooled budget (weighted capitation), how far today's spend is from it, and how fast to move
(pace of change). See docs/method/allocation.md.

>>> from devolve.engines.allocate import allocate, LEVELS
"""

from devolve.engines.allocate.engine import allocate
from devolve.engines.allocate.levels import LEVELS
from devolve.engines.allocate.need import INDICATOR_NAMES, INDICATORS
from devolve.engines.allocate.policy import AllocationPolicy, Component, PaceOfChange, policy_from_parameters
from devolve.engines.allocate.result import AllocationResult

__all__ = ["INDICATORS", "INDICATOR_NAMES", "LEVELS", "AllocationPolicy", "AllocationResult", "Component",
           "PaceOfChange", "allocate", "policy_from_parameters"]
