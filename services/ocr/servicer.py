"""OcrService over gRPC: synchronous reads for direct and debugging calls."""

from __future__ import annotations

import grpc

from cardak.v1 import ocr_pb2, ocr_pb2_grpc
from services.common.errors import Unavailable
from services.common.images import inspect_image
from services.ocr import metrics
from services.ocr.reader import PlateReader
from services.ocr.settings import OcrSettings


class OcrServicer(ocr_pb2_grpc.OcrServiceServicer):
    def __init__(self, settings: OcrSettings) -> None:
        self._settings = settings
        self.reader: PlateReader | None = None  # set once the model has loaded

    def Recognize(self, request: ocr_pb2.Image, context: grpc.ServicerContext) -> ocr_pb2.PlateReads:
        reader = self.reader
        if reader is None:
            raise Unavailable("the OCR model is still loading; try again shortly")
        inspect_image(request.data, request.content_type, max_pixels=self._settings.max_image_pixels)
        result = reader.read(request.data)
        metrics.observe(result)
        return ocr_pb2.PlateReads(
            reads=[p.as_proto() for p in result.plates], elapsed_ms=result.elapsed_ms, device=reader.device
        )
