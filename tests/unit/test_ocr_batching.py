"""Concurrent reads share recogniser passes and each gets back its own lines' log-probs."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from services.ocr.batching import BatchingRecognizer
from services.ocr.reader import PACKAGED_WEIGHTS
from services.ocr.recognizer import PlateRecognizer, output_length, resize_line
from tests.support import eventually


class _GatedRecognizer:
    """Records each pass; the first pass waits for `release`, so later callers pile up behind it."""

    def __init__(self, fail: bool = False) -> None:
        self.passes: list[list[int]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail = fail

    def log_probs(self, lines: list[np.ndarray]) -> list[np.ndarray]:
        self.passes.append([line.shape[1] for line in lines])
        self.entered.set()
        self.release.wait(10)
        if self.fail:
            raise RuntimeError("CUDA out of memory")
        # One frame per line whose only value is the line's width: callers can tell whose is whose.
        return [np.full((1, 37), float(line.shape[1])) for line in lines]


def _crop(width: int) -> np.ndarray:
    return np.full((64, width), 128, np.uint8)  # IMG_H tall: resize_line keeps the width


def test_callers_waiting_behind_a_pass_share_the_next_one_and_get_their_own_rows() -> None:
    gated = _GatedRecognizer()
    batcher = BatchingRecognizer(gated, max_lines=100)  # type: ignore[arg-type]
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(batcher.logits, [_crop(40)])
        assert gated.entered.wait(10)
        later = [pool.submit(batcher.logits, [_crop(w), _crop(w + 1)]) for w in (60, 80, 100)]
        eventually(lambda: len(batcher._pending) == 3, timeout=10, interval=0.01)
        gated.release.set()
        assert [lp[0, 0] for lp in first.result(10)] == [40]
        for w, future in zip((60, 80, 100), later):
            assert [lp[0, 0] for lp in future.result(10)] == [w, w + 1]
    assert gated.passes[0] == [40]
    assert sorted(gated.passes[1]) == [60, 61, 80, 81, 100, 101]  # one pass for the three waiting reads


def test_a_pass_takes_whole_reads_up_to_max_lines() -> None:
    gated = _GatedRecognizer()
    batcher = BatchingRecognizer(gated, max_lines=4)  # type: ignore[arg-type]
    with ThreadPoolExecutor(4) as pool:
        pool.submit(batcher.logits, [_crop(40)])
        assert gated.entered.wait(10)
        later = [pool.submit(batcher.logits, [_crop(w)] * 3) for w in (60, 80, 100)]
        eventually(lambda: len(batcher._pending) == 3, timeout=10, interval=0.01)
        gated.release.set()
        for future in later:
            future.result(10)
    assert [len(p) for p in gated.passes] == [1, 3, 3, 3]  # 3 + 3 lines would exceed 4


def test_a_failed_pass_raises_in_every_caller_and_the_next_read_still_runs() -> None:
    gated = _GatedRecognizer(fail=True)
    gated.release.set()
    batcher = BatchingRecognizer(gated, max_lines=100)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="out of memory"):
        batcher.logits([_crop(40)])
    gated.fail = False
    assert batcher.logits([_crop(50)])[0][0, 0] == 50
    assert batcher.logits([]) == []


def test_concurrent_reads_match_reading_alone_with_the_shipped_weights() -> None:
    rng = np.random.default_rng(5)
    reads = [[rng.integers(0, 255, (30, int(w)), dtype=np.uint8) for w in rng.integers(60, 200, 4)] for _ in range(6)]
    recognizer = PlateRecognizer(PACKAGED_WEIGHTS)
    alone = [recognizer.logits(crops) for crops in reads]
    batcher = BatchingRecognizer(recognizer, max_lines=32)
    with ThreadPoolExecutor(6) as pool:
        together = list(pool.map(batcher.logits, reads))
    for crops, a, b in zip(reads, alone, together):
        assert [lp.shape[0] for lp in b] == [output_length(resize_line(c).shape[1]) for c in crops]
        for x, y in zip(a, b):
            # Each line is padded to its own width class, whatever else shares its pass.
            np.testing.assert_allclose(x, y, atol=1e-3)
