"""EasyOCR behind one small class: load once, read plates from encoded images."""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from services.common.errors import InvalidRequest
from services.ocr.plates import PLATE_CHARS, Box, Detection, PlateResult, pick_plate
from services.ocr.settings import OcrSettings

log = logging.getLogger("cardak.ocr")


@dataclass(frozen=True)
class ReadResult:
    plates: list[PlateResult]
    elapsed_ms: float
    # Where the time went: "decode", "localise" (text detection), "recognise", "post_process".
    stages_ms: dict[str, float] = field(default_factory=dict)


def choose_device(wanted: str) -> str:
    import torch

    if wanted == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("CARDAK_DEVICE=cuda but PyTorch sees no CUDA device")
    if wanted == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return wanted


class PlateReader:
    """Loads EasyOCR's detector and English recogniser from local weights; never downloads."""

    def __init__(self, settings: OcrSettings) -> None:
        import easyocr
        import torch

        if settings.torch_threads > 0:
            torch.set_num_threads(settings.torch_threads)
        self.device = choose_device(settings.device)
        self._canvas_size = settings.canvas_size
        model_dir = settings.model_dir or _packaged_model_dir()
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch deprecation noise from EasyOCR's quantised LSTM
            self._reader = easyocr.Reader(
                ["en"],
                gpu=self.device == "cuda",
                model_storage_directory=model_dir,
                download_enabled=False,
                verbose=False,
            )
        log.info(
            "model loaded",
            extra={"device": self.device, "model_dir": model_dir, "load_ms": round((time.perf_counter() - started) * 1000)},
        )

    def read(self, image: bytes) -> ReadResult:
        """Plates in an encoded image. InvalidRequest when the bytes do not decode."""
        import cv2

        clock = _Stages()
        pixels = cv2.imdecode(np.frombuffer(image, dtype=np.uint8), cv2.IMREAD_COLOR)
        if pixels is None:
            raise InvalidRequest("image could not be decoded")
        grey = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
        clock.mark("decode")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            horizontal, free = self._reader.detect(pixels, canvas_size=self._canvas_size)
            clock.mark("localise")
            raw = self._reader.recognize(grey, horizontal[0], free[0], allowlist=PLATE_CHARS)
            clock.mark("recognise")
        detections = [Detection(text, float(conf), _box(points)) for points, text, conf in raw]
        plate = pick_plate(detections)
        clock.mark("post_process")
        return ReadResult([plate] if plate else [], clock.total_ms, clock.stages_ms)


class _Stages:
    def __init__(self) -> None:
        self.started = self._last = time.perf_counter()
        self.stages_ms: dict[str, float] = {}

    def mark(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages_ms[stage] = (now - self._last) * 1000
        self._last = now

    @property
    def total_ms(self) -> float:
        return (self._last - self.started) * 1000


def _box(points: list[list[float]]) -> Box:
    xs = [int(p[0]) for p in points]
    ys = [int(p[1]) for p in points]
    return Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def _packaged_model_dir() -> str:
    import easyocr_en_models

    return str(easyocr_en_models.model_dir())
