"""EnrichService over gRPC. A bad plate or VIN raises InvalidRequest (INVALID_ARGUMENT); a provider
that cannot answer, ProviderUnavailable (UNAVAILABLE) or BudgetExhausted (RESOURCE_EXHAUSTED)."""

from __future__ import annotations

import grpc

from cardak.v1 import common_pb2, enrich_pb2, enrich_pb2_grpc
from services.enrich.enricher import Enricher


class EnrichServicer(enrich_pb2_grpc.EnrichServiceServicer):
    def __init__(self, enricher: Enricher) -> None:
        self._enricher = enricher

    def Enrich(self, request: enrich_pb2.PlateQuery, context: grpc.ServicerContext) -> common_pb2.VehicleProfile:
        return self._enricher.enrich(request.plate, request.region, requester=f"grpc {context.peer()}")

    def DecodeVin(self, request: enrich_pb2.VinQuery, context: grpc.ServicerContext) -> common_pb2.VehicleProfile:
        return self._enricher.decode_vin(request.vin)
