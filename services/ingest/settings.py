from __future__ import annotations

from pydantic import Field

from services.common.settings import MeshSettings


class IngestSettings(MeshSettings):
    ocr_queue_max_depth: int = Field(10_000, description="Queued frames before RESOURCE_EXHAUSTED")
    ocr_max_attempts: int = Field(5, description="OCR tries per frame before it is dead-lettered")
    camera_tokens_file: str = Field("", description="'camera_id token' lines; when set, every call needs its camera's token")
