"""Publishing the books: the journal (CSV or an Excel workbook) and a Fiscal Data Package.

Every export carries the whole journal with each entry's chain hash, so anyone can recompute the
chain from the file alone (:func:`verify_journal`, or ``devolve ledger verify --file``) and compare
its head hash with the one the host partner published.

The Fiscal Data Package (Open Knowledge's FDP 0.3: ``datapackage.json`` + CSV) has one row per
year × budget line with four measures in pounds, one per budget phase:

* ``proposed`` — the deal's five-year fixed budget for the year (pooled budget + transformation
  fund), on one row per year for the pool as a whole;
* ``approved`` — budgets set by ``budget`` transactions;
* ``adjusted`` — the line's budget after virements and any other changes;
* ``executed`` — actual spending (payments and accruals).

Computing rows (pure) and writing files are separate; files are written to a temporary name and
moved into place, so a failed export leaves nothing half-written.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from devolve.domain.errors import InputError
from devolve.ledger.hashing import Verification, body_dict, canonical, verify_chain
from devolve.ledger.parsing import cell, parse_pence
from devolve.ledger.records import TRANSACTION_KINDS, Account, BookRules, Entry, Transaction, year_end, year_start

JOURNAL_COLUMNS = ("seq", "kind", "key", "date", "year", "period", "partner", "reference", "decision",
                   "description", "reverses", "account", "debit", "credit", "payload", "hash")
BUDGET_COLUMNS = ("fiscal_year", "fiscal_year_start", "line", "setting", "service_line", "scheme", "district",
                  "district_name", "neighbourhood", "proposed", "approved", "adjusted", "executed")
PHASES = ("proposed", "approved", "adjusted", "executed")
PAYLOAD_CHUNK = 30_000


def pounds(pence: int | None) -> str:
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"


def journal_rows(stored: Iterable[tuple[int, str, Entry]]) -> Iterator[list]:
    """One row per posting (transactions) or per entry (openings, cost returns, closes)."""
    for seq, hash_, entry in stored:
        if isinstance(entry, Transaction):
            t = entry
            for p in t.postings:
                yield [seq, t.kind, t.key, t.date.isoformat(), t.year, t.period, t.partner or "", t.reference,
                       t.decision or "", t.description, "" if t.reverses is None else t.reverses, p.account,
                       pounds(p.amount) if p.amount > 0 else "", pounds(-p.amount) if p.amount < 0 else "", "",
                       hash_]
        else:
            body = body_dict(seq, entry)
            text = canonical(body)
            for start in range(0, len(text), PAYLOAD_CHUNK):      # spreadsheet cells hold 32,767 characters
                yield [seq, body["kind"], body["key"], "", body.get("year") or "", body.get("period") or "", "", "",
                       "", "", "", "", "", "", text[start:start + PAYLOAD_CHUNK], hash_]


def _body_from_rows(rows: list[dict]) -> tuple[int, str]:
    first = rows[0]
    seq = int(first["seq"])
    if first["kind"] not in TRANSACTION_KINDS:
        return seq, "".join(r["payload"] for r in rows)
    postings = []
    for r in rows:
        debit, credit = r["debit"], r["credit"]
        postings.append([r["account"], parse_pence(debit, "debit") if debit else -parse_pence(credit, "credit")])
    body = {"date": first["date"], "decision": first["decision"] or None, "description": first["description"],
            "key": first["key"], "kind": first["kind"], "partner": first["partner"] or None,
            "period": int(first["period"]), "postings": postings, "reference": first["reference"],
            "reverses": int(first["reverses"]) if first["reverses"] else None, "seq": seq, "year": first["year"]}
    return seq, canonical(body)


def verify_journal(rows: Iterable[Mapping[str, Any]], published_head: str | None = None) -> Verification:
    """Recompute the chain of an exported journal; the head is the last entry's stored hash."""
    def grouped() -> Iterator[tuple[int, str, str]]:
        group: list[dict] = []
        for raw in rows:
            row = {k: cell(raw.get(k)) for k in JOURNAL_COLUMNS}
            if group and row["seq"] != group[0]["seq"]:
                seq, text = _body_from_rows(group)
                yield seq, text, group[0]["hash"]
                group = []
            group.append(row)
        if group:
            seq, text = _body_from_rows(group)
            yield seq, text, group[0]["hash"]
    try:
        return verify_chain(grouped(), expect_hash=published_head)
    except (ValueError, KeyError, InputError) as exc:
        raise InputError(f"the file is not a devolve journal export: {exc}") from None


