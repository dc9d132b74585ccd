"""The look-alike counts behind formats.swap_prior, counted from labels the test writes."""

from __future__ import annotations

from pathlib import Path

from services.ocr.formats import LOOKALIKE_COUNTS
from services.ocr.training.lookalikes import lookalike_counts, lookalike_pairs, training_labels
from services.ocr.training.split import is_train_file


def test_each_pair_is_counted_by_the_shapes_its_two_spellings_make() -> None:
    counts = lookalike_counts(["ABC1234", "A8C1234", "0SG719", "OSG719", "R820503"])
    # ABC1234's B: only the letter's spelling (LLLDDDD) is a common shape; A8C1234's 8 likewise.
    assert counts["8B"][(0, 1)] == (1, 1)
    # The round glyph where both spellings are common shapes (DLLDDD, LLLDDD): one each way.
    assert counts["0O"][(1, 1)] == (1, 1)
    # The 2s of ABC1234 and R820503: only the digit's spelling a common shape (not R8Z0503).
    assert counts["2Z"][(1, 0)] == (2, 0)
    # Where neither spelling is (A8C1Z34, A8C1234): not counted, swap_prior never asks.
    assert (0, 0) not in counts["2Z"]
    assert set(counts) == set(LOOKALIKE_COUNTS) == set(lookalike_pairs())


def test_only_the_training_split_is_counted(tmp_path: Path) -> None:
    names = [f"xx{i}.png" for i in range(20)]
    rows = [f"{name},ca,7ABC{i:03d}" for i, name in enumerate(names)] + ["yy.png,ca,0"]
    (tmp_path / "groundtruth.csv").write_text("\n".join(rows) + "\n")
    expected = [f"7ABC{i:03d}" for i, name in enumerate(names) if is_train_file(name)]
    assert training_labels(tmp_path) == expected and 0 < len(expected) < len(names)
