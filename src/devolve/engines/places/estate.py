"""The shared public estate: which services could move into their neighbourhood hub, which buildings
could then be shared by several partners, and which could be released, with the savings.

For each hub ``h`` (a building) its room for more services is
``capacity_h = floor_h × target_utilisation − floor_h × utilisation_h``. A building ``j`` in the
same neighbourhood whose kind can move (see ``BUILDING_TYPES``) needs ``need_j = floor_j ×
utilisation_j`` m² there. Moving it releases ``j``:

- annual saving ``s_j = running_j − need_j × (running_h / floor_h) × marginal_cost_share`` (the
  host's cost per m² that grows with occupancy);
- capital receipt ``R_j = floor_j × receipt_per_m2 × condition_factor(j) × (1 − disposal_cost)``.

Which services move is a knapsack per hub (solved together per district on the MIP solver passed
in): maximise ``Σ x_j (s_j + discount_rate × R_j)`` subject to ``Σ x_j need_j ≤ capacity_h``, where
a receipt counts at its annual value at the discount rate. Only moves worth more than nothing are
offered. Vacant buildings that are not hubs are released whatever their kind (need 0). Money is
returned in integer pence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse

from devolve.domain.records import BUILDING_TYPES
from devolve.engines.solver import MipModel, MipSolver, solve_to_optimality


@dataclass(frozen=True)
class EstateAssumptions:
    target_utilisation: float      # a shared building's highest planned use of its floor area
    marginal_cost_share: float     # share of a host's running cost per m² that grows with occupancy
    receipt_per_m2_gbp: float      # capital receipt per m² of floor area released, condition A
    disposal_cost_fraction: float  # costs of sale, as a share of the receipt
    condition_factor: dict[str, float]  # receipt multiplier by condition A–D
    discount_rate: float           # annual value of a capital receipt, as a share of it
    hub_min_floor_area_m2: float = 0.0  # smallest building that can host a neighbourhood hub


@dataclass(frozen=True)
class EstatePlan:
    moves: pl.DataFrame       # building → hub it moves into
    shared: pl.DataFrame      # buildings hosting several partners after the moves
    released: pl.DataFrame    # buildings that could be released, with savings and receipts (pence)
    hubs: pl.DataFrame        # each hub with its partners, floor area and utilisation after the moves

    @property
    def running_cost_saving_pence(self) -> int:
        return int(self.released["net_saving_pence"].sum()) if self.released.height else 0

    @property
    def capital_receipts_pence(self) -> int:
        return int(self.released["capital_receipt_pence"].sum()) if self.released.height else 0


def _receipt(floor: np.ndarray, condition: np.ndarray, a: EstateAssumptions) -> np.ndarray:
    factor = np.array([a.condition_factor[c] for c in condition], dtype=float)
    return floor * a.receipt_per_m2_gbp * 100 * factor * (1 - a.disposal_cost_fraction)


def plan_estate(buildings: pl.DataFrame, hubs: pl.DataFrame, assumptions: EstateAssumptions,
                solver: MipSolver) -> EstatePlan:
    """``buildings``: the register located in neighbourhoods (``neighbourhood`` null outside);
    ``hubs``: one row per neighbourhood with ``hub`` (a building id or ``no building``)."""
    a = assumptions
    table = buildings.filter(pl.col("neighbourhood").is_not_null())
    hub_of = dict(zip(hubs["neighbourhood"].to_list(), hubs["hub"].to_list()))
    hub_ids = {h for h in hub_of.values() if h in set(table["id"].to_list())}
    info = {r["id"]: r for r in table.iter_rows(named=True)}
    moves: list[dict] = []
    for district in sorted(set(table["district"].to_list())):
        items, caps = [], {}
        for r in table.filter(pl.col("district") == district).iter_rows(named=True):
            host = hub_of.get(r["neighbourhood"])
            if (host not in hub_ids or r["id"] in hub_ids or not BUILDING_TYPES[r["type"]][1]
                    or r["utilisation"] <= 0):
                continue
            h = info[host]
            need = r["floor_area_m2"] * r["utilisation"]
            added = need * h["running_cost_pence"] / h["floor_area_m2"] * a.marginal_cost_share
            saving = r["running_cost_pence"] - added
            receipt = float(_receipt(np.array([r["floor_area_m2"]]), np.array([r["condition"]]), a)[0])
            value = saving + a.discount_rate * receipt
            if value > 0:
                items.append((r["id"], host, need, added, value))
                caps[host] = max(0.0, h["floor_area_m2"] * (a.target_utilisation - h["utilisation"]))
        chosen = _knapsacks(items, caps, solver, district)
        for building, host, need, added, _ in (items[i] for i in chosen):
            moves.append({"building": building, "hub": host, "floor_area_moved_m2": need,
                          "added_cost_pence": int(round(added))})
    moves_frame = pl.DataFrame(moves, schema={"building": pl.Utf8, "hub": pl.Utf8, "floor_area_moved_m2": pl.Float64,
                                              "added_cost_pence": pl.Int64})
    released = _released(table, moves_frame, hub_ids, hub_of, a)
    hub_table = _hub_table(info, hub_of, moves_frame)
    shared = hub_table.filter(pl.col("partners_after") >= 2).select(
        "building", "neighbourhood", "owner", "partners", "partners_after", "services_moved_in",
        "floor_area_m2", "utilisation_before", "utilisation_after")
    return EstatePlan(moves_frame, shared, released, hub_table)


def _knapsacks(items, caps, solver: MipSolver, district: str) -> list[int]:
    if not items:
        return []
    hosts = sorted(caps)
    row = {h: i for i, h in enumerate(hosts)}
    matrix = sparse.csc_matrix((np.array([it[2] for it in items]), ([row[it[1]] for it in items],
                                                                   list(range(len(items))))),
                               shape=(len(hosts), len(items)))
    value = np.array([it[4] for it in items])
    x = solve_to_optimality(solver, MipModel.from_matrix(
        f"co-location in {district}", value / max(value.max(), 1.0), matrix, np.full(len(hosts), -np.inf),
        np.array([caps[h] for h in hosts]), np.zeros(len(items)), np.ones(len(items)),
        np.ones(len(items), dtype=bool), maximise=True))
    return [i for i in range(len(items)) if x[i] > 0.5]


def _released(table: pl.DataFrame, moves: pl.DataFrame, hub_ids: set, hub_of: dict,
              a: EstateAssumptions) -> pl.DataFrame:
    moved = dict(zip(moves["building"].to_list(), zip(moves["hub"].to_list(), moves["added_cost_pence"].to_list())))
    rows = []
    for r in table.iter_rows(named=True):
        vacant = r["utilisation"] <= 0 or r["current_use"].strip().lower() == "vacant"
        if r["id"] in hub_ids or (r["id"] not in moved and not vacant):
            continue
        host, added = moved.get(r["id"], (None, 0))
        receipt = int(round(float(_receipt(np.array([r["floor_area_m2"]]), np.array([r["condition"]]), a)[0])))
        rows.append({"building": r["id"], "name": r["name"], "type": r["type"], "owner": r["owner"],
                     "neighbourhood": r["neighbourhood"], "district": r["district"],
                     "reason": f"services move into hub {host}" if host else "vacant",
                     "moves_to": host, "floor_area_m2": r["floor_area_m2"],
                     "running_cost_pence": r["running_cost_pence"], "added_cost_pence": added,
                     "net_saving_pence": r["running_cost_pence"] - added, "capital_receipt_pence": receipt,
                     "synthetic": r["synthetic"]})
    schema = {"building": pl.Utf8, "name": pl.Utf8, "type": pl.Utf8, "owner": pl.Utf8, "neighbourhood": pl.Utf8,
              "district": pl.Utf8, "reason": pl.Utf8, "moves_to": pl.Utf8, "floor_area_m2": pl.Float64,
              "running_cost_pence": pl.Int64, "added_cost_pence": pl.Int64, "net_saving_pence": pl.Int64,
              "capital_receipt_pence": pl.Int64, "synthetic": pl.Boolean}
    return pl.DataFrame(rows, schema=schema).sort("building")


def _hub_table(info: dict, hub_of: dict, moves: pl.DataFrame) -> pl.DataFrame:
    rows = []
    for neighbourhood, hub in sorted(hub_of.items()):
        if hub not in info:
            continue
        h = info[hub]
        incoming = moves.filter(pl.col("hub") == hub)
        owners = sorted({h["owner"], *(info[b]["owner"] for b in incoming["building"].to_list())})
        used = h["floor_area_m2"] * h["utilisation"] + float(incoming["floor_area_moved_m2"].sum())
        rows.append({"building": hub, "neighbourhood": neighbourhood, "name": h["name"], "type": h["type"],
                     "owner": h["owner"], "partners": ";".join(owners), "partners_after": len(owners),
                     "services_moved_in": incoming.height, "floor_area_m2": h["floor_area_m2"],
                     "utilisation_before": h["utilisation"], "utilisation_after": used / h["floor_area_m2"]})
    schema = {"building": pl.Utf8, "neighbourhood": pl.Utf8, "name": pl.Utf8, "type": pl.Utf8, "owner": pl.Utf8,
              "partners": pl.Utf8, "partners_after": pl.Int64, "services_moved_in": pl.Int64,
              "floor_area_m2": pl.Float64, "utilisation_before": pl.Float64, "utilisation_after": pl.Float64}
    return pl.DataFrame(rows, schema=schema)
