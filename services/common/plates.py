"""Plate text as every service stores, compares and searches it."""

from __future__ import annotations

import re

_NOT_PLATE_CHAR = re.compile(r"[^A-Z0-9]")


def normalise_plate(text: str) -> str:
    """Upper case letters and digits only: "jlm-7605 " -> "JLM7605"."""
    return _NOT_PLATE_CHAR.sub("", text.upper())
