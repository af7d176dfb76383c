"""Reading transactions, account openings and cost returns from the files finance teams use.

CSV (UTF-8, a header row) and Excel (.xlsx: every sheet whose header is recognised) hold one row per
posting; the rows of one transaction share its ``key`` (the idempotency key)::

    key,date,kind,partner,reference,decision,description,account,debit,credit
    c-001,2016-04-01,contribution,la-bolton,BOL-APR,,April contribution,Assets:Pool:Bank,1000.00,
    c-001,2016-04-01,contribution,la-bolton,BOL-APR,,April contribution,Income:Pool:Contributions:la-bolton,,1000.00

Amounts are pounds with at most two decimals in ``debit``/``credit`` (or a signed ``amount``), or
whole pence in ``amount_pence``; ``year`` (2016/17) and ``period`` (1 = April) may be given and must
agree with ``date``; ``reverses`` names the entry a reversal negates. Rows of kind ``open`` open the
account in ``account`` (e.g. a neighbourhood's budget line). Cost returns have their own columns:
``key, provider, year, period, service_line, district, staff, non_pay, overheads, activity, reference``.
JSON or YAML files (for ``post``) give transactions with nested ``postings``.

Every row is checked before anything is written; problems come back as row-level
:class:`~devolve.domain.errors.Problem`\\ s (file, line, field, expected, found).
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterator
from datetime import date
from operator import itemgetter
from pathlib import Path

from devolve.domain.errors import InputError
from devolve.domain.periods import FinancialYear
from devolve.ledger import accounts as acc
from devolve.ledger.bulk import paused_gc
from devolve.ledger.fast_csv import read_clean_postings
from devolve.ledger.parsing import (
    POSTING_COLUMNS,
    POUNDS,
    ImportRejected,
    ParsedFile,
    Problems,
    cell,
    parse_date,
    parse_pence,
)
from devolve.ledger.records import (
    TRANSACTION_KINDS,
    AccountOpening,
    BookRules,
    CostReturn,
    Entry,
    Posting,
    Transaction,
    period_of,
    year_of,
)
from devolve.ledger.structured import cost_return_from, read_structured

COST_COLUMNS = ("key", "provider", "year", "period", "service_line", "district", "staff", "non_pay", "overheads",
                "activity", "reference")


def read_file(path: str | Path, rules: BookRules, *, fast: bool = True) -> ParsedFile:
    """Read and check a CSV, Excel, JSON or YAML file; raise :class:`ImportRejected` on any problem.

    A big, clean CSV of postings goes through :mod:`.fast_csv` (unless ``fast`` is False); anything
    else, and any file that path declines, is read row by row."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} is not a file")
    suffix = path.suffix.lower()
    if fast and suffix == ".csv":
        with paused_gc():
            parsed = read_clean_postings(path, rules)
        if parsed is not None:
            return parsed
    if suffix in (".json", ".yaml", ".yml"):
        return read_structured(path, rules)
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        raise InputError(f"{path.name}: expected a .csv, .xlsx, .json or .yaml file")
    problems = Problems()
    reader = _Reader(rules, problems)
    tables = _csv_tables if suffix == ".csv" else _excel_tables
    with paused_gc():
        for where, header, rows in tables(path, problems):
            reader.table(where, header, rows)
        entries = reader.entries()
    if not problems and not entries:
        problems.add(path.name, None, "(file)", "at least one row", "(no rows)")
    if problems:
        raise ImportRejected(problems)
    return ParsedFile(str(path), tuple(entries), reader.rows)


def _csv_tables(path: Path, problems: Problems) -> Iterator[tuple[str, list[str], Iterator]]:
    where = path.name
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
        reader = csv.reader(handle, strict=True)
        header = next(reader, None)
    except UnicodeDecodeError as exc:
        problems.add(where, None, "(file)", "UTF-8 text", f"(bytes that are not UTF-8 at byte {exc.start})")
        return
    except csv.Error as exc:
        problems.add(where, 1, "(header)", "a CSV header row", f"(malformed CSV: {exc})")
        return
    if header is None:
        problems.add(where, None, "(file)", "a header row and at least one row", "(an empty file)")
        return

    def rows() -> Iterator[tuple[int, list]]:
        try:
            for row in reader:
                yield reader.line_num, row
        except csv.Error as exc:
            problems.add(where, reader.line_num, "(row)", "well-formed CSV", f"(malformed CSV: {exc})")
        except UnicodeDecodeError as exc:
            problems.add(where, reader.line_num + 1, "(row)", "UTF-8 text", f"(bytes that are not UTF-8: {exc.reason})")

    with handle:
        yield where, header, rows()


