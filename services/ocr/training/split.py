"""Which real plate crops the fine-tune may train on; the rest are held out for validation.

bench/ocr.py --split uses the same rule, so figures on trained-on files are never reported
as if they were unseen.
"""

from __future__ import annotations

import csv
import zlib
from pathlib import Path


def is_train_file(name: str) -> bool:
    """Deterministic 60/40 split by file name, independent of file order and the seed."""
    return zlib.crc32(name.encode()) % 10 < 6


def labelled_crops(plates_dir: Path) -> list[tuple[str, str]]:
    """(file name, plate number) of each crop `plates_dir`/groundtruth.csv labels readably: "0"
    marks an unreadable plate there, and a label outside A-Z0-9 cannot be scored."""
    with open(plates_dir / "groundtruth.csv", newline="", encoding="utf-8-sig") as fh:
        rows = [(row[0], row[2].strip().upper()) for row in csv.reader(fh) if len(row) >= 3]
    return [(name, label) for name, label in rows if label and label != "0" and label.isascii() and label.isalnum()]
