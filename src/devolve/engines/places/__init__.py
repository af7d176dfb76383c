"""Places: neighbourhoods of 30–50k residents, their hubs, and the shared public estate.

- :func:`contiguity_graph` — small areas, their measures and who borders whom (built once);
- :func:`build_neighbourhoods` — contiguous, compact neighbourhoods within a population band;
- :class:`HubModel` — one hub building per neighbourhood (a p-median solved on a MIP backend);
- :func:`plan_estate` — services that could move into hubs, shared and released buildings.
"""

from devolve.engines.places.compactness import polsby_popper, region_measures
from devolve.engines.places.contiguity import IslandLink, SmallAreaGraph, contiguity_graph
from devolve.engines.places.estate import EstateAssumptions, EstatePlan, plan_estate
from devolve.engines.places.hubs import NO_BUILDING, HubModel, hub_eligible
from devolve.engines.places.neighbourhoods import DistrictReport, NeighbourhoodPlan, build_neighbourhoods
from devolve.engines.solver import HighsSolver, MipModel, SolverError

__all__ = ["NO_BUILDING", "DistrictReport", "EstateAssumptions", "EstatePlan", "HighsSolver", "HubModel",
           "IslandLink", "MipModel", "NeighbourhoodPlan", "SmallAreaGraph", "SolverError", "build_neighbourhoods",
           "contiguity_graph", "hub_eligible", "plan_estate", "polsby_popper", "region_measures"]
