"""The JSON API: published data, the books, forecast jobs, accounts — through FastAPI's TestClient."""

from __future__ import annotations

import time

import pytest
from webapp_helpers import DEAL

API = "/api/v1"


def bearer(web_env, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {web_env.tokens[name]}"}


def test_openapi_lists_the_versioned_api(client):
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "devolve"
    paths = set(spec["paths"])
    assert {f"{API}/deals", f"{API}/deals/{{deal_id}}/forecast", f"{API}/deals/{{deal_id}}/forecasts",
            f"{API}/jobs/{{job_id}}", f"{API}/books/verify", f"{API}/books/entries"} <= paths
    assert all(p.startswith(f"{API}/") for p in paths), "pages must stay out of the API's spec"


def test_deals_and_summary(client):
    deals = client.get(f"{API}/deals").json()
    assert DEAL in [d["id"] for d in deals]
    summary = client.get(f"{API}/deals/{DEAL}").json()
    assert summary["id"] == DEAL and summary["population"] > 2_000_000
    assert client.get(f"{API}/deals/no-such-deal").status_code == 422   # not one of the enum's values


def test_neighbourhoods_allocation_indicators_are_published(client):
    n = client.get(f"{API}/deals/{DEAL}/neighbourhoods").json()
    assert n["neighbourhoods"] == len(n["items"]) > 30
    geo = client.get(f"{API}/deals/{DEAL}/neighbourhoods.geojson")
    assert geo.headers["content-type"].startswith("application/geo+json")
    assert len(geo.json()["features"]) == n["neighbourhoods"]
    a = client.get(f"{API}/deals/{DEAL}/allocation", params={"level": "neighbourhood", "year": "2017/18"}).json()
    assert a["year"] == "2017/18" and a["units"] == n["neighbourhoods"]
    assert sum(i["allocation_pence"] for i in a["items"]) == a["pool_pence"]
    bad = client.get(f"{API}/deals/{DEAL}/allocation", params={"year": "1999/00"})
    assert bad.status_code == 400 and "not a year" in bad.json()["detail"]
    ind = client.get(f"{API}/deals/{DEAL}/indicators").json()
    assert ind["level"] == "district" and ind["indicators"]


def test_published_forecast_is_cached(client, web_env):
    first = client.get(f"{API}/deals/{DEAL}/forecast").json()
    assert first["scenario"] == "plan" and first["runs"] == 500
    clock = time.perf_counter()
    again = client.get(f"{API}/deals/{DEAL}/forecast").json()
    assert again == first
    assert time.perf_counter() - clock < 5          # loose: it is served from the cache, not recomputed
    assert client.get(f"{API}/deals/{DEAL}/forecast", params={"scenario": "nope"}).status_code == 400


def test_forecast_job_runs_in_the_background(client, web_env):
    response = client.post(f"{API}/deals/{DEAL}/forecasts", json={"scenarios": ["do-nothing"], "runs": 120, "seed": 3},
                           headers=bearer(web_env, "analyst"))
    assert response.status_code == 202
    job = response.json()
    assert response.headers["location"] == job["links"]["self"]
    assert job["progress"]["total"] == 120
    for _ in range(600):
        job = client.get(job["links"]["self"], headers=bearer(web_env, "analyst")).json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert job["status"] == "done", job
    assert job["progress"] == {"done": 120, "total": 120, "fraction": 1.0}
    result = client.get(job["links"]["result"], headers=bearer(web_env, "analyst")).json()
    assert result["scenario"] == "do-nothing" and result["runs"] == 120 and result["seed"] == 3
    listed = client.get(f"{API}/jobs", headers=bearer(web_env, "auditor")).json()
    assert job["id"] in [j["id"] for j in listed]


def test_forecast_job_refuses_bad_requests_before_running(client, web_env):
    headers = bearer(web_env, "analyst")
    unknown = client.post(f"{API}/deals/{DEAL}/forecasts", json={"scenarios": ["nope"]}, headers=headers)
    assert unknown.status_code == 400 and "not a scenario" in unknown.json()["detail"]
    too_many = client.post(f"{API}/deals/{DEAL}/forecasts", json={"runs": 10**9}, headers=headers)
    assert too_many.status_code == 422
    assert client.get(f"{API}/jobs/0000", headers=headers).status_code == 404


def test_published_books_and_verification(client):
    books = client.get(f"{API}/books").json()
    assert books["debits_pence"] == books["credits_pence"] and books["closed_years"] == ["2016/17"]
    assert "accounts" not in books and "db" not in books      # unpublished detail stays out
    check = client.get(f"{API}/books/verify").json()
    assert check["ok"] is True and check["entries"] == books["entries"]


def test_internal_books_need_a_role(client, web_env):
    assert client.get(f"{API}/books/balances").status_code == 401
    assert client.get(f"{API}/books/balances", headers=bearer(web_env, "public")).status_code == 403
    grouped = client.get(f"{API}/books/balances", params={"by": "partner", "year": "2016/17"},
                         headers=bearer(web_env, "auditor")).json()
    assert grouped["by"] == "partner" and grouped["groups"]
    book = client.get(f"{API}/books/open-book", headers=bearer(web_env, "analyst")).json()
    assert book["providers"]


def contribution(key: str, partner: str, pounds: str = "1000.00") -> dict:
    return {"key": key, "kind": "contribution", "date": "2017-05-02", "partner": partner,
            "description": "test contribution",
            "postings": [{"account": "Assets:Pool:Bank", "debit": pounds},
                         {"account": f"Income:Pool:Contributions:{partner}", "credit": pounds}]}


def test_finance_officer_posts_for_their_own_organisation_only(client, web_env):
    headers = bearer(web_env, "bolton-finance")
    ok = client.post(f"{API}/books/entries", json={"transactions": [contribution("api-bolton-1", "la-bolton")]},
                     headers=headers)
    assert ok.status_code == 201, ok.text
    assert ok.json()["added"] == 1
    retry = client.post(f"{API}/books/entries", json={"transactions": [contribution("api-bolton-1", "la-bolton")]},
                        headers=headers)
    assert retry.status_code == 201 and retry.json()["added"] == 0 and retry.json()["already_in_books"] == 1
    other = client.post(f"{API}/books/entries", json={"transactions": [contribution("api-bury-1", "la-bury")]},
                        headers=headers)
    assert other.status_code == 403 and "la-bolton only" in other.json()["detail"]
    before = client.get(f"{API}/books").json()["entries"]
    unbalanced = contribution("api-bolton-2", "la-bolton")
    unbalanced["postings"][1]["credit"] = "999.00"
    refused = client.post(f"{API}/books/entries", json={"transactions": [unbalanced]}, headers=headers)
    assert refused.status_code == 422 and refused.json()["problems"]
    assert client.get(f"{API}/books").json()["entries"] == before       # nothing written


def test_import_checks_scope_and_rows(client, web_env):
    header = "key,date,kind,partner,reference,decision,description,account,debit,credit\n"
    rows = ("imp-1,2017-06-01,contribution,la-bolton,R1,,June,Assets:Pool:Bank,10.00,\n"
            "imp-1,2017-06-01,contribution,la-bolton,R1,,June,Income:Pool:Contributions:la-bolton,,10.00\n")
    files = {"file": ("june.csv", header + rows, "text/csv")}
    ok = client.post(f"{API}/books/imports", files=files, headers=bearer(web_env, "bolton-finance"))
    assert ok.status_code == 201, ok.text
    assert ok.json()["file"] == "june.csv" and ok.json()["added"] == 1
    theirs = client.post(f"{API}/books/imports", files=files, headers=bearer(web_env, "finance"))
    assert theirs.status_code == 403


def test_close_year_is_for_the_pool_managers_officer(client, web_env):
    other = client.post(f"{API}/books/close-year", json={"year": "2017/18"}, headers=bearer(web_env, "bolton-finance"))
    assert other.status_code == 403 and "pool manager" in other.json()["detail"]
    closed = client.post(f"{API}/books/close-year", json={"year": "2016/17"}, headers=bearer(web_env, "finance"))
    assert closed.status_code == 422 and "closed" in str(closed.json()).lower(), closed.json()


def test_me_and_tokens(client, web_env):
    anonymous = client.get(f"{API}/me").json()
    assert anonymous["role"] == "public" and anonymous["username"] is None and anonymous["via"] == "anonymous"
    me = client.get(f"{API}/me", headers=bearer(web_env, "board")).json()
    assert me["role"] == "board_member" and me["seat"] == "la-bolton" and "vote" in me["permissions"]
    made = client.post(f"{API}/me/tokens", json={"name": "script"}, headers=bearer(web_env, "analyst"))
    assert made.status_code == 201
    secret, token_id = made.json()["token"], made.json()["id"]
    assert client.get(f"{API}/me", headers={"Authorization": f"Bearer {secret}"}).json()["username"] == "analyst"
    assert client.delete(f"{API}/me/tokens/{token_id}", headers=bearer(web_env, "analyst")).status_code == 204
    revoked = client.get(f"{API}/me", headers={"Authorization": f"Bearer {secret}"})
    assert revoked.status_code == 401
    assert client.delete(f"{API}/me/tokens/{token_id}", headers=bearer(web_env, "analyst")).status_code == 404
    assert client.get(f"{API}/me", headers={"Authorization": "Bearer dvl_forged"}).status_code == 401
    assert client.get(f"{API}/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_administrator_adds_and_deactivates_users(client, web_env):
    admin = bearer(web_env, "admin")
    body = {"username": "newbie", "password": "another long password", "role": "board_member",
            "organisation": "la-wigan"}
    made = client.post(f"{API}/users", json=body, headers=admin)
    assert made.status_code == 201 and made.json()["seat"] == "la-wigan"
    assert client.post(f"{API}/users", json=body, headers=admin).status_code == 400          # taken
    weak = client.post(f"{API}/users", json={**body, "username": "weak", "password": "short"}, headers=admin)
    assert weak.status_code == 400 and "12 characters" in weak.json()["detail"]
    stranger = client.post(f"{API}/users", json={**body, "username": "x1", "organisation": "acme"}, headers=admin)
    assert stranger.status_code == 400 and "not a partner" in stranger.json()["detail"]
    off = client.put(f"{API}/users/newbie/active", json={"active": False}, headers=admin)
    assert off.status_code == 200 and off.json()["active"] is False
    assert client.put(f"{API}/users/admin/active", json={"active": False}, headers=admin).status_code == 400
    listed = client.get(f"{API}/users", headers=bearer(web_env, "auditor")).json()
    assert {"newbie", "admin", "auditor"} <= {u["username"] for u in listed}
    assert "password_hash" not in listed[0]


@pytest.mark.parametrize("path", [f"{API}/deals", f"{API}/books", "/api/v1/nope"])
def test_api_errors_and_answers_are_json(client, path):
    response = client.get(path)
    assert response.headers["content-type"].startswith("application/json")


def test_board_member_votes_for_their_own_seat_only(client, web_env):
    from webapp_helpers import open_virement
    pid = open_virement(web_env.db_url, "API vote test")
    voted = client.post(f"{API}/board/proposals/{pid}/votes", json={"choice": "yes", "on": "2017-06-10"},
                        headers=bearer(web_env, "board"))
    assert voted.status_code == 201, voted.text
    assert [(v["member"], v["choice"]) for v in voted.json()["vote_log"]] == [("la-bolton", "yes")]
    again = client.post(f"{API}/board/proposals/{pid}/votes", json={"choice": "no"}, headers=bearer(web_env, "board"))
    assert again.status_code == 400 and "already voted" in again.json()["detail"]
    naming = client.post(f"{API}/board/proposals/{pid}/votes", json={"choice": "no", "member": "nhs-england"},
                         headers=bearer(web_env, "board"))
    assert naming.status_code == 422, "a vote cannot name another seat"
    assert client.post(f"{API}/board/proposals/{pid}/votes", json={"choice": "yes"},
                       headers=bearer(web_env, "admin")).status_code == 403
    closed = client.post(f"{API}/board/proposals/{pid}/close", json={"on": "2017-06-20"},
                         headers=bearer(web_env, "admin"))
    assert closed.status_code == 200 and closed.json()["outcome"] == "lapsed"      # one vote: no quorum
    log = client.get(f"{API}/board/decisions").json()
    assert pid in [d["id"] for d in log]
    assert client.get(f"{API}/board/verify").json()["ok"] is True
