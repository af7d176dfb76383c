"""The board's use cases on real books (SQLite): proposals from draft to enacted, the checks that
refuse bad steps (and change nothing), enactment exactly once, and the ledger's side of the link."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from devolve.governance.records import GovernanceError
from devolve.ledger.parsing import ImportRejected
from devolve.ledger.store import Books
from devolve.services import governance as board
from devolve.services import ledger as books

ON = date(2017, 3, 1)
COUNCILS = ["la-bolton", "la-bury", "la-manchester", "la-oldham", "la-rochdale", "la-salford", "la-stockport"]
NHS = ["nhs-england", "ccg-00t-bolton", "ccg-00v-bury", "ccg-00w-central-manchester", "ccg-01m-north-manchester",
       "ccg-01n-south-manchester", "ccg-00y-oldham", "nhs-rbv", "nhs-rm2", "nhs-rm3", "nhs-rmc", "nhs-rmp", "nhs-rrf",
       "nhs-rt2", "nhs-rw3", "nhs-rw6", "nhs-rwj", "nhs-rx7"]
OTHERS = ["gm-fire", "gm-pcc", "ca-greater-manchester"]


def fund(**extra):
    return {"kind": "fund_scheme", "title": "Fund reablement for 2017/18", "proposer": "la-manchester",
            "scheme": "reablement", "amounts_gbp": {"2017/18": 15_000_000}, "evidence": "business case", **extra}


def cast(db, pid, yes=(), no=(), abstain=()):
    for choice, members in (("yes", yes), ("no", no), ("abstain", abstain)):
        for m in members:
            board.vote(db, pid, m, choice, on=ON)


def heads(db):
    b = Books.open(db)
    try:
        ledger_head = b.head()
    finally:
        b.dispose()
    return ledger_head, board.verify(db)["entries"]


def test_a_scheme_goes_from_draft_to_enacted_by_double_majority(gm_db):
    p = board.propose(gm_db, fund(draft=True), on=ON, effect_runs=50)
    assert p["status"] == "draft" and p["id"] == "P-0001"
    effect = p["financial_effect"]
    assert effect["engine"] == "forecast" and effect["fund_left_before_gbp"] - effect["fund_left_after_gbp"] == 15e6
    assert effect["cumulative_gap_p50_gbp_with"] != effect["cumulative_gap_p50_gbp_without"]
    with pytest.raises(GovernanceError, match="only while a proposal is open"):
        board.vote(gm_db, "P-0001", "la-bolton", "yes", on=ON)
    board.open_proposal(gm_db, "P-0001", on=ON)
    cast(gm_db, "P-0001", yes=COUNCILS + NHS[:12] + OTHERS, no=NHS[12:])
    closed = board.close(gm_db, "P-0001", on=date(2017, 3, 9))
    assert closed["outcome"] == "approved" and "double majority" in closed["reasons"][0]
    enacted = board.enact(gm_db, "P-0001", on=date(2017, 4, 3))
    assert enacted["enacted"] and len(enacted["ledger_transactions"]) == 1
    seq = enacted["ledger_transactions"][0]
    b = Books.open(gm_db)
    with b.engine.connect() as c:
        row = c.execute(text("SELECT key, kind, decision, year FROM entries WHERE seq = :s"), {"s": seq}).one()
    b.dispose()
    assert tuple(row) == ("board:P-0001:1", "budget", "P-0001", "2017/18")
    balance = books.balance(gm_db, year="2017/18")
    lines = {a["account"]: a["balance_pence"] for a in balance["accounts"]}
    assert lines["Budget:Schemes:reablement"] == 1_500_000_000 and lines["Budget:Funding"] == -1_500_000_000
    again = board.enact(gm_db, "P-0001", on=date(2017, 4, 4))           # a retry changes nothing
    assert again["already_enacted"] and again["ledger_transactions"] == [seq]
    assert books.balance(gm_db, year="2017/18")["transactions"] == balance["transactions"]
    check = board.verify(gm_db)
    assert check["ok"] and check["ledger_links_ok"]
    log = board.decisions(gm_db)
    assert [(d["id"], d["outcome"], d["enacted"], d["ledger_transactions"]) for d in log] == \
        [("P-0001", "approved", True, [seq])]
    rows = {r["line"]: r for r in board.accountability(gm_db)}
    assert rows["Schemes:reablement"]["partner"] == "la-manchester"
    assert rows["Schemes:reablement"]["decisions"] == ["P-0001 (enacted)"]


def test_enactment_after_a_crash_between_books_and_log_posts_once(gm_db):
    p = board.propose(gm_db, fund(), on=ON, effect_runs=20)
    cast(gm_db, p["id"], yes=COUNCILS + NHS)
    board.close(gm_db, p["id"], on=ON)
    state = board.proposal(gm_db, p["id"])
    # the crash: the ledger transactions were posted, the log's enact entry was not
    from devolve.services.governance import _transactions
    from devolve.governance.store import BoardLog
    log = BoardLog.connect(gm_db)
    proposal = log.state().get(p["id"]).proposal
    log.dispose()
    b = Books.open(gm_db)
    b.append(_transactions(proposal, date(2017, 4, 3)))
    count = books.balance(gm_db)["transactions"]
    b.dispose()
    result = board.enact(gm_db, p["id"], on=date(2017, 4, 3))
    assert result["enacted"] and state["status"] == "approved"
    assert books.balance(gm_db)["transactions"] == count
    assert board.verify(gm_db)["ok"]


@pytest.mark.parametrize("step,message", [
    (lambda db, pid: board.vote(db, pid, "not-a-member", "yes", on=ON), "not a member"),
    (lambda db, pid: board.vote(db, pid, "la-bolton", "perhaps", on=ON), "yes, no, abstain"),
    (lambda db, pid: board.vote(db, pid, "nhs-rbv", "yes", on=ON), "conflict of interest"),
    (lambda db, pid: board.enact(db, pid, on=ON), "only an approved proposal"),
    (lambda db, pid: board.open_proposal(db, pid, on=ON), "not a draft"),
    (lambda db, pid: board.close(db, pid, on=ON, officer="Director of Finance"), "not below the delegation limit"),
    (lambda db, pid: board.vote(db, "P-9999", "la-bolton", "yes", on=ON), "no proposal 'P-9999'"),
    (lambda db, pid: board.vote(db, pid, "la-bolton", "no", on=ON), "already voted"),
])
def test_bad_steps_are_refused_and_change_nothing(gm_db, step, message):
    p = board.propose(gm_db, fund(interests=["nhs-rbv"]), on=ON, effect_runs=20)
    board.vote(gm_db, p["id"], "la-bolton", "yes", on=ON)
    before = heads(gm_db)
    with pytest.raises(GovernanceError, match=message):
        step(gm_db, p["id"])
    assert heads(gm_db) == before


def test_votes_after_close_and_enacting_a_rejected_proposal_are_refused(gm_db):
    p = board.propose(gm_db, fund(), on=ON, effect_runs=20)
    cast(gm_db, p["id"], yes=COUNCILS, no=NHS)
    assert board.close(gm_db, p["id"], on=ON)["outcome"] == "rejected"
    before = heads(gm_db)
    with pytest.raises(GovernanceError, match="votes are taken only while a proposal is open"):
        board.vote(gm_db, p["id"], "gm-fire", "yes", on=ON)
    with pytest.raises(GovernanceError, match="only an approved proposal can be enacted"):
        board.enact(gm_db, p["id"], on=ON)
    assert heads(gm_db) == before


def test_a_vote_without_quorum_lapses(gm_db):
    p = board.propose(gm_db, fund(), on=ON, effect_runs=20)
    cast(gm_db, p["id"], yes=COUNCILS[:3])
    closed = board.close(gm_db, p["id"], on=ON)
    assert closed["outcome"] == "lapsed" and "quorum not met" in closed["reasons"][0]


@pytest.mark.parametrize("doc,message", [
    (fund(amounts_gbp={"2017/18": 500_000_000}), "the transformation fund has left"),
    (fund(scheme="moon-base"), "field 'scheme'"),
    (fund(amounts_gbp={"2030/31": 1}), "a year of the deal"),
    (fund(amounts_gbp={"2017/18": -5}), "not negative"),
    (fund(proposer="somebody"), "field 'proposer'"),
    (fund(colour="blue"), "only the keys"),
    ({"kind": "virement", "title": "v", "proposer": "la-bolton", "year": "2016/17", "from": "Pool:nowhere:E08000001",
      "to": "Pool:home_care_hour:E08000001", "amount_gbp": 10}, "a budget line of the books"),
    ({"kind": "change_parameter", "title": "c", "proposer": "la-bolton",
      "changes": [{"path": "forecast.no_such_thing", "value": 1}]}, "not a parameter"),
    ({"kind": "adopt_exemption", "title": "e", "proposer": "la-bolton", "target": "no-such-target", "reason": "r"},
     "field 'target'"),
    ({"kind": "estate_change", "title": "b", "proposer": "la-bolton", "building": "nope", "action": "release"},
     "field 'building'"),
    ({"kind": "abolish_board", "title": "x", "proposer": "la-bolton"}, "field 'kind'"),
])
def test_bad_proposals_are_refused_and_change_nothing(gm_db, doc, message):
    before = heads(gm_db)
    with pytest.raises(GovernanceError, match=message):
        board.propose(gm_db, doc, on=ON, effect_runs=20)
    assert heads(gm_db) == before


def test_fund_left_counts_approved_but_unenacted_proposals(gm_db):
    """£450m in all: £300m proposed leaves £150m; a penny more is refused."""
    board.propose(gm_db, fund(amounts_gbp={"2017/18": 150_000_000, "2018/19": 150_000_000}), on=ON, effect_runs=20)
    with pytest.raises(GovernanceError, match="the transformation fund has left"):
        board.propose(gm_db, fund(amounts_gbp={"2019/20": 150_000_001}), on=ON, effect_runs=20)


def test_officers_approve_below_the_delegation_limit_only(gm_db):
    small = {"kind": "virement", "title": "Small virement", "proposer": "la-bolton", "year": "2016/17",
             "from": "Pool:emergency_admission:E08000001", "to": "Pool:home_care_hour:E08000001", "amount_gbp": 250_000}
    p = board.propose(gm_db, small, on=ON)
    assert p["financial_effect"]["engine"] == "ledger"
    closed = board.close(gm_db, p["id"], on=ON, officer="Director of Finance, Bolton")
    assert closed["outcome"] == "approved" and closed["decided_by"].startswith("officer")
    change = {"kind": "change_parameter", "title": "Raise efficiencies", "proposer": "ca-greater-manchester",
              "changes": [{"path": "forecast.plan_efficiencies", "from": "2017/18", "value": 0.05}]}
    p2 = board.propose(gm_db, change, on=ON, effect_runs=20)
    with pytest.raises(GovernanceError, match="not delegated to officers"):
        board.close(gm_db, p2["id"], on=ON, officer="Director of Finance")


def test_a_reserved_matter_needs_unanimity_and_national_consent(gm_db):
    change = {"kind": "change_parameter", "title": "Raise efficiencies", "proposer": "ca-greater-manchester",
              "changes": [{"path": "forecast.plan_efficiencies", "from": "2017/18", "value": 0.05}]}
    p = board.propose(gm_db, change, on=ON, effect_runs=20)
    assert p["financial_effect"]["engine"] == "forecast"
    cast(gm_db, p["id"], yes=COUNCILS + NHS[1:], abstain=["nhs-england"])
    closed = board.close(gm_db, p["id"], on=ON)
    assert closed["outcome"] == "rejected" and "consent of nhs-england" in " ".join(closed["reasons"])
    p2 = board.propose(gm_db, change, on=ON, effect_runs=20)
    cast(gm_db, p2["id"], yes=COUNCILS + NHS + OTHERS)
    assert board.close(gm_db, p2["id"], on=ON)["outcome"] == "approved"
    enacted = board.enact(gm_db, p2["id"], on=ON)
    assert enacted["ledger_transactions"] == []
    adopted = board.adopted(gm_db)["parameter_changes"]
    assert adopted == [{"path": "forecast.plan_efficiencies", "from": "2017-04-01", "value": 0.05, "note": "",
                        "decision": p2["id"]}]


def _post(db, tmp_path, rows):
    path = tmp_path / "post.csv"
    path.write_text("key,date,kind,partner,reference,decision,description,account,debit,credit\n"
                    + "\n".join(rows) + "\n")
    return books.post(db, path)


def test_the_ledger_refuses_drawdowns_and_virements_that_lack_a_decision(gm_db, tmp_path):
    before = heads(gm_db)
    with pytest.raises(ImportRejected, match="transformation fund for schemes is above the delegation limit"):
        _post(gm_db, tmp_path, ["d1,2017-05-01,budget,la-manchester,x,,draw,Budget:Schemes:reablement,5000000,",
                                "d1,2017-05-01,budget,la-manchester,x,,draw,Budget:Funding,,5000000"])
    with pytest.raises(ImportRejected, match="not an approved decision of the board"):
        _post(gm_db, tmp_path, ["d2,2017-05-01,budget,la-manchester,x,P-0042,draw,Budget:Schemes:reablement,5000000,",
                                "d2,2017-05-01,budget,la-manchester,x,P-0042,draw,Budget:Funding,,5000000"])
    assert heads(gm_db) == before
    # below the limit an officer's posting needs no decision
    result = _post(gm_db, tmp_path, ["d3,2017-05-01,budget,la-manchester,x,,draw,Budget:Schemes:reablement,500000,",
                                     "d3,2017-05-01,budget,la-manchester,x,,draw,Budget:Funding,,500000"])
    assert result["added"] == 1


def test_a_decision_authorises_only_its_own_transactions(gm_db, tmp_path):
    p = board.propose(gm_db, fund(), on=ON, effect_runs=20)
    cast(gm_db, p["id"], yes=COUNCILS + NHS)
    board.close(gm_db, p["id"], on=ON)
    board.enact(gm_db, p["id"], on=date(2017, 4, 3))
    with pytest.raises(ImportRejected, match="authorised only its own transactions"):
        _post(gm_db, tmp_path, [f"again,2017-05-01,budget,la-manchester,x,{p['id']},draw,Budget:Schemes:reablement,"
                                "15000000,", f"again,2017-05-01,budget,la-manchester,x,{p['id']},draw,Budget:Funding,,"
                                "15000000"])


def test_verify_finds_a_tampered_missing_or_unlinked_entry(gm_db):
    p = board.propose(gm_db, fund(), on=ON, effect_runs=20)
    cast(gm_db, p["id"], yes=COUNCILS + NHS)
    board.close(gm_db, p["id"], on=ON)
    board.enact(gm_db, p["id"], on=date(2017, 4, 3))
    assert board.verify(gm_db)["ok"]
    b = Books.open(gm_db)
    engine = b.engine
    with engine.begin() as c:
        c.execute(text("UPDATE board_log SET body = replace(body, '\"choice\":\"yes\"', '\"choice\":\"no\"') "
                       "WHERE seq = 5"))
    result = board.verify(gm_db)
    assert not result["ok"] and result["first_bad_entry"] == 5
    with engine.begin() as c:
        c.execute(text("UPDATE board_log SET body = replace(body, '\"choice\":\"no\"', '\"choice\":\"yes\"') "
                       "WHERE seq = 5"))
    assert board.verify(gm_db)["ok"]
    with engine.begin() as c:
        c.execute(text("UPDATE board_log SET at = '2020-01-01' WHERE seq = 3"))
    assert board.verify(gm_db)["first_bad_entry"] == 3
    with engine.begin() as c:
        c.execute(text("UPDATE board_log SET at = '2017-03-01' WHERE seq = 3"))
        c.execute(text("UPDATE entries SET decision = NULL WHERE key = 'board:P-0001:1'"))
    result = board.verify(gm_db)
    assert not result["ok"] and not result["ledger_links_ok"]
    with engine.begin() as c:
        c.execute(text("DELETE FROM board_log WHERE seq = (SELECT max(seq) FROM board_log)"))
    assert not board.verify(gm_db)["ok"]
    b.dispose()


def test_the_log_exports_as_csv_and_html_with_its_head_hash(gm_db):
    p = board.propose(gm_db, fund(), on=ON, effect_runs=20)
    cast(gm_db, p["id"], yes=COUNCILS + NHS)
    board.close(gm_db, p["id"], on=ON)
    csv_text, summary = board.export_log(gm_db, "csv")
    assert csv_text.splitlines()[0].startswith("id,kind,title") and "P-0001" in csv_text
    assert f"head_hash={summary['head_hash']}" in csv_text
    html_text, _ = board.export_log(gm_db, "html")
    assert "<table>" in html_text and summary["head_hash"] in html_text
    with pytest.raises(GovernanceError, match="csv or html"):
        board.export_log(gm_db, "pdf")


def test_adopted_parameter_changes_run_as_a_forecast_scenario(gm_db, tmp_path):
    import yaml

    from devolve.packs.scenarios import read_scenario
    from devolve.services.forecast import run_forecast
    change = {"kind": "change_parameter", "title": "Raise efficiencies", "proposer": "ca-greater-manchester",
              "changes": [{"path": "forecast.plan_efficiencies", "from": "2017/18", "value": 0.05, "note": "stretch"}]}
    p = board.propose(gm_db, change, on=ON, effect_runs=20)
    cast(gm_db, p["id"], yes=COUNCILS + NHS + OTHERS)
    board.close(gm_db, p["id"], on=ON)
    board.enact(gm_db, p["id"], on=ON)
    path = tmp_path / "board.yaml"
    path.write_text(yaml.safe_dump(board.adopted_scenario(gm_db)))
    scenario = read_scenario(path)
    assert [(c.path, c.value) for c in scenario.changes] == [("forecast.plan_efficiencies", 0.05)]
    assert run_forecast("greater-manchester-2016", scenario=path, runs=20).to_json()["scenario"] == "board-adopted"
