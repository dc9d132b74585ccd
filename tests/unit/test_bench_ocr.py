"""The OCR benchmark's summary of its misses (pure logic)."""

from __future__ import annotations

import pytest

from bench.ocr import MISS_KINDS, confusions, miss_kind


@pytest.mark.parametrize(("read", "truth", "kind"), [
    ("", "7ABC123", "nothing read"),
    ("OSG719", "0SG719", "O/0 only"),
    ("AC0MZV", "AC0M7V", "one character misread"),
    ("AC0MZV", "ACOM7V", "one character misread"),  # O/0 aside, Z for 7: still a misread
    ("5853FL", "853FL", "one character more or fewer"),
    ("TA40", "5LTA600", "other"),
    ("THISAREA", "CWM3083", "other"),
])
def test_each_miss_has_one_kind(read: str, truth: str, kind: str) -> None:
    assert miss_kind(read, truth) == kind
    assert kind in MISS_KINDS


def test_confusions_count_the_swapped_characters_of_one_character_misreads() -> None:
    pairs = [("AC0MZV", "AC0M7V"), ("SH0RZX", "SH0R7X"), ("VSG979", "WSG979"), ("OSG719", "0SG719"), ("TA40", "5LTA600")]
    assert confusions(pairs) == {"7>Z": 2, "W>V": 1}
