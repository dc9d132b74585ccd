"""The OCR service's Prometheus metrics: where reading time goes, and how often a plate is found."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from services.ocr.reader import ReadResult

STAGE_SECONDS = Histogram(
    "cardak_ocr_stage_seconds",
    "Time per image in each stage of plate reading (decode, localise, recognise, post_process, region, fallback)",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
READ_SECONDS = Histogram(
    "cardak_ocr_read_seconds", "Time to read one image end to end", buckets=(0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
)
IMAGES = Counter("cardak_ocr_images_total", "Images read, by whether a plate was found", ["plate"])


def observe(result: ReadResult) -> None:
    for stage, ms in result.stages_ms.items():
        STAGE_SECONDS.labels(stage=stage).observe(ms / 1000)
    READ_SECONDS.observe(result.elapsed_ms / 1000)
    IMAGES.labels(plate="found" if result.plates else "none").inc()
