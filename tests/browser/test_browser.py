"""The web app in a real browser: sign in, the map, a forecast scenario redrawing its chart, a finance
officer posting, what a public visitor cannot reach, and keyboard access."""

from __future__ import annotations

import re

import pytest
from conftest import screenshot, sign_in

pytestmark = pytest.mark.slow


def chart_title(page, selector: str) -> str:
    return page.locator(f"{selector} .gtitle").first.text_content()


def test_sign_in_and_view_the_neighbourhood_map(page):
    sign_in(page, "analyst")
    assert "Signed in as" in page.locator("header").inner_text()
    page.get_by_role("link", name="Neighbourhoods").click()
    page.wait_for_selector("#neighbourhood-map .js-plotly-plot .choroplethlayer path", timeout=60_000)
    paths = page.locator("#neighbourhood-map .choroplethlayer path").count()
    rows = page.locator("table tbody tr").count()
    assert paths >= rows > 30, "every neighbourhood is drawn and listed"
    screenshot(page, "neighbourhood-map")
    assert not page.console_errors, page.console_errors


def test_a_forecast_scenario_redraws_the_chart(page):
    sign_in(page, "analyst")
    page.goto("/forecast")
    page.wait_for_selector("[data-chart=gap-fan] .gtitle")
    before = chart_title(page, "[data-chart=gap-fan]")
    assert "plan" in before and "500 runs" in before
    page.get_by_label("plan").uncheck()
    page.get_by_label("health-tax").check()
    page.get_by_label("Monte Carlo runs").fill("80")
    page.get_by_role("button", name="Run the forecast").click()
    page.wait_for_url(re.compile(r".*/forecast/runs/\w+"))
    page.wait_for_selector("[data-chart=gap-fan] .gtitle", timeout=120_000)
    after = chart_title(page, "[data-chart=gap-fan]")
    assert "health-tax" in after and "80 runs" in after and after != before
    screenshot(page, "forecast-scenario")
    assert not page.console_errors, page.console_errors


def test_finance_officer_posts_a_transaction(page):
    sign_in(page, "bolton-finance")
    page.goto("/books/post")
    page.get_by_label("Reference key").fill("browser-bolton-1")
    page.get_by_label("Kind").select_option("contribution")
    page.get_by_label("Date").fill("2017-08-01")
    page.get_by_label("Description").fill("August contribution")
    page.get_by_label("Account, line 1").fill("Assets:Pool:Bank")
    page.get_by_label("Debit, line 1").fill("1234.56")
    page.get_by_label("Account, line 2").fill("Income:Pool:Contributions:la-bolton")
    page.get_by_label("Credit, line 2").fill("1234.56")
    page.get_by_role("button", name="Post the transaction").click()
    page.wait_for_selector("text=1 entry added")
    screenshot(page, "finance-posted")
    page.goto("/books/verify")
    assert "✔ verified" in page.locator("main").inner_text().lower()


def test_public_visitors_cannot_reach_unpublished_books(page):
    page.goto("/books")
    assert "five-year position" in page.locator("main").inner_text()
    page.goto("/books/balances")
    assert page.url.endswith("/login?next=%2Fbooks%2Fbalances")
    sign_in(page, "public")
    response = page.goto("/books/balances")
    assert response.status == 403
    assert "You cannot do this" in page.locator("h1").inner_text()
    screenshot(page, "public-denied")
    assert page.get_by_role("link", name="Users").count() == 0


def test_keyboard_users_can_skip_to_the_content(page):
    page.goto("/fair-shares")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    screenshot(page, "fair-shares")


def test_board_member_votes_for_their_seat(page, web_env):
    from webapp_helpers import open_virement
    pid = open_virement(web_env.db_url, "Browser vote: move money to home care")
    sign_in(page, "board")
    page.get_by_role("link", name="Board").click()
    page.get_by_role("link", name=pid).click()
    assert "How do you vote for the seat of la-bolton?" in page.locator("main").inner_text()
    page.get_by_label("Yes").check()
    page.get_by_label("Date of the vote").fill("2017-06-12")
    page.get_by_role("button", name="Cast your vote").click()
    page.wait_for_selector("text=You voted")
    assert "You voted yes for the seat of la-bolton" in page.locator("main").inner_text()
    votes = page.locator("table", has_text="Votes").inner_text()
    assert "la-bolton" in votes and "yes" in votes
    screenshot(page, "board-vote")
    assert not page.console_errors, page.console_errors
