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
        if path == "(document)":
            return self.lines.get("")
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
    next_start = reader.line_num + 1  # a quoted value may span lines: report the line a row starts on
    try:
        for record in reader:
            line, next_start = next_start, reader.line_num + 1
            if not record or all(not cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                raise PackError(Problem(name, "(row)", f"{len(header)} values, one per column",
                                        f"{len(record)} values", line))
            rows.append(Row(name, line, {h: cell.strip() for h, cell in zip(header, record)}))
    except csv.Error as exc:
        raise PackError(Problem(name, "(row)", "well-formed CSV", str(exc), next_start)) from None
    return rows


# Tags a pack may use (those YAML resolves by itself for plain values, lists and mappings); any other tag
# (!!python/..., !!binary, !custom) is refused rather than constructed.
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}"
               for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")}


def _check_tag(node: yaml.Node, path: str) -> None:
    if node.tag not in _PLAIN_TAGS:
        raise PackError(Problem("", path or "(document)", "a plain value (no YAML tag)",
                                f"a value tagged {node.tag.replace('tag:yaml.org,2002:', '!!')}",
                                node.start_mark.line + 1))


_SAFE = yaml.constructor.SafeConstructor()
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed: the same nodes, much faster


def _scalar(node: yaml.ScalarNode, path: str) -> Any:
    _check_tag(node, path)
    try:  # the safe loader's own constructor for the resolved tag (no re-parsing, no cache kept)
        value = _SAFE.yaml_constructors[node.tag](_SAFE, node)
    except (yaml.YAMLError, ValueError, OverflowError):
        return node.value  # e.g. 2016-13-01 looks like a date but is none: the field reader says so
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _node_to_python(node: yaml.Node, path: str, lines: dict[str, int],
                    done: dict[int, Any] | None = None, open_: set[int] | None = None) -> Any:
    """Plain Python data from a composed node, noting the line of every key path.

    An alias is converted once (so alias chains cannot blow up); an alias inside its own anchor is refused.
    """
    done = {} if done is None else done
    open_ = set() if open_ is None else open_
    lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in open_:
        raise PackError(Problem("", path or "(document)", "values that do not contain themselves",
                                "an alias (*name) inside its own anchor (&name)", node.start_mark.line + 1))
    if id(node) in done:
        return done[id(node)]
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node, path)
    _check_tag(node, path)  # a list or mapping tagged !!python/object/apply:… is refused, not read as plain data
    open_.add(id(node))
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise PackError(Problem("", path or "(document)", "a plain key (a name or a number)",
                                        "a list or mapping used as a key", key_node.start_mark.line + 1))
            key = key_node.value
            child = f"{path}.{key}" if path else str(key)
            if key in result:
                raise PackError(Problem("", child, "each key once", "a key given twice", key_node.start_mark.line + 1))
            lines[child] = key_node.start_mark.line + 1
            result[key] = _node_to_python(value_node, child, lines, done, open_)
    else:
        result = [_node_to_python(item, f"{path}.{i}" if path else str(i), lines, done, open_)
                  for i, item in enumerate(node.value)]
    open_.discard(id(node))
    done[id(node)] = result
    return result


def read_yaml(pack: Path, name: str, *, required: bool = True) -> YamlDoc | None:
    path = pack / name
    if not path.is_file():
        if not required:
            return None
        raise PackError(Problem(name, "(file)", f"a file {name} in the pack", "no such file"), pack)
    text = _decode(path, name)
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except RecursionError:
        raise PackError(Problem(name, "(syntax)", "YAML nested a few levels deep",
                                "lists or mappings nested too deeply to read")) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        found = str(getattr(exc, "problem", exc))
        if mark is not None and text[mark.index:mark.index + 1] == "\t":
            found += " (a tab: indent with spaces)"
        raise PackError(Problem(name, "(syntax)", "valid YAML", found, mark.line + 1 if mark else None)) from None
    lines: dict[str, int] = {}
    if node is None:
        return YamlDoc(name, {}, lines)
    try:
        data = _node_to_python(node, "", lines)
    except RecursionError:
        raise PackError(Problem(name, "(syntax)", "YAML nested a few levels deep",
                                "lists or mappings nested too deeply to read")) from None
    except PackError as exc:
        p = exc.problem
        raise PackError(Problem(name, p.field, p.expected, p.found, p.line)) from None
    return YamlDoc(name, data, lines)
