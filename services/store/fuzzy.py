"""Plate keys that fold together the characters OCR confuses on plates.

`plate_key("SNNYO92") == plate_key("5NNY092") == "5NNY092"`: every look-alike letter becomes
the digit it is mistaken for (O, D, Q -> 0; I, L, T -> 1; Z -> 2; A -> 4; S -> 5; G -> 6; B -> 8).
Stored beside each sighting's plate and indexed, an equality on the key finds a plate however
many of its characters the reader swapped for a look-alike, on PostgreSQL and SQLite alike, at
the cost of an index lookup. What it does not find: a character dropped or added, or swaps
outside these sets (H/W, J/U).
"""

from __future__ import annotations

from services.common.plates import normalise_plate

# Changing these sets changes every stored key: add a migration that recomputes plate_key.
LOOK_ALIKES = {"O": "0", "D": "0", "Q": "0", "I": "1", "L": "1", "T": "1", "Z": "2", "A": "4", "S": "5", "G": "6", "B": "8"}
_FOLD = str.maketrans(LOOK_ALIKES)


def plate_key(plate: str) -> str:
    return normalise_plate(plate).translate(_FOLD)
