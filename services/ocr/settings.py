from __future__ import annotations

from typing import Literal

from pydantic import Field

from services.common.settings import MeshSettings


class OcrSettings(MeshSettings):
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: CUDA when torch sees a GPU")
    torch_threads: int = Field(0, description="CPU threads for PyTorch; 0: PyTorch chooses (the cores shared out among worker processes)")
    recognizer_weights: str = Field("", description="Plate recogniser weights; empty: the ones shipped in services/ocr/weights")
    glyph_weights: str = Field("", description="Glyph classifier weights (the second opinion on single characters); empty: the shipped ones")
    read_region: bool = Field(True, description="Read the state name printed around the number")
    max_lines: int = Field(20, description="Candidate character rows read per photo")
    more_lines: int = Field(40, description="Candidate rows read in all when none of the first max_lines reads at more_lines_below or better")
    more_lines_below: float = Field(0.3, description="Plate confidence under which more_lines rows are read")
    extra_views: int = Field(3, description="Rows whose first read ranks best, read again cropped wider, tighter and (tilted) level; reads averaged")
    fallback_detector: bool = Field(False, description="Run EasyOCR's text detector when no row reads as a plate")
    fallback_below: float = Field(0.05, description="Plate confidence under which the fallback detector runs")
    canvas_size: int = Field(960, description="Longest side the fallback text detector works at")
    concurrency: int = Field(1, ge=1, description="Images read at once by the queue worker; their lines share recogniser passes")
    worker_processes: int = Field(
        1, ge=1, description="Processes reading the queue, each with its own model and `concurrency` reads; >1 for a GPU"
    )
    recognise_batch: int = Field(0, description="Most plate lines per recogniser pass; 0: 32 on a CPU, 512 on a GPU")
    lease_seconds: float = Field(60.0, description="Lease on a queued image; renewed while reading")
