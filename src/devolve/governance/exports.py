"""The decision log as files people can take away: CSV for spreadsheets, HTML to read or publish.
Both carry the log's head hash, so anyone can check a copy against ``devolve board verify``."""

from __future__ import annotations

import csv
import html
import io
from typing import Any

EXPORT_FORMATS = ("csv", "html")
LOG_COLUMNS = ("id", "kind", "title", "proposer", "proposed_on", "status", "outcome", "decided_on", "decided_by",
               "votes", "enacted", "enacted_on", "amount_gbp", "ledger_transactions", "reasons", "evidence")


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _cells(rows: list[dict[str, Any]]) -> list[list[str]]:
    return [[_cell(r[c]) for c in LOG_COLUMNS] for r in rows]


def log_csv(rows: list[dict[str, Any]], check: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(LOG_COLUMNS)
    writer.writerows(_cells(rows))
    writer.writerow([f"# head_hash={check['head_hash']}", f"entries={check['entries']}", f"verified={check['ok']}"])
    return buffer.getvalue()


def log_html(rows: list[dict[str, Any]], check: dict[str, Any]) -> str:
    head = "".join(f"<th scope='col'>{html.escape(c.replace('_', ' '))}</th>" for c in LOG_COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in _cells(rows))
    verified = "yes" if check["ok"] else "NO — " + html.escape(str(check.get("problem")))
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Decision log</title>"
            "<style>body{font-family:Arial,sans-serif;margin:2em;color:#0b0c0c}table{border-collapse:collapse}"
            "th,td{border:1px solid #b1b4b6;padding:.3em .5em;text-align:left;vertical-align:top}</style></head>"
            f"<body><h1>Decision log</h1><p>Entries in the log: {check['entries']}. Head hash: "
            f"<code>{check['head_hash']}</code>. Chain verified: {verified}.</p>"
            f"<table><caption>Every proposal, its outcome and what it enacted</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></body></html>")
