"""Parse YAML keeping where each value sits, so an error can name its file line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: the field it concerns and what is wrong."""

    path: FieldPath
    message: str


@dataclass(frozen=True)
class LocatedDocument:
    """The parsed data, the 1-based line of every field path, and duplicate-key problems."""

    data: Any
    lines: dict[FieldPath, int]
    duplicates: list[Problem]

    def line_of(self, path: FieldPath) -> int:
        """The line of `path`, else of its nearest ancestor that exists in the file."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1


def parse_located(text: str) -> LocatedDocument:
    """Compose `text` once: build the data and record lines; raises yaml.YAMLError."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    lines: dict[FieldPath, int] = {}
    duplicates: list[Problem] = []
    if node is not None:
        _record(node, (), lines, duplicates)
    return LocatedDocument(data, lines, duplicates)


def _record(
    node: yaml.Node, path: FieldPath, lines: dict[FieldPath, int], duplicates: list[Problem]
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record(item, (*path, index), lines, duplicates)
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, key_node.value)
            if child in lines:
                duplicates.append(Problem(child, f"duplicate key (first at line {lines[child]})"))
            lines[child] = key_node.start_mark.line + 1  # a key's line, not its value's
            if isinstance(value_node, yaml.MappingNode | yaml.SequenceNode):
                _record(value_node, child, lines, duplicates)


def render_path(path: FieldPath) -> str:
    """`("products", 1, "prices", 0, "unit_amount")` -> `products[1].prices[0].unit_amount`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text
