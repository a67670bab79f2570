"""Operator YAML files beside the catalog (discounts, taxes): read, locate, report by line.

The catalog loader's machinery does the work (field lines, pydantic errors as problems,
`file:line: field: message` rendering); this adds the reading and the error type around it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import TypeAdapter

from agents.catalog.lines import FieldPath, LocatedDocument, Problem, parse_located
from agents.catalog.loader import _parse, _render
from core.errors import InvalidInput

T = TypeVar("T")


class ConfigFileError(InvalidInput):
    """A configuration file is malformed; `problems` lists each as `file:line: field: message`."""

    def __init__(self, what: str, source: str, problems: list[str], *, code: str) -> None:
        super().__init__(f"{what} {source} is invalid: " + "; ".join(problems), code=code)
        self.problems = problems


class LocatedFile:
    """One YAML file being validated: its data, where each field sits, the problems so far."""

    def __init__(self, text: str, source: str, *, what: str, code: str) -> None:
        self.source, self._what, self._code = source, what, code
        try:
            self.document: LocatedDocument = parse_located(text)
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark else 1
            raise self._error([f"{source}:{line}: not valid YAML: {exc.problem}"]) from exc
        except yaml.YAMLError as exc:
            raise self._error([f"{source}: not valid YAML: {exc}"]) from exc
        self.problems: list[Problem] = list(self.document.duplicates)

    @classmethod
    def read(cls, path: Path, *, what: str, code: str) -> LocatedFile:
        try:
            text = path.read_text()
        except OSError as exc:
            reason = exc.strerror or exc
            problem = f"{path}: cannot read: {reason}"
            raise ConfigFileError(what, str(path), [problem], code=code) from exc
        return cls(text, str(path), what=what, code=code)

    @property
    def data(self) -> Any:
        return self.document.data

    def parse(self, adapter: TypeAdapter[T], raw: Any, path: FieldPath) -> T | None:
        """`raw` validated as `adapter`'s type; None (and problems recorded) when invalid."""
        return _parse(adapter, raw, path, self.problems)

    def line_of(self, path: FieldPath) -> int:
        return self.document.line_of(path)

    def raise_if_problems(self) -> None:
        if self.problems:
            raise self._error(_render(self.source, self.document, self.problems))

    def _error(self, problems: list[str]) -> ConfigFileError:
        return ConfigFileError(self._what, self.source, problems, code=self._code)
