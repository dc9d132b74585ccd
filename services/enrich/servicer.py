"""EnrichService over gRPC; a bad plate or VIN raises InvalidRequest (INVALID_ARGUMENT)."""

from __future__ import annotations

import grpc

from cardak.v1 import common_pb2, enrich_pb2, enrich_pb2_grpc
from services.enrich.enricher import Enricher


class EnrichServicer(enrich_pb2_grpc.EnrichServiceServicer):
    def __init__(self, enricher: Enricher) -> None:
        self._enricher = enricher

    def Enrich(self, request: enrich_pb2.PlateQuery, context: grpc.ServicerContext) -> common_pb2.VehicleProfile:
        return self._enricher.enrich(request.plate, request.region)

    def DecodeVin(self, request: enrich_pb2.VinQuery, context: grpc.ServicerContext) -> common_pb2.VehicleProfile:
        return self._enricher.decode_vin(request.vin)
