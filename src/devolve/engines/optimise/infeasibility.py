"""Why no portfolio meets every constraint: the constraint group that binds.

The constraint groups present (fund, yearly cash limits, required schemes, dependencies, exclusions,
fairness floors, minimum scales, target probability) are relaxed one at a time; the first whose
relaxation alone restores feasibility is named as binding, with the others that would also do. For
the fund the message gives the cost of the cheapest portfolio meeting the other constraints; for a
target probability, the highest probability reachable whatever the fund.
"""

from __future__ import annotations

from devolve.domain.errors import InputError
from devolve.engines.optimise.formulation import GROUPS, build
from devolve.engines.optimise.problem import PortfolioProblem
from devolve.engines.solver import SolverError


class InfeasibleError(InputError):
    """No portfolio meets every constraint. ``constraint`` names the one that binds."""

    def __init__(self, message: str, constraint: str | None):
        super().__init__(message)
        self.constraint = constraint


def _feasible(problem: PortfolioProblem, objective: str, relax: frozenset[str], solver) -> bool:
    model, _ = build(problem, objective, relax=relax)
    model.cost[:] = 0.0
    try:
        solver.solve(model)
    except SolverError:
        return False
    return True


def explain_infeasibility(problem: PortfolioProblem, objective: str, solver) -> InfeasibleError:
    """An :class:`InfeasibleError` naming the constraint group whose relaxation alone restores feasibility."""
    present = _present_groups(problem, objective)
    binding = [g for g in present if _feasible(problem, objective, frozenset({g}), solver)]
    if not binding:
        return InfeasibleError("no portfolio meets every constraint, and no single constraint explains it: "
                               f"{', '.join(present)} conflict together", None)
    name = binding[0]
    detail = ""
    if name == "fund" and problem.fund_gbp is not None:
        cheapest = _cheapest(problem, objective, frozenset({"fund"}), solver)
        if cheapest is not None:
            detail = (f": the cheapest portfolio meeting the other constraints costs £{cheapest:,.0f}, above the "
                      f"fund of £{problem.fund_gbp:,.0f}")
    elif name == "target probability of balance":
        model, _ = build(problem.with_fund(None), "balance")
        try:
            best = solver.solve(model)
        except SolverError:
            best = None
        if best is not None:
            reachable = (best.objective if best.bound is None else best.bound) / problem.runs
            detail = (f": at most {reachable:.1%} of runs can balance whatever the fund, below the target "
                      f"of {problem.target_probability:.1%}")
    elif name == "yearly cash limits":
        detail = ": the schemes that must be funded spend faster than the fund's yearly profile allows"
    also = binding[1:]
    tail = f" (relaxing {', '.join(also)} alone would also do)" if also else ""
    return InfeasibleError(f"no portfolio meets every constraint: the {name} constraint binds{detail}{tail}", name)


def _cheapest(problem, objective, relax, solver) -> float | None:
    model, _ = build(problem, objective, relax=relax)
    S = len(problem.candidates)
    model.cost[:] = 0.0
    model.cost[:S] = problem.total_investment
    model.maximise = False
    model.offset = 0.0
    try:
        return float(solver.solve(model).objective)
    except SolverError:
        return None


def _present_groups(problem: PortfolioProblem, objective: str) -> list[str]:
    present = []
    for group in GROUPS:
        if group == "fund" and (problem.fund_gbp is None or objective == "min-fund"):
            continue
        if group == "yearly cash limits" and (problem.cash_limits is None or objective == "min-fund"):
            continue
        if group == "required schemes" and not any(c.required for c in problem.candidates):
            continue
        if group == "dependencies" and not problem.dependencies:
            continue
        if group == "exclusions" and not problem.exclusions:
            continue
        if group == "fairness floors" and not problem.floors:
            continue
        if group == "minimum scales" and not any(c.scalable and c.min_scale > 0 for c in problem.candidates):
            continue
        if group == "target probability of balance" and objective != "min-fund":
            continue
        present.append(group)
    return present