def read_journal(path: str | Path) -> tuple[Iterator[dict], str | None]:
    """The journal rows of an export (CSV, Excel or Fiscal Data Package) and its published head hash."""
    path = Path(path)
    if path.is_dir() or path.name == "datapackage.json":
        folder = path if path.is_dir() else path.parent
        descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
        head = descriptor.get("devolve", {}).get("head_hash")
        return _csv_dicts(folder / "journal.csv"), head
    if path.suffix.lower() == ".csv":
        return _csv_dicts(path), None
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        if "journal" not in book.sheetnames:
            raise InputError(f"{path.name} has no 'journal' sheet: it is not a devolve books export")
        rows = book["journal"].iter_rows(values_only=True)
        header = [str(h) for h in next(rows)]
        about = {r[0]: r[1] for r in book["about"].iter_rows(values_only=True)} if "about" in book.sheetnames else {}
        return (dict(zip(header, r)) for r in rows), about.get("head_hash")
    raise InputError(f"{path.name}: expected a .csv or .xlsx export, or a Fiscal Data Package folder")


def _csv_dicts(path: Path) -> Iterator[dict]:
    if not path.is_file():
        raise InputError(f"{path} does not exist")

    def rows() -> Iterator[dict]:
        csv.field_size_limit(max(csv.field_size_limit(), 16 * PAYLOAD_CHUNK))
        with path.open(newline="", encoding="utf-8") as handle:
            yield from csv.DictReader(handle)
    return rows()


def fiscal_rows(rules: BookRules, chart: Mapping[str, Account], balance_rows: Iterable[tuple[str, str, int]],
                approved: Mapping[tuple[str, str], int], year: str | None = None) -> list[list]:
    """The Fiscal Data Package rows: a pool row per year (proposed) and one row per year × budget line."""
    moves: dict[tuple[str, str], int] = {}
    for account, y, pence in balance_rows:
        moves[(account, y)] = moves.get((account, y), 0) + pence
    lines = {a.line: a for a in chart.values() if a.role == "budget"}
    out = []
    for y in rules.years:
        if year is not None and y != year:
            continue
        start = year_start(y).year
        proposed = rules.pooled_budget.get(y, 0) + rules.transformation_fund.get(y, 0)
        out.append([y, start, "(pool)", "", "", "", "", "", "", pounds(proposed), "", "", ""])
        for line, a in sorted(lines.items()):
            adjusted = moves.get((f"Budget:{line}", y), 0)
            executed = moves.get((f"Expenses:{line}", y), 0)
            ok = approved.get((line, y), 0)
            if not (adjusted or executed or ok):
                continue
            out.append([y, start, line, rules.service_lines.get(a.service or "", "scheme" if a.scheme else ""),
                        a.service or "", a.scheme or "", a.district or "", rules.districts.get(a.district or "", ""),
                        a.neighbourhood or "", "", pounds(ok), pounds(adjusted), pounds(executed)])
    return out


