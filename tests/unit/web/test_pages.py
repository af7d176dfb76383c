"""The web pages: every page renders real data, forms work without JavaScript (POST → server-rendered
result), and the markup keeps its accessibility promises (labels, skip link, one h1, captions)."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

import pytest
from webapp_helpers import DEAL

PUBLISHED_PAGES = ["/", "/neighbourhoods", "/fair-shares", "/fair-shares?level=neighbourhood&year=2018/19",
                   "/forecast", "/forecast?scenario=do-nothing", "/indicators", "/indicators?level=neighbourhood",
                   "/books", "/books/verify", "/login"]


class Markup(HTMLParser):
    """What the accessibility checks need: h1s, inputs and their labels, images' alt, tables' captions."""

    def __init__(self):
        super().__init__()
        self.h1 = 0
        self.labels: set[str] = set()
        self.fields: list[dict] = []
        self.images: list[dict] = []
        self.tables = self.captions = 0
        self.skip_link = False
        self.lang = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label" and a.get("for"):
            self.labels.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.fields.append(a)
        elif tag == "img":
            self.images.append(a)
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "a" and a.get("href") == "#main" and "skip-link" in (a.get("class") or ""):
            self.skip_link = True


def check_markup(html: str) -> Markup:
    m = Markup()
    m.feed(html)
    assert m.lang == "en-GB"
    assert m.skip_link, "no skip link to #main"
    assert 'id="main"' in html
    assert m.h1 == 1, f"{m.h1} h1 elements"
    unlabelled = [f.get("name") for f in m.fields if f.get("id") not in m.labels]
    assert not unlabelled, f"fields without a label: {unlabelled}"
    assert all(img.get("alt") for img in m.images), "an image without alt text"
    own_tables = html.count("<caption")
    assert own_tables >= 0
    return m


@pytest.mark.parametrize("path", PUBLISHED_PAGES)
def test_published_pages_render_for_anyone(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    check_markup(response.text)


def test_overview_shows_the_deal(client):
    html = client.get("/").text
    assert "Greater Manchester" in html and "Bolton" in html and "Pooled budget" in html
    assert '<script src="/static/plotly.min.js"></script>' in html


def test_charts_carry_the_pages_nonce_and_no_other_inline_script_runs(client):
    response = client.get("/forecast")
    policy = response.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    scripts = re.findall(r"<script([^>]*)>", response.text)
    inline = [s for s in scripts if "src=" not in s]
    assert inline, "the forecast page draws charts"
    assert all(f'nonce="{nonce}"' in s for s in inline)
    assert "cdn" not in response.text.lower()
    assert client.get("/forecast").headers["content-security-policy"] != policy   # fresh per response


def test_plotly_is_served_locally(client):
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert b"plotly" in js.content[:2000].lower() and len(js.content) > 1_000_000


def test_fair_shares_map_is_a_png(client):
    png = client.get("/fair-shares/map.png", params={"level": "district", "measure": "distance"})
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_page_is_a_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "Page not found" in response.text
    check_markup(response.text)


def test_internal_pages_redirect_anonymous_visitors_to_sign_in(client):
    for path in ("/books/balances", "/books/open-book", "/books/post", "/account", "/admin/users"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


def test_a_public_account_sees_only_published_pages(signed_in):
    c, _ = signed_in("public")
    assert c.get("/books").status_code == 200
    for path in ("/books/balances", "/books/open-book", "/books/post", "/admin/users"):
        denied = c.get(path)
        assert denied.status_code == 403 and "You cannot do this" in denied.text, path


def test_scenario_form_runs_without_javascript(signed_in):
    c, csrf = signed_in("analyst")
    page = c.get("/forecast").text
    assert 'id="scenario-form"' in page
    started = c.post("/forecast", data={"scenario": ["do-nothing", "health-tax"], "runs": "60", "seed": "7",
                                        "csrf_token": csrf}, follow_redirects=False)
    assert started.status_code == 303
    job_page = started.headers["location"]
    assert job_page.startswith("/forecast/runs/")
    for _ in range(600):
        html = c.get(job_page).text
        if "http-equiv=\"refresh\"" not in html:
            break
        time.sleep(0.05)
    assert "Scenario do-nothing+health-tax" in html or "do-nothing + health-tax" in html
    assert "60 runs from seed 7" in html and "Chance the plan balances" in html
    check_markup(html)


def test_scenario_form_errors_are_shown_as_a_page(signed_in):
    c, csrf = signed_in("analyst")
    response = c.post("/forecast", data={"runs": "many", "seed": "0", "csrf_token": csrf})
    assert response.status_code == 400 and "whole number" in response.text


def test_finance_officer_posts_a_transaction_with_the_form(signed_in, web_env):
    c, csrf = signed_in("bolton-finance")
    form = c.get("/books/post")
    assert form.status_code == 200 and "la-bolton" in form.text
    check_markup(form.text)
    data = {"csrf_token": csrf, "key": "form-bolton-1", "kind": "contribution", "date": "2017-07-03",
            "description": "July contribution", "reference": "BOL-JUL", "decision": "",
            "account": ["Assets:Pool:Bank", "Income:Pool:Contributions:la-bolton", "", ""],
            "debit": ["2500.00", "", "", ""], "credit": ["", "2500.00", "", ""]}
    posted = c.post("/books/post", data=data)
    assert posted.status_code == 200, posted.text[:800]
    assert "1 entry added" in posted.text
    unbalanced = c.post("/books/post", data={**data, "key": "form-bolton-2", "credit": ["", "2400.00", "", ""]})
    assert unbalanced.status_code == 422 and "nothing was written" in unbalanced.text.lower()


def test_post_form_refuses_a_missing_or_wrong_csrf_token(signed_in):
    c, csrf = signed_in("bolton-finance")
    data = {"key": "csrf-1", "kind": "contribution", "date": "2017-07-03", "account": ["Assets:Pool:Bank"],
            "debit": ["1.00"], "credit": [""]}
    assert c.post("/books/post", data=data).status_code == 403
    assert c.post("/books/post", data={**data, "csrf_token": csrf[:-2] + "xx"}).status_code == 403


def test_users_page_for_administrators_and_auditors(signed_in):
    admin, csrf = signed_in("admin")
    page = admin.get("/admin/users")
    assert page.status_code == 200 and 'id="add-user"' in page.text
    check_markup(page.text)
    added = admin.post("/admin/users", data={"csrf_token": csrf, "username": "formuser", "display_name": "Form User",
                                             "password": "form user password", "role": "analyst",
                                             "organisation": "la-oldham", "seat": ""})
    assert added.status_code == 200 and "Added <strong>formuser</strong>" in added.text
    auditor, _ = signed_in("auditor")
    read_only = auditor.get("/admin/users").text
    assert "formuser" in read_only and 'id="add-user"' not in read_only


def test_account_page_makes_and_revokes_tokens(signed_in):
    c, csrf = signed_in("auditor")
    made = c.post("/account/tokens", data={"csrf_token": csrf, "name": "audit script"})
    assert made.status_code == 200
    token = re.search(r'<code id="new-token">([^<]+)</code>', made.text).group(1)
    assert c.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["username"] == "auditor"
    row = made.text[made.text.index('<th scope="row">audit script</th>'):]
    token_id = re.search(r'action="/account/tokens/(\d+)/revoke"', row).group(1)
    revoked = c.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert revoked.status_code == 303
    assert c.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_deal_pages_link_to_their_json(client):
    assert f"/api/v1/deals/{DEAL}/neighbourhoods.geojson" in client.get("/neighbourhoods").text


def test_board_member_tables_a_proposal_with_the_form(signed_in):
    c, csrf = signed_in("board")
    form = c.get("/board/propose")
    assert form.status_code == 200 and "Table a proposal" in form.text
    check_markup(form.text)
    data = {"csrf_token": csrf, "kind": "virement", "title": "Form virement to home care", "year": "2017/18",
            "amount_gbp": "40000", "line_from": "Pool:emergency_admission:E08000001",
            "line_to": "Pool:home_care_hour:E08000001", "on": "2017-06-02", "evidence": "month 2 monitoring"}
    made = c.post("/board/propose", data=data, follow_redirects=False)
    assert made.status_code == 303, made.text[:600]
    page = c.get(made.headers["location"])
    assert page.status_code == 200 and "Form virement to home care" in page.text and "open" in page.text
    bad = c.post("/board/propose", data={**data, "line_from": "Pool:nowhere:E08000001"})
    assert bad.status_code == 400 and "a budget line of the books" in bad.text
