"""How `cardak submit --wait` shows a read: pure formatting of store messages, no mesh."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from cardak.cli.submit import Submitted, _table
from cardak.v1 import common_pb2, store_pb2


def _row(plate: str, confidence: float, guesses: list[str], others: tuple[str, ...] = ()) -> str:
    read = common_pb2.PlateRead(text=plate, confidence=confidence,
                                candidates=[common_pb2.PlateCandidate(text=t, confidence=0.1) for t in [plate, *guesses]])
    sighting = store_pb2.Sighting(sighting_id="s1", plate=plate, camera_id="gate",
                                  reads=[read, *(common_pb2.PlateRead(text=o, confidence=0.9) for o in others)])
    console = Console(width=200, record=True, color_system=None)
    console.print(_table([Submitted(Path("car.jpg"), "s1", 0.0, 0.3, sighting)]))
    return next(line for line in console.export_text().splitlines() if "car.jpg" in line)


def test_a_doubtful_read_shows_the_next_two_guesses_before_other_cars() -> None:
    row = _row("CK0AJ", 0.13, ["CKOAJ", "CK0AJE", "CKAJE"], others=("6MTP929",))
    assert "CK0AJ (or CKOAJ, CK0AJE) +6MTP929" in row
    assert "CKAJE" not in row


def test_a_confident_read_shows_only_itself() -> None:
    row = _row("7ABC123", 0.98, ["7A8C123"])
    assert "7ABC123" in row and "7A8C123" not in row and "(or" not in row