def datapackage(rules: BookRules, head: tuple[int, str]) -> dict[str, Any]:
    string = ("fiscal_year", "line", "setting", "service_line", "scheme", "district", "district_name", "neighbourhood")
    fields = [{"name": c, "type": "string" if c in string else "integer" if c == "fiscal_year_start" else "number"}
              for c in BUDGET_COLUMNS]
    measures = {p: {"source": p, "currency": "GBP", "factor": 1, "direction": "expenditure", "phase": p,
                    "resource": "budget"} for p in PHASES}
    return {
        "name": f"{rules.deal_id}-pooled-fund", "title": f"{rules.deal_name}: the pooled fund's budget and spending",
        "description": ("Published by devolve from the pooled fund's books. Anything the deal pack marks "
                        "synthetic is synthetic here too (see devolve.synthetic)."),
        "profile": "tabular-data-package", "profiles": {"fiscal": "*", "tabular": "*"}, "countryCode": "gb",
        "granularity": "aggregated",
        "fiscalPeriod": {"start": year_start(rules.years[0]).isoformat(), "end": year_end(rules.years[-1]).isoformat()},
        "resources": [
            {"name": "budget", "path": "budget.csv", "format": "csv", "mediatype": "text/csv",
             "schema": {"fields": fields}},
            {"name": "journal", "path": "journal.csv", "format": "csv", "mediatype": "text/csv",
             "schema": {"fields": [{"name": c, "type": "string"} for c in JOURNAL_COLUMNS]}},
        ],
        "model": {
            "measures": measures,
            "dimensions": {
                "fiscal-year": {"dimensionType": "datetime", "primaryKey": "fiscal_year",
                                "attributes": {"fiscal_year": {"source": "fiscal_year", "resource": "budget"}}},
                "function": {"dimensionType": "classification", "classificationType": "functional",
                             "primaryKey": ["setting", "service_line"],
                             "attributes": {"setting": {"source": "setting", "resource": "budget"},
                                            "service_line": {"source": "service_line", "parent": "setting",
                                                             "resource": "budget"}}},
                "place": {"dimensionType": "location", "primaryKey": ["district", "neighbourhood"],
                          "attributes": {"district": {"source": "district", "resource": "budget"},
                                         "district_name": {"source": "district_name", "labelfor": "district",
                                                           "resource": "budget"},
                                         "neighbourhood": {"source": "neighbourhood", "parent": "district",
                                                           "resource": "budget"}}},
                "activity": {"dimensionType": "activity", "primaryKey": "scheme",
                             "attributes": {"scheme": {"source": "scheme", "resource": "budget"}}},
                "budget-line": {"dimensionType": "fact", "primaryKey": "line",
                                "attributes": {"line": {"source": "line", "resource": "budget"}}},
            },
        },
        "devolve": {"deal": rules.deal_id, "entries": head[0], "head_hash": head[1],
                    "host_partner": rules.host_partner, "pool_manager": rules.pool_manager,
                    "verify": "devolve ledger verify --file <this folder>", "synthetic": list(rules.synthetic)},
    }


def _replace_file(path: Path, write) -> None:
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"the folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(path: str | Path, header: Iterable[str], rows: Iterable[list]) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(list(header))
            out.writerows(rows)
    _replace_file(Path(path), write)


def write_xlsx(path: str | Path, sheets: Mapping[str, tuple[Iterable[str], Iterable[list]]]) -> None:
    import openpyxl

    def write(tmp: Path) -> None:
        book = openpyxl.Workbook(write_only=True)
        for name, (header, rows) in sheets.items():
            sheet = book.create_sheet(name[:31])
            sheet.append(list(header))
            for row in rows:
                sheet.append(row)
        book.save(tmp)
    _replace_file(Path(path), write)


def write_fiscal_package(folder: str | Path, descriptor: dict, budget_rows: list[list],
                         journal: Iterable[list]) -> None:
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} exists and is not a folder")
    parent = folder.parent
    if not parent.is_dir():
        raise InputError(f"the folder {parent} does not exist")
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=parent))
    try:
        write_csv(tmp / "budget.csv", BUDGET_COLUMNS, budget_rows)
        write_csv(tmp / "journal.csv", JOURNAL_COLUMNS, journal)
        (tmp / "datapackage.json").write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
