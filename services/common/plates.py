"""Plate text as every service stores, compares and searches it."""

from __future__ import annotations

import re

_NOT_PLATE_CHAR = re.compile(r"[^A-Z0-9]")


def normalise_plate(text: str) -> str:
    """Upper case letters and digits only: "jlm-7605 " -> "JLM7605"."""
    return _NOT_PLATE_CHAR.sub("", text.upper())


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance between two plates; with `limit`, limit + 1 as soon as it must exceed it."""
    if limit is not None and abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
