"""The table of student claims (tests/fixtures/claims/student-claims.yaml), shared by the command-line and browser tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TABLE = Path(__file__).resolve().parent / "fixtures" / "claims" / "student-claims.yaml"
FLAGS = ("of", "wrt", "expect", "symbols", "assume", "layout", "where", "functions", "order")


def student_claims() -> list[dict[str, Any]]:
    rows = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    names = [r["name"] for r in rows]
    assert len(names) == len(set(names)), "claim names must be unique"
    return rows


def flags_of(row: dict[str, Any]) -> dict[str, str]:
    return {k: row[k] for k in FLAGS if k in row}


def command_line(row: dict[str, Any]) -> list[str]:
    """`mcref check` arguments for a row."""
    args = ["check"]
    for key, value in flags_of(row).items():
        args += [f"--{key}", value]
    return args
