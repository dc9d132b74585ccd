"""The provider chain: plate -> (VIN) -> vehicle profile.

Order of a plate look-up:
  1. local providers (the operator's fleet file): instant and authoritative, never cached;
  2. the Redis cache of earlier remote answers, found and not-found alike;
  3. remote providers (plate -> VIN over HTTP), in configured order; the first that knows answers.
A profile with a VIN but no make, year or model is filled by the VIN decoder: vPIC when
configured (answers cached by VIN), else the offline decoder (a partial profile).

A remote provider that cannot answer raises ProviderUnavailable (or BudgetExhausted): nothing is
cached and the caller retries; `enrich_offline` is the answer when retries are used up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import Protocol

from cardak.v1 import common_pb2
from services.common.errors import InvalidRequest
from services.common.plates import normalise_plate
from services.enrich.cache import ProfileCache
from services.enrich.provider_http import ProviderRejected, ProviderUnavailable
from services.enrich.providers import FleetFile, PlateProvider
from services.enrich.vin import decode_offline, validate_vin


class VinDecoder(Protocol):
    name: str

    def decode(self, vin: str) -> common_pb2.VehicleProfile: ...

    def decode_many(self, vins: Iterable[str]) -> dict[str, common_pb2.VehicleProfile]: ...


class Enricher:
    def __init__(
        self,
        providers: Sequence[PlateProvider],
        vin_decoder: VinDecoder | None = None,
        cache: ProfileCache | None = None,
    ) -> None:
        self._providers = list(providers)
        self._vin_decoder = vin_decoder
        self._cache = cache

    def enrich(self, plate: str, region: str = "", requester: str = "") -> common_pb2.VehicleProfile:
        """A profile for `plate`; status NOT_FOUND when no provider knows it. `requester` (who
        asked: a sighting, a gRPC peer) goes to providers that audit their look-ups."""
        plate, region = _plate_key(plate, region)
        profile = None
        cache_key = f"{region}:{plate}"
        consulted_cache = False
        for provider in self._providers:
            if not _is_local(provider) and not consulted_cache:
                consulted_cache = True
                if self._cache is not None and (cached := self._cache.get("plate", cache_key)) is not None:
                    return cached
            try:
                profile = provider.lookup(plate, region, requester)
            except ProviderRejected as exc:
                # Bad credentials or a refused request: an operator must act; retry meanwhile.
                raise ProviderUnavailable(str(exc)) from exc
            if profile is not None:
                break
        if profile is None:
            profile = _not_found(plate, region)
        elif profile.vin and not (profile.make and profile.model_year and profile.model):
            self._fill_from_vin(profile, self.decode_vin)
        profile.fetched_at.FromDatetime(datetime.now(timezone.utc))
        if consulted_cache and self._cache is not None:
            self._cache.put("plate", cache_key, profile)
        return profile

    def enrich_offline(self, plate: str, region: str, reason: str) -> common_pb2.VehicleProfile:
        """What can be said without the remote providers: the last answer once retries are used
        up. Never cached; `attributes["unavailable"]` says why."""
        plate, region = _plate_key(plate, region)
        profile = None
        for provider in self._providers:
            if _is_local(provider) and (profile := provider.lookup(plate, region, "")) is not None:
                break
        if profile is None:
            profile = _not_found(plate, region)
        elif profile.vin and not profile.make:
            self._fill_from_vin(profile, decode_offline)
        profile.attributes["unavailable"] = reason
        profile.fetched_at.FromDatetime(datetime.now(timezone.utc))
        return profile

    def decode_vin(self, vin: str) -> common_pb2.VehicleProfile:
        """Attributes of a VIN: vPIC when configured (cached), else the offline decoder.
        InvalidRequest for a VIN that fails its syntax or check digit."""
        vin = validate_vin(vin)
        if self._vin_decoder is None:
            profile = decode_offline(vin)
            profile.fetched_at.FromDatetime(datetime.now(timezone.utc))
            return profile
        cached = self._cache.get("vin", vin) if self._cache is not None else None
        if cached is not None:
            return cached
        profile = self._vin_decoder.decode(vin)
        profile.fetched_at.FromDatetime(datetime.now(timezone.utc))
        if self._cache is not None:
            self._cache.put("vin", vin, profile)
        return profile

    def warm_vins(self, vins: Iterable[str]) -> int:
        """Decode the VINs not yet cached with the decoder's batch call (e.g. a fleet file's);
        how many were decoded. A no-op without a remote decoder and a cache."""
        if self._vin_decoder is None or self._cache is None:
            return 0
        missing = [v for v in dict.fromkeys(v.strip().upper() for v in vins) if self._cache.get("vin", v) is None]
        decoded = self._vin_decoder.decode_many(missing)
        for vin, profile in decoded.items():
            profile.fetched_at.FromDatetime(datetime.now(timezone.utc))
            self._cache.put("vin", vin, profile)
        return len(decoded)

    def warm_fleet_vins(self) -> int:
        """warm_vins for the VINs the fleet file lists without a make (the file already loaded)."""
        return self.warm_vins(vin for p in self._providers if isinstance(p, FleetFile) for vin in p.vins())

    @staticmethod
    def _fill_from_vin(profile: common_pb2.VehicleProfile, decode: Callable[[str], common_pb2.VehicleProfile]) -> None:
        try:
            decoded = decode(profile.vin)
        except InvalidRequest:
            return  # the provider's VIN is unusable; keep what it said
        profile.make = profile.make or decoded.make
        profile.model = profile.model or decoded.model
        profile.model_year = profile.model_year or decoded.model_year
        profile.body_class = profile.body_class or decoded.body_class
        profile.fuel_type = profile.fuel_type or decoded.fuel_type
        for key, value in decoded.attributes.items():
            profile.attributes.setdefault(key, value)
        profile.attributes["vin_decoder"] = decoded.source
        if profile.status == common_pb2.PROFILE_STATUS_PARTIAL and decoded.status == common_pb2.PROFILE_STATUS_FOUND:
            profile.status = common_pb2.PROFILE_STATUS_FOUND


def _plate_key(plate: str, region: str) -> tuple[str, str]:
    normalised = normalise_plate(plate)
    if not normalised:
        raise InvalidRequest("plate is empty (after dropping spaces and punctuation)")
    return normalised, region.strip().upper()


def _is_local(provider: PlateProvider) -> bool:
    return bool(getattr(provider, "local", False))


def _not_found(plate: str, region: str) -> common_pb2.VehicleProfile:
    return common_pb2.VehicleProfile(plate=plate, region=region, source="none", status=common_pb2.PROFILE_STATUS_NOT_FOUND)
