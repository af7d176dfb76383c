"""Who covers a pooled fund's overspend, and who gets an underspend back — pure, in whole pence.

Section 75 agreements differ (SCIE pooling guidance; published Section 75 / Better Care Fund
agreements), so the method is data in the deal's ``governance.yaml`` ``risk_share``:

``none``
    Nobody outside the pool covers it: the overspend stays with the pool (``unfunded``) and is
    carried into the next year of the five-year fixed budget as a deficit.
``pro_rata``
    Partners cover the overspend in proportion to what they contributed to the pool that year.
``fixed_shares``
    Partners cover fixed percentages (``shares: {partner: fraction}``, adding up to 1), each up to an
    optional cap (``caps_gbp: {partner: pounds}``); what a capped partner cannot take is shared by
    the others in proportion to their shares; what nobody can take is ``unfunded``.
``overspend_order``
    Sources in the order the agreement lists (``order``): ``underspends_in_pool``, then the
    ``risk_reserve``, then ``uncommitted_scheme_money``, then ``partners_outside_pool`` (pro rata to
    contributions). Without the last step, what is left is ``unfunded``.

In every method a line's overspend is first met by underspends on other lines — that is what pooling
means — so ``underspends_in_pool`` is always the first cover reported, for the part of the gross
overspend that netting absorbed. Splits use the largest-remainder method so parts add up exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from devolve.domain.errors import DevolveError
from devolve.domain.money import pounds_to_pence, split_largest_remainder

METHODS = ("none", "pro_rata", "fixed_shares", "overspend_order")
UNDERSPENDS, RESERVE, SCHEME_MONEY, PARTNERS, UNFUNDED = (
    "underspends_in_pool", "risk_reserve", "uncommitted_scheme_money", "partners_outside_pool", "unfunded")
ORDER_STEPS = (UNDERSPENDS, RESERVE, SCHEME_MONEY, PARTNERS)


class RiskShareError(DevolveError):
    """The deal's risk-share agreement cannot be applied as written."""


class Cover(NamedTuple):
    source: str                 # one of ORDER_STEPS, or "unfunded"
    partner: str | None
    pence: int


@dataclass(frozen=True)
class Position:
    """A year's position at the close, in pence.

    ``overspend`` is the pool's net overspend (≥ 0) after its underspends; ``gross_overspend`` the sum
    of the overspends on budget lines that went over. ``weights`` are the partners' contributions to
    the pool in the year (the pro-rata weights).
    """

    overspend: int
    gross_overspend: int
    weights: Mapping[str, int] = field(default_factory=dict)
    risk_reserve: int = 0
    scheme_money: int = 0


def share_overspend(agreement: Mapping, position: Position) -> tuple[Cover, ...]:
    """The covers of ``position.overspend`` under ``agreement``; their pence (but the first,
    ``underspends_in_pool``, which is already netted) add up to the overspend exactly."""
    method = agreement.get("method")
    if method not in METHODS:
        raise RiskShareError(f"risk_share.method '{method}' is not one of {', '.join(METHODS)}")
    o = int(position.overspend)
    if o < 0 or position.gross_overspend < 0:
        raise RiskShareError("an overspend cannot be negative")
    covers: list[Cover] = []
    netted = max(0, int(position.gross_overspend) - o)
    if netted:
        covers.append(Cover(UNDERSPENDS, None, netted))
    if o == 0:
        return tuple(covers)
    if method == "none":
        covers.append(Cover(UNFUNDED, None, o))
    elif method == "pro_rata":
        covers += _by_weights(o, _weights(position.weights))
    elif method == "fixed_shares":
        parts, unfunded = fixed_shares(o, _shares(agreement), _caps(agreement))
        covers += [Cover(PARTNERS, p, v) for p, v in parts.items() if v]
        if unfunded:
            covers.append(Cover(UNFUNDED, None, unfunded))
    else:
        covers += _in_order(o, _order(agreement), position)
    return tuple(covers)


def share_underspend(agreement: Mapping, amount: int, weights: Mapping[str, int]) -> dict[str, int]:
    """An underspend returned to partners: by fixed shares under ``fixed_shares``, else pro rata."""
    if amount < 0:
        raise RiskShareError("an underspend to return cannot be negative")
    if amount == 0:
        return {}
    if agreement.get("method") == "fixed_shares":
        shares = _shares(agreement)
        return dict(zip(shares, split_largest_remainder(amount, list(shares.values()))))
    ordered = _weights(weights)
    return dict(zip(ordered, split_largest_remainder(amount, list(ordered.values()))))


