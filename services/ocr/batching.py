"""One forward pass for the plate lines of every image being read at the same moment.

The worker reads `concurrency` images at once and OcrService.Recognize serves calls beside it.
Each read localises on its own thread (OpenCV releases the GIL) and hands its cropped lines
here. A caller that finds the network idle runs it, on its own thread, for its lines and for
every other read's lines that have queued meanwhile; callers that arrive during a pass wait
and go together in the next. A lone read runs at once on its own thread, as if unbatched; a
busy GPU reads many images per launch. No timer, no added wait, no thread of its own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from services.ocr.recognizer import PlateRecognizer, resize_line


@dataclass(eq=False)  # compared by identity: two reads of the same crops are still two reads
class _Request:
    lines: list[np.ndarray]
    done: bool = False
    out: list[np.ndarray] = field(default_factory=list)
    error: Exception | None = None


class BatchingRecognizer:
    """Thread-safe `logits(crops)`: concurrent callers share forward passes of up to `max_lines` lines.

    Invariant (under the lock): a request is in `_pending` until a runner takes it, and is
    `done` once that runner's pass ends; at most one runner at a time (`_running`).
    """

    def __init__(self, recognizer: PlateRecognizer, max_lines: int) -> None:
        self._recognizer = recognizer
        self._max_lines = max_lines
        self._pending: list[_Request] = []
        self._running = False
        self._changed = threading.Condition()

    def logits(self, crops: list[np.ndarray]) -> list[np.ndarray]:
        """Per crop, (T, 37) log-probs: column 0 blank, then PLATE_ALPHABET."""
        if not crops:
            return []
        request = _Request([resize_line(c) for c in crops])  # on the caller's thread
        with self._changed:
            self._pending.append(request)
            while self._running and not request.done:
                self._changed.wait()
            taken = [] if request.done else self._take(request)  # done: another runner read it
            if taken:
                self._running = True
        if taken:
            self._run(taken)
        if request.error is not None:
            raise request.error
        return request.out

    def _take(self, own: _Request) -> list[_Request]:
        """The runner's own request, then others oldest first while they fit in max_lines."""
        self._pending.remove(own)
        taken, count = [own], len(own.lines)
        while self._pending and count + len(self._pending[0].lines) <= self._max_lines:
            count += len(self._pending[0].lines)
            taken.append(self._pending.pop(0))
        return taken

    def _run(self, taken: list[_Request]) -> None:
        try:
            out = self._recognizer.log_probs([line for r in taken for line in r.lines])
            start = 0
            for r in taken:
                r.out = out[start : start + len(r.lines)]
                start += len(r.lines)
        except Exception as exc:  # every read in the pass fails with it
            for r in taken:
                r.error = exc
        finally:
            with self._changed:
                for r in taken:
                    r.done = True
                self._running = False
                self._changed.notify_all()
