"""End-to-end: `devolve optimise` as a user runs it (subprocess)."""

from __future__ import annotations

import json

from conftest import run_cli

GM = "greater-manchester-2016"
CONTRACT = ("objective", "status", "optimality_gap", "fund_gbp", "chosen", "expected_net_benefit_gbp",
            "probability_of_balance", "baseline_probability_of_balance")


def _json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _refused(result, message: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def test_json_contract_and_report(empty_data, tmp_path):
    out = tmp_path / "report"
    payload = _json(run_cli("optimise", GM, "--objective", "balance", "--runs", "60", "--json", "--out", str(out),
                            "--data-dir", str(empty_data)))
    for key in CONTRACT:
        assert key in payload
    assert payload["objective"] == "balance" and payload["status"] == "optimal"
    assert payload["fund_gbp"] == 450_000_000
    assert {"scheme", "scale", "investment_gbp"} <= set(payload["chosen"][0])
    assert payload["probability_of_balance"] >= payload["baseline_probability_of_balance"]
    assert payload["synthetic"] and payload["synthetic_inputs"]
    assert len(payload["frontier"]) >= 9
    for name in ("optimise.html", "optimise.json", "optimise_portfolio.csv", "optimise_comparison.csv",
                 "optimise_frontier.csv"):
        assert (out / name).is_file()
    html = (out / "optimise.html").read_text(encoding="utf-8")
    assert "Efficient frontier" in html and "Synthetic inputs" in html
    assert not list(out.glob("*.part"))


def test_a_smaller_fund_and_the_table(empty_data):
    result = run_cli("optimise", GM, "--fund", "100000000", "--runs", "30", "--no-frontier",
                     "--data-dir", str(empty_data))
    assert result.returncode == 0, result.stderr
    assert "deal's own" in result.stdout and "£100.0m" in result.stdout


def test_bad_objective_is_refused(empty_data):
    _refused(run_cli("optimise", GM, "--objective", "cheapest", "--runs", "5", "--data-dir", str(empty_data)),
             "unknown objective 'cheapest'")


def test_unreachable_target_says_why(empty_data, tmp_path):
    out = tmp_path / "nothing"
    _refused(run_cli("optimise", GM, "--objective", "min-fund", "--target", "0.999", "--runs", "30",
                     "--out", str(out), "--data-dir", str(empty_data)),
             "the target probability of balance constraint binds")
    assert not out.exists()


def test_unknown_scheme_in_candidates_file(empty_data, tmp_path):
    path = tmp_path / "candidates.yaml"
    path.write_text("exclusions:\n  - {schemes: [falls, teleportation]}\n", encoding="utf-8")
    _refused(run_cli("optimise", GM, "--candidates", str(path), "--runs", "5", "--data-dir", str(empty_data)),
             "candidates.yaml, line 2, field 'exclusions.0.schemes.1'")
