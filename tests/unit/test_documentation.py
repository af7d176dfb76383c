"""Docs and help stay true: every command has help with an example; every parameter a unit and a source."""

from __future__ import annotations

import pytest
import typer.main
from typer.testing import CliRunner

from devolve.domain.parameters import UNITS
from devolve.interfaces.cli.main import app
from devolve.packs.loader import builtin_deals, load_deal


def _is_group(command) -> bool:
    return hasattr(command, "commands")


def _commands(group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        path = prefix + (name,)
        yield path, command
        if _is_group(command):
            yield from _commands(command, path)


COMMANDS = list(_commands(typer.main.get_command(app)))


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help_with_an_example(path):
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output, f"`devolve {' '.join(path)} --help` shows no example"


@pytest.mark.parametrize("path", [p for p, c in COMMANDS if not _is_group(c)],
                         ids=[" ".join(p) for p, c in COMMANDS if not _is_group(c)])
def test_every_command_offers_json(path):
    params = {opt for param in dict(COMMANDS)[path].params for opt in getattr(param, "opts", [])}
    assert "--json" in params


@pytest.mark.parametrize("deal_id", builtin_deals())
def test_every_parameter_has_a_known_unit_and_a_source(deal_id, tmp_path):
    deal = load_deal(deal_id, data_dir=tmp_path)
    for path in deal.parameters:
        parameter = deal.parameters[path]
        assert parameter.unit in UNITS, path
        assert parameter.source.strip(), path
        if parameter.source.startswith("synthetic"):
            assert parameter.synthetic, f"{path} says synthetic in its source but is not flagged"
        elif parameter.source in deal.sources:
            assert deal.sources[parameter.source].strip()
