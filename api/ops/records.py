"""Database rows as JSON: every mapped column, encoded (datetimes ISO, dates ISO)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy import inspect


def record(row: Any) -> dict[str, Any]:
    columns = inspect(row).mapper.column_attrs
    return jsonable_encoder({c.key: getattr(row, c.key) for c in columns})


def records(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [record(r) for r in rows]
