"""`devolve board …` end to end: the GM demo's board year (on SQLite and on PostgreSQL), the JSON
contract of `log` and `verify`, a proposal's lifecycle from the command line, and bad input."""

from __future__ import annotations

import json

import pytest
from cli_runner import run_cli
from databases import fresh_pg_database

GM = "greater-manchester-2016"


def _demo_checks(db: str) -> None:
    init = run_cli("ledger", "--db", db, "init", GM, "--demo", "--json")
    assert init.returncode == 0, init.stderr
    seeded = json.loads(init.stdout)["board"]["demo"]
    assert seeded["synthetic"] is True
    log = run_cli("board", "--db", db, "log", "--json")
    assert log.returncode == 0, log.stderr
    decisions = json.loads(log.stdout)
    for d in decisions:
        assert {"id", "kind", "outcome", "enacted", "votes", "ledger_transactions"} <= set(d)
    scheme = next(d for d in decisions if d["kind"] == "fund_scheme")
    assert scheme["outcome"] == "approved" and scheme["enacted"] and scheme["votes"] > 0
    assert "double majority" in scheme["reasons"][0] and len(scheme["ledger_transactions"]) == 1
    virement = next(d for d in decisions if d["kind"] == "virement")
    assert virement["outcome"] == "rejected" and not virement["enacted"] and virement["ledger_transactions"] == []
    verify = json.loads(run_cli("board", "--db", db, "verify", "--json").stdout)
    assert verify["ok"] is True and verify["entries"] > 2 and len(verify["head_hash"]) == 64
    ledger = json.loads(run_cli("ledger", "--db", db, "verify", "--json").stdout)
    assert ledger["ok"] is True
    # the drawdown is in the books, citing the decision; the rejected virement is not
    export = run_cli("ledger", "--db", db, "balance", "--year", "2017/18", "--json")
    accounts = {a["account"]: a["balance_pence"] for a in json.loads(export.stdout)["accounts"]}
    assert accounts[f"Budget:Schemes:{scheme['financial_effect']['scheme']}"] == round(scheme["amount_gbp"] * 100)
    again = run_cli("ledger", "--db", db, "init", GM, "--demo", "--json")          # re-running records nothing new
    assert json.loads(again.stdout)["board"]["demo"]["already_recorded"] is True
    assert json.loads(run_cli("board", "--db", db, "verify", "--json").stdout)["head_hash"] == verify["head_hash"]


@pytest.mark.slow
def test_gm_demo_board_year_on_sqlite(tmp_path):
    _demo_checks(f"sqlite:///{tmp_path / 'gm.db'}")


@pytest.mark.slow
@pytest.mark.postgres
def test_gm_demo_board_year_on_postgresql():
    with fresh_pg_database() as url:
        _demo_checks(url)


@pytest.mark.slow
def test_a_proposal_from_the_command_line(tmp_path):
    db = f"sqlite:///{tmp_path / 'gm.db'}"
    assert run_cli("ledger", "--db", db, "init", GM).returncode == 0
    members = json.loads(run_cli("board", "members", GM, "--json").stdout)
    assert members["voting_rule"] == "double_majority" and len(members["members"]) == 44
    proposal = tmp_path / "falls.yaml"
    proposal.write_text("kind: fund_scheme\ntitle: Fund falls prevention for 2017/18\nproposer: la-wigan\n"
                        "scheme: falls\namounts_gbp: {2017/18: 800000}\ndraft: true\n"
                        "evidence: falls business case (synthetic)\n")
    made = run_cli("board", "--db", db, "propose", str(proposal), "--on", "2017-03-01", "--json")
    assert made.returncode == 0, made.stderr
    pid = json.loads(made.stdout)["id"]
    assert json.loads(made.stdout)["status"] == "draft"
    assert run_cli("board", "--db", db, "open", pid, "--on", "2017-03-02").returncode == 0
    voted = run_cli("board", "--db", db, "vote", pid, "--member", "la-wigan", "--choice", "yes", "--json")
    assert json.loads(voted.stdout)["votes"] == 1
    bad = run_cli("board", "--db", db, "vote", pid, "--member", "the-public", "--choice", "yes")
    assert bad.returncode == 2 and "not a member" in bad.stderr and "Traceback" not in bad.stderr
    # below the £1m delegation limit: an officer may approve it without a vote
    closed = run_cli("board", "--db", db, "close", pid, "--officer", "GM Chief Finance Officer", "--on", "2017-03-03",
                     "--json")
    assert json.loads(closed.stdout)["outcome"] == "approved"
    enacted = json.loads(run_cli("board", "--db", db, "enact", pid, "--on", "2017-04-01", "--json").stdout)
    assert enacted["enacted"] and len(enacted["ledger_transactions"]) == 1
    rejected = run_cli("board", "--db", db, "enact", "P-0099")
    assert rejected.returncode == 2 and "no proposal 'P-0099'" in rejected.stderr
    html = tmp_path / "decisions.html"
    out = run_cli("board", "--db", db, "export", str(html), "--json")
    assert out.returncode == 0 and "<table>" in html.read_text()
    table = run_cli("board", "--db", db, "log")
    assert table.returncode == 0 and pid in table.stdout
    account = json.loads(run_cli("board", "--db", db, "accountability", "--json").stdout)
    falls = next(r for r in account if r["line"] == "Schemes:falls")
    assert falls["decisions"] == [f"{pid} (enacted)"]


def test_board_help_has_examples():
    for command in ("members", "propose", "open", "vote", "close", "enact", "log", "show", "verify", "accountability",
                    "adopted", "export"):
        result = run_cli("board", command, "--help")
        assert result.returncode == 0 and "Example: devolve board" in result.stdout, command
