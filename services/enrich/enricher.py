"""The provider chain: the first provider that knows the plate answers; a VIN fills gaps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from cardak.v1 import common_pb2
from services.common.errors import InvalidRequest
from services.common.plates import normalise_plate
from services.enrich.providers import PlateProvider
from services.enrich.vin import decode_offline


class Enricher:
    def __init__(self, providers: Sequence[PlateProvider]) -> None:
        self._providers = list(providers)

    def enrich(self, plate: str, region: str = "") -> common_pb2.VehicleProfile:
        """A profile for `plate`; status NOT_FOUND when no provider knows it."""
        plate = normalise_plate(plate)
        if not plate:
            raise InvalidRequest("plate is empty (after dropping spaces and punctuation)")
        profile = None
        for provider in self._providers:
            profile = provider.lookup(plate, region)
            if profile is not None:
                break
        if profile is None:
            profile = common_pb2.VehicleProfile(
                plate=plate, region=region, source="none", status=common_pb2.PROFILE_STATUS_NOT_FOUND
            )
        elif profile.vin and not (profile.make and profile.model_year):
            _fill_from_vin(profile)
        profile.fetched_at.FromDatetime(datetime.now(timezone.utc))
        return profile

    def decode_vin(self, vin: str) -> common_pb2.VehicleProfile:
        profile = decode_offline(vin)
        profile.fetched_at.FromDatetime(datetime.now(timezone.utc))
        return profile


def _fill_from_vin(profile: common_pb2.VehicleProfile) -> None:
    try:
        decoded = decode_offline(profile.vin)
    except InvalidRequest:
        return  # the provider's VIN is unusable; keep what it said
    profile.make = profile.make or decoded.make
    profile.model_year = profile.model_year or decoded.model_year
