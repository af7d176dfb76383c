"""Scenario files: a reform or a what-if as data — a list of dated parameter changes.

A scenario file is YAML, either a list of changes or a mapping with ``name``, ``description`` and
``changes``. Each change names a parameter ``path``, the date it takes effect (``from``: a date
such as ``2017-04-01`` or a financial year such as ``2017/18``, meaning its 1 April; default the
deal's start), the new ``value`` and an optional ``note``::

    name: faster-pace
    description: Nobody more than 2% under target, at the price of larger cash cuts
    changes:
      - path: allocation.pace_of_change.max_under_target
        value: 0.02
      - path: allocation.pace_of_change.min_growth
        from: 2018/19
        value: -0.02
        note: agreed by the board in March 2018

:func:`read_scenario` checks the file's shape (file, line, field, expected, found);
:func:`apply_scenario` checks each change against the deal (the parameter exists, the date falls in
the deal's years, the value suits the parameter's unit) and returns the deal with the changes in
force. Nothing is changed when anything is wrong.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from devolve.domain.errors import PackError, ScenarioError
from devolve.domain.periods import FinancialYear
from devolve.domain.records import Deal
from devolve.domain.scenario import ParameterChange, Scenario
from devolve.packs import fields as f
from devolve.packs.files import YamlDoc, read_yaml

CHANGE_KEYS = ("path", "from", "value", "note")
NUMERIC_LIMIT = 1e12


def _start(value, fail) -> date | None:
    if value is None:
        return None
    text = str(value).strip()
    if "/" in text or (len(text) == 7 and text[4] == "-"):
        return f.financial_year(text, fail).start
    return f.iso_date(value, fail)


def read_change(doc: YamlDoc, item, at: str, default_start: date | None) -> ParameterChange:
    """One parameter change (``path``, ``from``, ``value``, ``note``) at key path ``at`` of ``doc``."""
    fail = lambda key: (lambda expected, found: doc.fail(f"{at}.{key}" if key else at, expected, found))  # noqa: E731
    item = f.mapping(item, fail(""))
    unknown = sorted(set(item) - set(CHANGE_KEYS))
    if unknown:
        raise doc.fail(f"{at}.{unknown[0]}", f"only the keys {', '.join(CHANGE_KEYS)}", f.show(unknown[0]))
    path = f.text(item.get("path"), fail("path"))
    start = _start(item.get("from"), fail("from")) or default_start
    if start is None:
        raise doc.fail(f"{at}.from", "the date the change takes effect (e.g. 2017-04-01 or 2017/18)", "nothing")
    if "value" not in item:
        raise doc.fail(f"{at}.value", "the new value (a number, true/false or text)", "nothing")
    value = item["value"]
    if isinstance(value, (dict, list)):
        raise doc.fail(f"{at}.value", "a single value (a number, true/false or text)", f.show(value))
    note = f.text(item.get("note", ""), fail("note"), allow_empty=True)
    return ParameterChange(path, start, value, note)


def read_scenario(path: str | Path, *, default_start: date | None = None) -> Scenario:
    """The scenario in ``path``. Raises :class:`ScenarioError` naming the file, line and field."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ScenarioError(f"scenario file {file} does not exist")
    try:
        doc = read_yaml(file.parent, file.name)
        data = doc.data
        name, description, changes, prefix = file.stem, "", data, ""
        if isinstance(data, dict):
            unknown = sorted(set(data) - {"name", "description", "changes"})
            if unknown:
                raise doc.fail(unknown[0], "only name, description and changes", f.show(unknown[0]))
            name = f.text(data.get("name", file.stem), lambda e, x: doc.fail("name", e, x))
            description = f.text(data.get("description", ""), lambda e, x: doc.fail("description", e, x),
                                 allow_empty=True)
            changes, prefix = data.get("changes"), "changes."
        items = f.sequence(changes, lambda e, x: doc.fail(prefix.rstrip(".") or "(document)", e, x))
        if not items:
            raise doc.fail(prefix.rstrip(".") or "(document)", "at least one parameter change", "none")
        parsed = tuple(read_change(doc, item, f"{prefix}{i}", default_start) for i, item in enumerate(items))
    except PackError as exc:
        raise ScenarioError(f"scenario {exc}") from None
    return Scenario(name, parsed, description)


def scenario_file(deal: Deal, ref: str | Path) -> Path:
    """A scenario file path, or the name of one of the deal pack's scenarios (``scenarios/NAME.yaml``)."""
    path = Path(ref).expanduser()
    if path.is_file():
        return path
    folder = Path(deal.pack_path) / "scenarios"
    named = folder / f"{ref}.yaml"
    if isinstance(ref, str) and "/" not in ref and named.is_file():
        return named
    known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml"))) if folder.is_dir() else ""
    raise ScenarioError(f"scenario '{ref}' is neither a file nor a scenario of {deal.id}"
                        + (f" (its scenarios: {known})" if known else ""))


def _checked_value(change: ParameterChange, unit: str, scenario: str):
    value = change.value
    where = f"scenario '{scenario}' sets '{change.path}'"
    if value is None:
        return None
    if unit == "bool":
        if not isinstance(value, bool):
            raise ScenarioError(f"{where} to {value!r}, but it takes true or false")
        return value
    if unit == "text":
        if not isinstance(value, str) or not value.strip():
            raise ScenarioError(f"{where} to {value!r}, but it takes a non-empty text")
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(str(value).replace(",", ""))
        except ValueError:
            raise ScenarioError(f"{where} to {value!r}, but it takes a number ({unit})") from None
    if value != value or abs(value) > NUMERIC_LIMIT:
        raise ScenarioError(f"{where} to {value!r}, which is not a usable number ({unit})")
    return value


def apply_scenario(deal: Deal, scenario: Scenario | None) -> Deal:
    """``deal`` with ``scenario``'s changes in force (the same deal for the baseline).

    Raises :class:`ScenarioError` for an unknown parameter, a date outside the deal's years or a
    value of the wrong kind for the parameter's unit.
    """
    if scenario is None or scenario.is_baseline:
        return deal
    checked = []
    for change in scenario.changes:
        parameter = deal.parameters.get(change.path)
        if parameter is None:
            raise ScenarioError(f"scenario '{scenario.name}' changes '{change.path}', which is not a parameter of "
                                f"{deal.id} (see `devolve deals show {deal.id} --parameters`)")
        checked.append(replace(change, value=_checked_value(change, parameter.unit, scenario.name)))
    first = FinancialYear.containing(deal.start).start
    applied = Scenario(scenario.name, tuple(checked), scenario.description).apply(
        deal.parameters, first=first, last=deal.end)
    return replace(deal, parameters=applied)
