"""The audit trail: each entry's hash covers its content and the hash of the entry before it.

For entry number ``seq`` (1, 2, 3, … with no gaps)::

    body = canonical JSON of the entry's content, including "seq"
    hash = SHA-256( UTF-8( previous hash + body ) )    as 64 lower-case hex digits

with the previous hash of entry 1 being 64 zeros. Canonical JSON is what Python's
``json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` writes: keys sorted,
no spaces, UTF-8 text, integers for pence. The bodies are:

* transaction: ``date, decision, description, key, kind, partner, period, postings, reference,
  reverses, seq, year`` with ``postings`` a list of ``[account, pence]`` in order;
* account opening: ``accounts`` (each ``[name, root, role, line, service, district, neighbourhood,
  scheme, partner]``), ``key, kind ("open"), rules`` (the deal's book rules on entry 1, else null), ``seq``;
* cost return: ``activity, district, key, kind ("cost_return"), non_pay, overheads, period,
  provider, reference, seq, service_line, staff, year``;
* year close: ``key, kind ("close"), seq, year``.

Editing any stored field changes a body; deleting an entry leaves a gap in ``seq``; reordering
changes ``seq`` or the previous hash — so :func:`verify_chain` finds the first entry that is wrong.
Whoever holds a published head hash can check that nothing was changed after it was published.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from devolve.ledger.records import (
    CLOSE,
    COST_RETURN,
    OPEN,
    AccountOpening,
    CostReturn,
    Entry,
    Transaction,
    YearClose,
)

GENESIS = "0" * 64


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(previous: str, body: str) -> str:
    return hashlib.sha256((previous + body).encode("utf-8")).hexdigest()


def transaction_body(seq: int, t: Transaction, day: str | None = None) -> str:
    """The canonical body of a transaction, written directly (the import's hot path; ``day`` is the
    date in ISO form when the caller has it already).

    Byte for byte what :func:`canonical` writes for the same content (a test holds it to that).
    """
    esc = encode_basestring
    postings = ",".join([f"[{esc(account)},{int(amount)}]" for account, amount in t.postings])
    decision, partner, reverses = t.decision, t.partner, t.reverses
    return (f'{{"date":"{day or t.date.isoformat()}","decision":{"null" if decision is None else esc(decision)},'
            f'"description":{esc(t.description)},"key":{esc(t.key)},'
            f'"kind":{esc(t.kind)},"partner":{"null" if partner is None else esc(partner)},"period":{int(t.period)},'
            f'"postings":[{postings}],"reference":{esc(t.reference)},'
            f'"reverses":{"null" if reverses is None else int(reverses)},"seq":{int(seq)},"year":{esc(t.year)}}}')


def body_dict(seq: int, entry: Entry) -> dict[str, Any]:
    """The content of an entry as a plain dict (what :func:`body` serialises)."""
    if isinstance(entry, Transaction):
        return {"date": entry.date.isoformat(), "decision": entry.decision, "description": entry.description,
                "key": entry.key, "kind": entry.kind, "partner": entry.partner, "period": entry.period,
                "postings": [[p.account, p.amount] for p in entry.postings], "reference": entry.reference,
                "reverses": entry.reverses, "seq": seq, "year": entry.year}
    if isinstance(entry, AccountOpening):
        return {"accounts": [list(a) for a in entry.accounts], "key": entry.key, "kind": OPEN,
                "rules": entry.rules.to_dict() if entry.rules is not None else None, "seq": seq}
    if isinstance(entry, CostReturn):
        return {"activity": entry.activity, "district": entry.district, "key": entry.key, "kind": COST_RETURN,
                "non_pay": entry.non_pay, "overheads": entry.overheads, "period": entry.period,
                "provider": entry.provider, "reference": entry.reference, "seq": seq,
                "service_line": entry.service_line, "staff": entry.staff, "year": entry.year}
    if isinstance(entry, YearClose):
        return {"key": entry.key, "kind": CLOSE, "seq": seq, "year": entry.year}
    raise TypeError(f"not an entry of the books: {entry!r}")


def body(seq: int, entry: Entry) -> str:
    if isinstance(entry, Transaction):
        return transaction_body(seq, entry)
    return canonical(body_dict(seq, entry))


def content(entry: Entry) -> str:
    """The entry's content without its position: equal for an entry and its retry (idempotency)."""
    return body(0, entry)


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    head_hash: str
    first_bad_entry: int | None
    problem: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "head_hash": self.head_hash,
                "first_bad_entry": self.first_bad_entry, "problem": self.problem}


def verify_chain(items: Iterable[tuple[int, str, str]], *, expect_head: tuple[int, str] | None = None,
                 expect_hash: str | None = None) -> Verification:
    """Recompute the chain over ``(seq, body, stored hash)`` in order of ``seq``.

    ``expect_head`` is the (seq, hash) the books say their last entry has; ``expect_hash`` a head hash
    published elsewhere. Stops at the first entry that is missing or does not match.
    """
    previous = GENESIS
    count = 0
    for seq, text, stored in items:
        expected = count + 1
        if seq != expected:
            missing = expected if seq > expected else seq
            return Verification(False, count, previous, missing,
                                f"entry {missing} is missing or out of order (found entry {seq} after entry {count})")
        computed = chain_hash(previous, text)
        if computed != stored:
            return Verification(False, count, previous, seq,
                                f"entry {seq} does not match its hash: its content, its position or the entry "
                                "before it was changed")
        previous = computed
        count += 1
    if expect_head is not None and tuple(expect_head) != (count, previous):
        head_seq, head_hash = expect_head
        if head_seq > count:
            return Verification(False, count, previous, count + 1,
                                f"entry {count + 1} is missing: the books' head says there are {head_seq} entries")
        if head_seq < count:
            return Verification(False, count, previous, head_seq + 1,
                                f"entry {head_seq + 1} comes after the books' recorded head (entry {head_seq})")
        return Verification(False, count, previous, None,
                            "the books' head record does not match the hash of the last entry")
    if expect_hash is not None and expect_hash != previous:
        return Verification(False, count, previous, None,
                            f"the head hash is {previous}, not the published {expect_hash}")
    return Verification(True, count, previous, None, None)