def _excel_tables(path: Path, problems: Problems) -> Iterator[tuple[str, list[str], Iterator]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        problems.add(path.name, None, "(file)", "an Excel workbook (.xlsx)", f"(a file Excel cannot open: {exc})")
        return
    try:
        found = False
        for sheet in book.worksheets:
            it = sheet.iter_rows(values_only=True)
            header = next(it, None)
            if header is None or not any(h is not None for h in header):
                continue
            names = [_column(h) for h in header]
            if not set(names) & {"account", "service_line"}:
                continue
            found = True
            yield f"{path.name}[{sheet.title}]", names, ((i, list(r)) for i, r in enumerate(it, start=2))
        if not found:
            problems.add(path.name, None, "(sheet)", "a sheet with a header row naming 'account' (postings) or "
                                                     "'service_line' (cost returns)", "(none)")
    finally:
        book.close()


def _column(name: Any) -> str:
    return str(name or "").strip().lower().replace(" ", "_").replace("-", "_")


HEAD_FIELDS = ("date", "kind", "year", "period", "partner", "reference", "decision", "description", "reverses")


class _Reader:
    """Turns rows into entries, collecting problems; one instance per file."""

    def __init__(self, rules: BookRules, problems: Problems):
        self.rules = rules
        self.problems = problems
        self.groups: dict[str, list] = {}          # key → [head or None, accounts, amounts, kind]
        self.openings: dict[str, list] = {}        # key → accounts opened
        self.costs: list[CostReturn] = []
        self.rows: dict[str, tuple[str, list[int]]] = {}   # key → (where, line of each row)
        self._dates: dict[str, date] = {}
        self._names: dict[str, str] = {}           # account → "" or why it is not an account

    def table(self, where: str, header: list, rows: Iterator) -> None:
        names = [_column(h) for h in header]
        if "service_line" in names:
            self._cost_table(where, names, rows)
            return
        unknown = [n for n in names if n not in POSTING_COLUMNS]
        missing = [n for n in ("key", "date", "kind", "account") if n not in names]
        amounts = [n for n in ("debit", "credit", "amount", "amount_pence") if n in names]
        if unknown or missing or len(names) != len(set(names)):
            self.problems.add(where, 1, "(header)", f"columns from: {', '.join(POSTING_COLUMNS)} (key, date, kind, "
                                                    "account required, each once)", ",".join(names))
            return
        if amounts not in (["debit", "credit"], ["amount"], ["amount_pence"]):
            self.problems.add(where, 1, "(header)", "either debit and credit, or amount, or amount_pence",
                              ",".join(amounts) or "(no amount column)")
            return
        self._posting_rows(where, names, rows, amounts)

    def _posting_rows(self, where: str, names: list[str], rows: Iterator, amounts: list[str]) -> None:
        width = len(names)
        col = {n: i for i, n in enumerate(names)}
        blank = width                                          # a column absent from the file reads as ""
        head_of = itemgetter(*[col.get(n, blank) for n in HEAD_FIELDS])
        ik, ikind, iacc = col["key"], col["kind"], col["account"]
        pair = amounts == ["debit", "credit"]
        idebit, icredit = (col["debit"], col["credit"]) if pair else (col[amounts[0]], None)
        pence_only = amounts == ["amount_pence"]
        pounds = POUNDS.match
        groups, rows_of, names_ok = self.groups, self.rows, self._names
        add = self.problems.add
        for line, raw in rows:
            if len(raw) != width:
                if len(raw) > width and any(cell(v) for v in raw[width:]):
                    add(where, line, "(row)", f"{width} fields", f"({len(raw)} fields)")
                    continue
                raw = (list(raw) + [""] * width)[:width]       # trailing empty fields may be left out
            row = [v.strip() if type(v) is str else cell(v) for v in raw]
            row.append("")
            key = row[ik]
            if not key:
                if any(row):
                    add(where, line, "key", "an idempotency key shared by the rows of one transaction", "")
                continue
            located = rows_of.get(key)
            if located is None:
                rows_of[key] = (where, [line])
            else:
                located[1].append(line)
            kind, account = row[ikind], row[iacc]
            if kind == "open":
                self._open_row(where, line, key, account, row[idebit] + (row[icredit] if pair else ""))
                continue
            if kind not in TRANSACTION_KINDS:
                add(where, line, "kind", f"one of {', '.join(sorted(TRANSACTION_KINDS))} or open", kind)
                continue
            # the amount, in pence (fast path: plain pounds with at most two decimals)
            if pair:
                debit, credit = row[idebit], row[icredit]
                text, sign, column = (debit, 1, "debit") if debit else (credit, -1, "credit")
                if bool(debit) == bool(credit):
                    add(where, line, "debit/credit", "an amount in exactly one of debit and credit",
                        f"({'both' if debit else 'neither'})")
                    text = None
            else:
                text, sign, column = row[idebit], 1, amounts[0]
            pence = None
            if text is not None:
                m = None if pence_only else pounds(text)
                if m is not None and (not pair or not m.group(1)):
                    pence = int(m.group(2)) * 100 + int((m.group(3) or "0").ljust(2, "0"))
                    if m.group(1):
                        pence = -pence
                    pence *= sign
                else:
                    pence = self._slow_amount(where, line, text, column, sign, pair)
                if pence == 0:
                    add(where, line, column, "an amount that is not zero", text)
                    pence = None
            why = names_ok.get(account)
            if why is None:
                why = names_ok[account] = acc.parse_account(account, self.rules)[1]
            if why:
                add(where, line, "account", "an account of the pooled fund's chart", f"({why})")
            head = head_of(row)
            group = groups.get(key)
            if group is None:
                groups[key] = [head if self._header_ok(where, line, head) else None, [account], [pence], kind]
            elif group[0] is not None and group[0] != head:
                column = next(f for f, a, b in zip(HEAD_FIELDS, group[0], head) if a != b)
                add(where, line, column, f"the same {column} on every row of transaction {key}",
                    head[HEAD_FIELDS.index(column)])
                group[0] = None
            else:
                group[1].append(account)
                group[2].append(pence)

    def _slow_amount(self, where: str, line: int, text: str, column: str, sign: int, pair: bool) -> int | None:
        try:
            pence = parse_pence(text, column)
        except InputError as exc:
            expected = ("whole pence" if column.endswith("_pence")
                        else "an amount in pounds with at most two decimals (e.g. 1234.56)")
            reason = str(exc)
            self.problems.add(where, line, column, expected, f"({text!r}: {reason})" if "penny" in reason else text)
            return None
        if pair and pence < 0:
            self.problems.add(where, line, column, "a positive amount (the column gives the side)", text)
            return None
        return pence * sign

    def _header_ok(self, where: str, line: int, head: tuple) -> bool:
        text, kind, year, period, partner = head[:5]
        reverses = head[8]
        day = self._dates.get(text)
        if day is None:
            try:
                day = parse_date(text)
            except ValueError:
                self.problems.add(where, line, "date", "a date as YYYY-MM-DD (or DD/MM/YYYY)", text)
                return False
            self._dates[text] = day
        fy = year_of(day)
        if year and year != fy:
            try:
                same = FinancialYear.parse(year).label == fy
            except InputError:
                same = False
            if not same:
                self.problems.add(where, line, "year", f"{fy}, the financial year of {day.isoformat()}", year)
                return False
        if fy not in self.rules.years:
            self.problems.add(where, line, "year", f"a year of the deal ({self.rules.years[0]} to "
                                                   f"{self.rules.years[-1]})", fy)
            return False
        if period and period not in (str(period_of(day)), f"{period_of(day)}.0"):
            self.problems.add(where, line, "period", f"{period_of(day)} (the period of {day.isoformat()}; April is 1)",
                              period)
            return False
        if partner and partner not in self.rules.partners:
            self.problems.add(where, line, "partner", f"a partner of {self.rules.deal_id}", partner)
            return False
        if reverses and not re.fullmatch(r"\d+", reverses):
            self.problems.add(where, line, "reverses", "the number of the entry this reversal negates", reverses)
            return False
        return True

    def _open_row(self, where: str, line: int, key: str, account: str, amounts: str) -> None:
        if amounts.strip():
            self.problems.add(where, line, "amount", "no amount on an 'open' row", amounts)
            return
        parsed, why = acc.parse_account(account, self.rules)
        if parsed is None:
            self.problems.add(where, line, "account", "an account of the pooled fund's chart", f"({why})")
            return
        if key in self.groups:
            self.problems.add(where, line, "kind", f"the same kind on every row of {key}", "open")
            return
        self.openings.setdefault(key, []).append(parsed)

    def _cost_table(self, where: str, names: list[str], rows: Iterator) -> None:
        unknown = [n for n in names if n not in COST_COLUMNS]
        missing = [n for n in ("key", "provider", "year", "period", "service_line", "staff", "non_pay", "overheads")
                   if n not in names]
        if unknown or missing:
            self.problems.add(where, 1, "(header)", f"columns from: {', '.join(COST_COLUMNS)}", ",".join(names))
            return
        for line, raw in rows:
            if self.problems.full():
                return
            if len(raw) != len(names):
                if any(cell(v) for v in raw):
                    self.problems.add(where, line, "(row)", f"{len(names)} fields", f"({len(raw)} fields)")
                continue
            values = {n: cell(v) for n, v in zip(names, raw)}
            if not any(values.values()):
                continue
            self.rows[values["key"]] = (where, [line])
            cost = cost_return_from(values, self.rules, lambda column, expected, found: self.problems.add(
                where, line, column, expected, found))
            if cost is not None:
                self.costs.append(cost)

    def entries(self) -> list[Entry]:
        """Account openings first, then the transactions in file order, then the cost returns."""
        out: list[Entry] = [AccountOpening(key, tuple(accounts)) for key, accounts in self.openings.items()
                            if key not in self.groups]
        dates, problems = self._dates, self.problems
        for key, (head, accounts, amounts, kind) in self.groups.items():
            if head is None or None in amounts:
                continue
            total = sum(amounts)
            if total or len(amounts) < 2:
                where, lines = self.rows[key]
                problems.add(where, lines[-1], "debit/credit", f"debits equal to credits over the rows of "
                             f"transaction {key} (two rows or more)",
                             f"(debits − credits = {total} pence over {len(amounts)} row(s))")
                continue
            day = dates[head[0]]
            out.append(Transaction(key, kind, day, year_of(day), period_of(day),
                                   tuple(map(Posting, accounts, amounts)), head[4] or None, head[5], head[6] or None,
                                   head[7], int(head[8]) if head[8] else None))
        out.extend(self.costs)
        return out
