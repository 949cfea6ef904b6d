"""Plain-text tables and JSON for command output."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import click


def one_line(text: str) -> str:
    """Join the non-empty lines of ``text`` with '; ' (pluggy's messages span several lines)."""
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


def format_value(value: Any) -> str:
    """Format a metric or field: floats with 4 significant decimals, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(item) for item in value) or "-"
    return str(value)


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Render rows as left-aligned columns under a header line."""
    cells = [[format_value(cell) for cell in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))

    def line(values: Sequence[str]) -> str:
        padded = [value.ljust(width) for value, width in zip(values, widths, strict=True)]
        return "  ".join(padded).rstrip()

    lines = [line(headers), line(["-" * width for width in widths])]
    lines.extend(line(row) for row in cells)
    return "\n".join(lines)


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    click.echo(render_table(headers, rows))


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def metrics_rows(metrics: Mapping[str, Mapping[str, float]]) -> list[list[Any]]:
    """Turn ``{split: {metric: value}}`` into ``[split, metric, value]`` rows."""
    return [
        [split, name, value] for split, values in metrics.items() for name, value in values.items()
    ]