def fixed_shares(amount: int, shares: Mapping[str, float], caps: Mapping[str, int]) -> tuple[dict[str, int], int]:
    """Split ``amount`` by ``shares``, no partner above its cap; returns (parts, what nobody could take)."""
    parts = {p: 0 for p in shares}
    active = {p: s for p, s in shares.items() if s > 0}
    remaining = amount
    while remaining > 0 and active:
        names = list(active)
        split = dict(zip(names, split_largest_remainder(remaining, [active[p] for p in names])))
        capped = {p for p in names if p in caps and split[p] > caps[p] - parts[p]}
        if not capped:
            for p in names:
                parts[p] += split[p]
            remaining = 0
            break
        for p in capped:
            room = caps[p] - parts[p]
            parts[p] += room
            remaining -= room
            del active[p]
    return parts, remaining


def _in_order(o: int, order: Sequence[str], position: Position) -> list[Cover]:
    covers: list[Cover] = []
    left = o
    for step in order:
        if left == 0:
            break
        if step == RESERVE:
            take = min(left, max(0, int(position.risk_reserve)))
            if take:
                covers.append(Cover(RESERVE, None, take))
            left -= take
        elif step == SCHEME_MONEY:
            take = min(left, max(0, int(position.scheme_money)))
            if take:
                covers.append(Cover(SCHEME_MONEY, None, take))
            left -= take
        elif step == PARTNERS:
            covers += _by_weights(left, _weights(position.weights))
            left = 0
    if left:
        covers.append(Cover(UNFUNDED, None, left))
    return covers


def _by_weights(amount: int, weights: Mapping[str, int | float]) -> list[Cover]:
    parts = split_largest_remainder(amount, list(weights.values()))
    return [Cover(PARTNERS, p, v) for p, v in zip(weights, parts) if v]


def _weights(weights: Mapping[str, int]) -> dict[str, int]:
    positive = {p: int(w) for p, w in sorted(weights.items()) if w > 0}
    if not positive:
        raise RiskShareError("no partner contributed to the pool this year, so there is nothing to share by")
    return positive


def _shares(agreement: Mapping) -> dict[str, float]:
    shares = agreement.get("shares")
    if not isinstance(shares, Mapping) or not shares:
        raise RiskShareError("risk_share.shares must give each partner's fraction under fixed_shares")
    out = {}
    for partner, share in shares.items():
        if isinstance(share, bool) or not isinstance(share, (int, float)) or share < 0:
            raise RiskShareError(f"risk_share.shares.{partner} must be a fraction, not {share!r}")
        out[str(partner)] = float(share)
    if abs(sum(out.values()) - 1.0) > 1e-9:
        raise RiskShareError(f"risk_share.shares add up to {sum(out.values()):g}, not 1")
    return out


def _caps(agreement: Mapping) -> dict[str, int]:
    caps = agreement.get("caps_gbp") or {}
    if not isinstance(caps, Mapping):
        raise RiskShareError("risk_share.caps_gbp must map partners to amounts in pounds")
    out = {}
    for partner, cap in caps.items():
        pence = pounds_to_pence(str(cap)) if not isinstance(cap, float) else pounds_to_pence(repr(cap))
        if pence < 0:
            raise RiskShareError(f"risk_share.caps_gbp.{partner} cannot be negative")
        out[str(partner)] = pence
    return out


def _order(agreement: Mapping) -> list[str]:
    order = agreement.get("order") or list(ORDER_STEPS)
    if isinstance(order, str) or not isinstance(order, Sequence):
        raise RiskShareError("risk_share.order must be a list of steps")
    unknown = [s for s in order if s not in ORDER_STEPS]
    if unknown:
        raise RiskShareError(f"risk_share.order has unknown step(s) {', '.join(map(str, unknown))}; "
                             f"steps are {', '.join(ORDER_STEPS)}")
    if len(set(order)) != len(order):
        raise RiskShareError("risk_share.order lists a step twice")
    if PARTNERS in order and order[-1] != PARTNERS:
        raise RiskShareError("partners_outside_pool must be the last step of risk_share.order (it takes the rest)")
    return [s for s in order if s != UNDERSPENDS]
