"""The audit trail's hashing: canonical bodies, the chain, and what verification catches."""

from __future__ import annotations

import hashlib
import json
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_helpers import make_rules, txn

from devolve.ledger import accounts as acc
from devolve.ledger.hashing import (
    GENESIS,
    body,
    body_dict,
    canonical,
    chain_hash,
    content,
    transaction_body,
    verify_chain,
)
from devolve.ledger.records import AccountOpening, CostReturn, Posting, Transaction, YearClose

texts = st.text(max_size=40)


@settings(max_examples=300, deadline=None)
@given(key=st.text(min_size=1, max_size=30), reference=texts, description=texts,
       decision=st.none() | st.text(min_size=1, max_size=20), partner=st.none() | st.text(min_size=1, max_size=10),
       reverses=st.none() | st.integers(1, 10**9), seq=st.integers(1, 10**9),
       postings=st.lists(st.tuples(st.text(min_size=1, max_size=30), st.integers(-10**15, 10**15)), min_size=1,
                         max_size=5))
def test_the_fast_transaction_body_is_canonical_json(key, reference, description, decision, partner, reverses, seq,
                                                     postings):
    t = Transaction(key, "payment", date(2016, 5, 1), "2016/17", 2, tuple(Posting(a, v) for a, v in postings),
                    partner, reference, decision, description, reverses)
    fast = transaction_body(seq, t)
    assert fast == canonical(body_dict(seq, t))
    assert json.loads(fast)["postings"] == [list(p) for p in postings]


def test_the_chain_hash_is_sha256_of_the_previous_hash_and_the_body():
    t = txn("p1", "2016-05-01", "payment", (acc.BANK, -5), ("Expenses:Pool:acute:D1", 5))
    text = body(1, t)
    assert chain_hash(GENESIS, text) == hashlib.sha256((GENESIS + text).encode()).hexdigest()
    assert '"seq":1' in text and text.startswith('{"date":"2016-05-01"')


def test_content_ignores_the_position():
    t = txn("p1", "2016-05-01", "payment", (acc.BANK, -5), ("Expenses:Pool:acute:D1", 5))
    assert content(t) == content(t) and body(1, t) != body(2, t)
    assert content(t) != content(t._replace(description="changed"))


def test_every_kind_of_entry_has_a_body():
    rules = make_rules()
    entries = [AccountOpening("open", acc.chart(rules)[:3], rules), CostReturn("c", "prov-a", "2016/17", 1, "acute",
                                                                                1, 2, 3, "D1", 4),
               YearClose("y", "2016/17")]
    for e in entries:
        data = json.loads(body(5, e))
        assert data["seq"] == 5 and data["key"] == e.key


def chain(n: int) -> list[tuple[int, str, str]]:
    items, previous = [], GENESIS
    for seq in range(1, n + 1):
        text = body(seq, txn(f"k{seq}", "2016-05-01", "payment", (acc.BANK, -seq), ("Expenses:Pool:acute:D1", seq)))
        previous = chain_hash(previous, text)
        items.append((seq, text, previous))
    return items


def test_an_intact_chain_verifies():
    items = chain(5)
    result = verify_chain(items, expect_head=(5, items[-1][2]))
    assert result.ok and result.entries == 5 and result.head_hash == items[-1][2] and result.first_bad_entry is None


def test_an_edit_a_deletion_or_a_swap_is_found_where_it_happened():
    items = chain(6)
    edited = list(items)
    edited[3] = (4, edited[3][1].replace('"key":"k4"', '"key":"k9"'), edited[3][2])
    assert verify_chain(edited).first_bad_entry == 4
    deleted = items[:2] + items[3:]
    assert verify_chain(deleted).first_bad_entry == 3
    swapped = list(items)
    swapped[1], swapped[2] = (2, items[2][1], items[2][2]), (3, items[1][1], items[1][2])
    assert verify_chain(swapped).first_bad_entry == 2
    assert verify_chain(items[:5], expect_head=(6, items[5][2])).first_bad_entry == 6
    assert not verify_chain(items, expect_hash="0" * 64).ok
    assert verify_chain(items, expect_head=(5, items[4][2])).first_bad_entry == 6
