"""Reading a pack's files with their line numbers, so every error can say where it is."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devolve.domain.errors import PackError, Problem


@dataclass(frozen=True)
class Row:
    """One CSV row: its values by column and its line in the file (header = line 1)."""

    file: str
    line: int
    values: dict[str, str]

    def fail(self, field: str, expected: str, found: str) -> PackError:
        return PackError(Problem(self.file, field, expected, found, self.line))


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML file with the line of every key path (``a.b.0.c``)."""

    file: str
    data: Any
    lines: dict[str, int]

    def line_of(self, path: str) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path.rpartition(".")[0]
        return None

    def fail(self, path: str, expected: str, found: str) -> PackError:
        return PackError(Problem(self.file, path, expected, found, self.line_of(path)))


def _decode(path: Path, name: str) -> str:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PackError(Problem(name, "(encoding)", "UTF-8 text",
                                f"a byte 0x{raw[exc.start]:02x} that is not UTF-8 (save the file as UTF-8)",
                                line)) from None
    return text


def read_csv(pack: Path, name: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[Row]:
    """Rows of ``pack/name``; fails on a missing file, a missing column or a ragged row."""
    path = pack / name
    if not path.is_file():
        raise PackError(Problem(name, "(file)", f"a file {name} in the pack", "no such file"), pack)
    text = _decode(path, name)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise PackError(Problem(name, "(header)", "a header row naming the columns", "an empty file", 1)) from None
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise PackError(Problem(name, missing[0], f"a column '{missing[0]}' (columns: {', '.join(required)})",
                                f"columns {', '.join(header) or 'none'}", 1))
    known = set(required) | set(optional)
    unknown = [c for c in header if c not in known]
    if unknown:
        raise PackError(Problem(name, unknown[0], f"one of the columns {', '.join(sorted(known))}",
                                f"an unknown column '{unknown[0]}'", 1))
    if len(set(header)) != len(header):
        duplicate = next(c for c in header if header.count(c) > 1)
        raise PackError(Problem(name, duplicate, "each column once", f"'{duplicate}' twice", 1))
    rows = []
    try:
        for record in reader:
            line = reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                raise PackError(Problem(name, "(row)", f"{len(header)} values, one per column",
                                        f"{len(record)} values", line))
            rows.append(Row(name, line, {h: cell.strip() for h, cell in zip(header, record)}))
    except csv.Error as exc:
        raise PackError(Problem(name, "(row)", "well-formed CSV", str(exc), reader.line_num)) from None
    return rows


def _node_to_python(node: yaml.Node, path: str, lines: dict[str, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node)) if not isinstance(key_node, yaml.ScalarNode) \
                else key_node.value
            child = f"{path}.{key}" if path else str(key)
            if key in result:
                raise PackError(Problem("", child, "each key once", "a key given twice", key_node.start_mark.line + 1))
            lines[child] = key_node.start_mark.line + 1
            result[key] = _node_to_python(value_node, child, lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_node_to_python(item, f"{path}.{i}" if path else str(i), lines)
                for i, item in enumerate(node.value)]
    # Scalars: resolve with the safe loader's rules, but keep dates as ISO text (we parse them).
    value = yaml.safe_load(yaml.serialize(node))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def read_yaml(pack: Path, name: str, *, required: bool = True) -> YamlDoc | None:
    path = pack / name
    if not path.is_file():
        if not required:
            return None
        raise PackError(Problem(name, "(file)", f"a file {name} in the pack", "no such file"), pack)
    text = _decode(path, name)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PackError(Problem(name, "(syntax)", "valid YAML",
                                str(getattr(exc, "problem", exc)), mark.line + 1 if mark else None)) from None
    lines: dict[str, int] = {}
    if node is None:
        return YamlDoc(name, {}, lines)
    try:
        data = _node_to_python(node, "", lines)
    except PackError as exc:
        p = exc.problem
        raise PackError(Problem(name, p.field, p.expected, p.found, p.line)) from None
    return YamlDoc(name, data, lines)
