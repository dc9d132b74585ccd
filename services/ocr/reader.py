"""The plate-reading engine: encoded image in, plate reads out (every plate in view, nearest first).

Three stages, timed separately:
  localise   find rows of plate-like characters (services.ocr.localise, OpenCV, tens of ms);
  recognise  read every candidate row in one batch with EasyOCR's recognition network,
             fine-tuned on plates (services.ocr.recognizer);
  post_process  CTC beam search, US plate-shape priors and confusion sets pick the number.
EasyOCR's own text detector (CRAFT) is the fallback when no row reads as a plate: it finds
what the row finder misses, at seconds per photo on a CPU.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from services.common.errors import InvalidRequest
from services.ocr.batching import BatchingRecognizer
from services.ocr.glyphs import PACKAGED_GLYPH_WEIGHTS, GlyphJudge
from services.ocr.localise import UNFENCED, Line, candidate_rows, trimmed, with_glued_edges
from services.ocr.plates import Box, LineRead, PlateResult, most_promising, pick_plates, plate_shaped
from services.ocr.recognizer import PlateRecognizer, choose_device, easyocr_model_dir, stock_english_g2
from services.ocr.region import WordReader, guess_state
from services.ocr.separators import erase_separators
from services.ocr.settings import OcrSettings

log = logging.getLogger("cardak.ocr")

# Shipped with the package: EasyOCR's english_g2 recogniser fine-tuned on plates
# (reproduce with `python -m services.ocr.training.finetune`).
PACKAGED_WEIGHTS = Path(__file__).with_name("weights") / "plate_recognizer.pth"


@dataclass(frozen=True)
class ReadResult:
    plates: list[PlateResult]
    elapsed_ms: float
    # Where the time went: "decode", "localise", "recognise", "post_process" ("fallback", "region").
    stages_ms: dict[str, float] = field(default_factory=dict)


class PlateReader:
    """Loads the recogniser (and, lazily, EasyOCR's detector) from local files; never downloads.

    read() is safe to call from many threads at once: each localises on its own thread and
    their lines share the recogniser's forward passes (services.ocr.batching).
    """

    def __init__(self, settings: OcrSettings) -> None:
        import torch

        _one_malloc_arena()
        threads = settings.torch_threads
        if not threads and settings.worker_processes > 1:
            threads = max(1, (os.cpu_count() or 1) // settings.worker_processes)  # a share each, not all each
        if threads > 0:
            torch.set_num_threads(threads)
        self.device = choose_device(settings.device)
        self._settings = settings
        weights = Path(settings.recognizer_weights) if settings.recognizer_weights else PACKAGED_WEIGHTS
        started = time.perf_counter()
        batch = settings.recognise_batch or (512 if self.device == "cuda" else 32)
        self._recognizer = BatchingRecognizer(PlateRecognizer(weights, device=self.device, batch_size=batch), max_lines=batch)
        self._detector: Any = None  # easyocr.Reader, loaded on first fallback
        self._words = WordReader(str(stock_english_g2()), self.device) if settings.read_region else None
        self._glyphs = GlyphJudge(Path(settings.glyph_weights) if settings.glyph_weights else PACKAGED_GLYPH_WEIGHTS,
                                  device=self.device)
        # The first pass pays for kernel selection and allocation (about a second on a GPU):
        # here, not in the first request.
        self._recognizer.logits([np.full((32, 96), 128, np.uint8)])
        log.info(
            "model loaded",
            extra={"device": self.device, "weights": str(weights), "load_ms": round((time.perf_counter() - started) * 1000)},
        )

    def read(self, image: bytes) -> ReadResult:
        """Plates in an encoded image. InvalidRequest when the bytes do not decode."""
        clock = _Stages()
        # OpenCV asserts on an empty buffer instead of returning None.
        pixels = cv2.imdecode(np.frombuffer(image, dtype=np.uint8), cv2.IMREAD_COLOR) if image else None
        if pixels is None:
            raise InvalidRequest("image could not be decoded")
        grey = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
        clock.mark("decode")
        settings = self._settings
        candidates = candidate_rows(grey)
        lines = candidates.best(settings.max_lines)
        lines += _whole_image_if_plate(grey, lines)
        clock.mark("localise")
        rows = self._read_rows(grey, lines, clock, views=settings.extra_views)
        plates = self._pick(rows, clock)
        if settings.more_lines > settings.max_lines and _unsure(plates, settings.more_lines_below):
            # Nothing read confidently among the rows that looked best: the plate may be a row
            # that looked worse (a band whose characters merged with the frame ranked 29th).
            rows = self._read_rows(grey, candidates.best(settings.more_lines), clock, views=settings.extra_views, known=rows)
            plates = self._pick(rows, clock)
        if _unsure(plates, settings.more_lines_below):
            # Still nothing confident: a short row may have lost its edge characters to the frame.
            found = self._read_looked_again(grey, rows, clock, lambda line: _listed(with_glued_edges(grey, line)))
            # Only a more confident read: a row grown by a bolt or a corner reads worse (L781601).
            plates = found if _more_confident(found, plates) else plates
        if _unsure(plates, settings.more_lines_below) and not (plates and plate_shaped(plates[0].text)):
            # Nor of a plate's shape: a row's box may be taller than its characters (localise.trimmed).
            found = self._read_looked_again(grey, rows, clock, lambda line: [] if line.overlay else trimmed(line))
            # Only a more confident plate shape: cut-down crops of a fence or a grille read 77777 and
            # IIIIII surely, and of a date strip D140514.
            plates = found if _more_confident(found, plates) and plate_shaped(found[0].text) else plates
        if settings.fallback_detector and _unsure(plates, settings.fallback_below):
            lines = [_unranked(box) for box in self._detect_text(pixels)]
            clock.mark("fallback")
            found = self._read_lines(grey, lines, clock)
            plates = found if _more_confident(found, plates) else plates
        if self._words is not None:
            plates = [
                replace(p, region=guess_state(self._words.read(_around(grey, p.box))))
                if p.box.height >= MIN_REGION_NUMBER_HEIGHT else p
                for p in plates
            ]
            clock.mark("region")
        return ReadResult(plates, clock.total_ms, clock.stages_ms)

    def _read_looked_again(self, grey: np.ndarray, rows: list[tuple[Line, LineRead]], clock: "_Stages",
                           look: Callable[[Line], list[Line]]) -> list[PlateResult]:
        """The plates once the LOOK_AGAIN rows that read best are looked at again (`look` gives each
        row's new shapes: grown by glued edge characters, trimmed) and those read; nothing where
        none gives a new row."""
        found = {new.box: new for i in most_promising([read for _, read in rows], LOOK_AGAIN) for new in look(rows[i][0])}
        clock.mark("localise")
        if not found:
            return []
        return self._read_lines(grey, list(found.values()), clock, views=self._settings.extra_views, known=rows)

    def _read_lines(self, grey: np.ndarray, lines: list[Line], clock: "_Stages", views: int = 0,
                    known: list[tuple[Line, LineRead]] | None = None) -> list[PlateResult]:
        """The plates among `lines` (and the rows `known`), read as `_read_rows` reads them."""
        return self._pick(self._read_rows(grey, lines, clock, views, known), clock)

    def _read_rows(self, grey: np.ndarray, lines: list[Line], clock: "_Stages", views: int = 0,
                   known: list[tuple[Line, LineRead]] | None = None) -> list[tuple[Line, LineRead]]:
        """Every line read, those in `known` (rows read before) as they were; then the `views`
        rows whose first read ranks best, of all of them, also with other crops of the same row
        (a row that has them already keeps them)."""
        rows = list(known or [])
        seen = {line.box for line, _ in rows}
        fresh = [line for line in lines if line.box not in seen]
        mains = self._read_crops([crop_line(grey, line.box, fences=line.fences) for line in fresh])
        rows += [(line, LineRead(line.box, logp, min(line.score, 7.0) / 7.0, overlay=line.overlay, crop=crop))
                 for line, (crop, logp) in zip(fresh, mains)]
        clock.mark("recognise")
        # Other crops go to the rows whose first read ranks best, not to the rows the localiser
        # liked best: a plate's number row can rank low on shape (6WHS906 was the 7th row).
        promising = [i for i in most_promising([read for _, read in rows], views) if not rows[i][1].views]
        clock.mark("post_process")
        more = [view_crops(grey, rows[i][0]) for i in promising]
        extra = iter(logp for _, logp in self._read_crops([crop for crops in more for crop in crops]))
        for i, crops in zip(promising, more):
            line, read = rows[i]
            rows[i] = (line, replace(read, views=tuple(next(extra) for _ in crops)))
        clock.mark("recognise")
        return rows

    def _pick(self, rows: list[tuple[Line, LineRead]], clock: "_Stages") -> list[PlateResult]:
        plates = pick_plates([read for _, read in rows], second_opinion=self._glyph_opinion)
        clock.mark("post_process")
        return plates

    def _read_crops(self, crops: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each crop with the marks between its character groups painted out (separators.py),
        and the recogniser's log-probs of it: every crop of a row, main and views alike."""
        if not crops:
            return []
        erased = [erase_separators(crop) for crop in crops]
        return list(zip(erased, self._recognizer.logits(erased)))

    def _glyph_opinion(self, read: LineRead, best: str, others: list[str]) -> list[float]:
        assert read.crop is not None  # pick_plates asks only about reads that keep their crop
        return self._glyphs.log_odds(read.crop, read.logp, best, others)

    def _detect_text(self, pixels: np.ndarray) -> list[Box]:
        """Text lines from EasyOCR's CRAFT detector, loaded on first use."""
        if self._detector is None:
            import easyocr

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._detector = easyocr.Reader(
                    ["en"], gpu=self.device == "cuda", model_storage_directory=str(easyocr_model_dir()),
                    download_enabled=False, verbose=False, recognizer=False,
                )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            horizontal, _ = self._detector.detect(pixels, canvas_size=self._settings.canvas_size)
        return [Box(int(x0), int(y0), int(x1 - x0), int(y1 - y0)) for x0, x1, y0, y1 in horizontal[0] if x1 > x0 and y1 > y0]


# The rows whose reads rank best are the ones looked at again when the reader is still unsure.
LOOK_AGAIN = 5

# A state name is printed at about a third of the number's height: under a number this many
# pixels tall it is a smudge. On us-endtoend no state was named under 25 px (0 of 59 plates),
# and the read cost 80 ms a photo.
MIN_REGION_NUMBER_HEIGHT = 24


def _one_malloc_arena() -> None:
    """Have threads created from now on allocate from glibc's main arena.

    Reads run on worker and gRPC threads, and a thread's own arena hands back the network's
    large activations to the system after every pass, to be faulted in again on the next: the
    recogniser ran 35% slower on a worker thread than on the main thread (2-core CPU). Same as
    MALLOC_ARENA_MAX=1; a no-op where the C library is not glibc.
    """
    try:
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 1)
    except (AttributeError, OSError):
        pass


_M_ARENA_MAX = -8  # glibc's malloc.h


def crop_line(grey: np.ndarray, box: Box, margin_x: float = 0.4, margin_y: float = 0.2,
              fences: tuple[float, float] = UNFENCED) -> np.ndarray:
    """The line with a margin (in line heights), as the recogniser was trained: some plate around
    the characters; never past `fences` (x), where stacked letters beside the number begin."""
    mx, my = int(margin_x * box.height) + 2, int(margin_y * box.height) + 2
    height, width = grey.shape
    left, right = fences
    x0, y0 = math.ceil(max(0, box.x - mx, left)), max(0, box.y - my)
    x1, y1 = math.floor(min(width, box.x + box.width + mx, right)), min(height, box.y + box.height + my)
    return grey[y0:y1, x0:x1]


# A row tilted this much (2 degrees) is also read levelled. On us-endtoend 30 of the 107 rows
# found on the plate lean more than 3 degrees, 12 more than 5.
LEVEL_FROM = math.radians(2.0)


def view_crops(grey: np.ndarray, line: Line) -> list[np.ndarray]:
    """More crops of one row, read to average out the luck of one crop. Wide: a character glued
    to the frame or a sticker was left out of the row. Tight: less of the frame and the state
    name to read through. Level, for a tilted row: its characters upright and filling the crop's
    height, where an upright box around a tilted row is mostly plate above and below them."""
    crops = [crop_line(grey, line.box, margin_x=1.2, margin_y=0.25, fences=line.fences),
             crop_line(grey, line.box, margin_x=0.15, margin_y=0.1, fences=line.fences)]
    if abs(line.angle) >= LEVEL_FROM and line.char_height > 0:
        crops.append(level_crop(grey, line.box, line.angle, line.char_height))
    return crops


def level_crop(grey: np.ndarray, box: Box, angle: float, char_height: int,
               margin_x: float = 0.4, margin_y: float = 0.2) -> np.ndarray:
    """The tilted row in `box` rotated level and cropped around its characters (`char_height`
    tall), with crop_line's margins in character heights."""
    cos, sin = math.cos(angle), math.sin(angle)
    h = min(box.height, char_height)
    w = box.width / cos - h * abs(sin)  # the row's length along its slope
    out_w, out_h = round(w + 2 * (margin_x * h + 2)), round(h + 2 * (margin_y * h + 2))
    cx, cy = box.x + box.width / 2, box.y + box.height / 2
    # Maps the crop's (u along the row, v across it) to the photo's (x, y), about the box centre.
    to_photo = np.array([[cos, -sin, cx - cos * out_w / 2 + sin * out_h / 2],
                         [sin, cos, cy - sin * out_w / 2 - cos * out_h / 2]])
    return cv2.warpAffine(grey, to_photo, (out_w, out_h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def _around(grey: np.ndarray, box: Box) -> list[np.ndarray]:
    """The bands just above and below a number line, where states print their name."""
    h = box.height
    height, width = grey.shape
    x0, x1 = max(0, box.x - int(0.6 * h)), min(width, box.x + box.width + int(0.6 * h))
    above = grey[max(0, box.y - int(1.3 * h)):max(0, box.y - int(0.05 * h)), x0:x1]
    below = grey[min(height, box.y + int(1.05 * h)):min(height, box.y + int(1.9 * h)), x0:x1]
    return [above, below]


def _whole_image_if_plate(grey: np.ndarray, rows: list[Line]) -> list[Line]:
    """An image that is itself a plate crop gets its middle band read as a candidate too,
    bounded by the stacked letters found beside the rows across it."""
    height, width = grey.shape
    if not (width <= 640 and 1.3 <= width / height <= 5.5):
        return []
    band = Box(0, height // 5, width, height * 13 // 20)
    across = [row for row in rows if band.y <= row.box.y + row.box.height / 2 <= band.y + band.height]
    left = max((row.fences[0] for row in across), default=-math.inf)
    right = min((row.fences[1] for row in across), default=math.inf)
    return [replace(_unranked(band), fences=(left, right) if left < right else UNFENCED)]


def _unsure(plates: list[PlateResult], below: float) -> bool:
    """No plate read, or the best under `below` confidence: worth looking further."""
    return not plates or plates[0].confidence < below


def _listed(line: Line | None) -> list[Line]:
    return [] if line is None else [line]


def _more_confident(found: list[PlateResult], plates: list[PlateResult]) -> bool:
    """Whether a further look's plates beat the ones in hand, on the first plate's confidence."""
    return bool(found) and (not plates or found[0].confidence > plates[0].confidence)


def _unranked(box: Box) -> Line:
    """A candidate the row finder did not rank: middling geometry (score 3.5 of 7)."""
    return Line(box, blobs=0, score=3.5)


class _Stages:
    def __init__(self) -> None:
        self.started = self._last = time.perf_counter()
        self.stages_ms: dict[str, float] = {}

    def mark(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages_ms[stage] = self.stages_ms.get(stage, 0.0) + (now - self._last) * 1000
        self._last = now

    @property
    def total_ms(self) -> float:
        return (self._last - self.started) * 1000
