"""Which real plate crops the fine-tune may train on; the rest are held out for validation.

bench/ocr.py --split uses the same rule, so figures on trained-on files are never reported
as if they were unseen.
"""

from __future__ import annotations

import zlib


def is_train_file(name: str) -> bool:
    """Deterministic 60/40 split by file name, independent of file order and the seed."""
    return zlib.crc32(name.encode()) % 10 < 6
