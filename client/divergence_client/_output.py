"""How the ``divergence`` command prints answers: tables for people, or the API's JSON."""

from __future__ import annotations

from typing import Any, TextIO

from pydantic import BaseModel

__all__ = ["cell", "show", "table"]


def table(rows: list[tuple[str, Any]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {cell(v)}" for k, v in rows)


def cell(value: Any) -> str:
    if isinstance(value, bool):  # before numbers: a bool is an int
        return "yes" if value else "no"
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, list):
        return "[" + ", ".join(cell(v) for v in value) + "]"
    return str(value)


def show(result: BaseModel, as_json: bool, rows: list[tuple[str, Any]], out: TextIO) -> None:
    if as_json:
        out.write(result.model_dump_json(indent=2) + "\n")
    else:
        out.write(table(rows) + "\n")
