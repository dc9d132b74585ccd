"""VIN -> vehicle attributes through NHTSA's free vPIC API (https://vpic.nhtsa.dot.gov/api).

Single VINs use `DecodeVinValues` (one flat record per VIN); many use `DecodeVINValuesBatch`
(up to 50 VINs a request, as vPIC documents). Field names are vPIC's own: `Results`, `Make`,
`Model`, `ModelYear`, `BodyClass`, `FuelTypePrimary`, `ErrorCode`, `ErrorText`, ...

vPIC answers every syntactically plausible VIN: `ErrorCode` "0" means decoded clean; other
codes (comma-separated, e.g. "1" check digit, "8" no detailed data) mean a partial decode.
"""

from __future__ import annotations

from collections.abc import Iterable

from cardak.v1 import common_pb2
from services.enrich.provider_http import ProviderHttp, ProviderUnavailable

BATCH_LIMIT = 50

# vPIC fields copied into VehicleProfile.attributes when present (the typed fields aside).
EXTRA_FIELDS = (
    "Manufacturer", "Trim", "Series", "VehicleType", "DriveType", "Doors", "EngineCylinders",
    "DisplacementL", "ElectrificationLevel", "GVWR", "PlantCity", "PlantState", "PlantCountry",
)


class VpicDecoder:
    name = "vpic"

    def __init__(self, http: ProviderHttp, base_url: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")

    def decode(self, vin: str) -> common_pb2.VehicleProfile:
        """Attributes of one VIN; ProviderUnavailable when vPIC cannot answer now."""
        answer = self._http.get_json(f"{self._base}/vehicles/DecodeVinValues/{vin}", params={"format": "json"})
        results = _results(answer)
        if not results:
            raise ProviderUnavailable(f"vPIC answered no Results for {vin}")
        return profile_from_result(vin, results[0])

    def decode_many(self, vins: Iterable[str]) -> dict[str, common_pb2.VehicleProfile]:
        """Attributes of many VINs, BATCH_LIMIT per request; keyed by VIN."""
        wanted = list(dict.fromkeys(vins))
        out: dict[str, common_pb2.VehicleProfile] = {}
        for start in range(0, len(wanted), BATCH_LIMIT):
            chunk = wanted[start:start + BATCH_LIMIT]
            answer = self._http.post_form_json(
                f"{self._base}/vehicles/DecodeVINValuesBatch/", data={"format": "json", "data": ";".join(chunk)}
            )
            by_vin = {str(r.get("VIN", "")).upper(): r for r in _results(answer)}
            for vin in chunk:
                if vin in by_vin:
                    out[vin] = profile_from_result(vin, by_vin[vin])
        return out


def _results(answer: object) -> list[dict[str, object]]:
    if not isinstance(answer, dict) or not isinstance(answer.get("Results"), list):
        # Retried like an outage: a gateway answering 200 with its own JSON is the usual cause.
        raise ProviderUnavailable("vPIC answer has no Results list")
    return [r for r in answer["Results"] if isinstance(r, dict)]


def profile_from_result(vin: str, result: dict[str, object]) -> common_pb2.VehicleProfile:
    """One vPIC result record -> a profile: FOUND when decoded clean, PARTIAL when vPIC reports
    errors but still names a make, NOT_FOUND when it names nothing."""

    def field(name: str) -> str:
        value = result.get(name)
        return str(value).strip() if value not in (None, "Not Applicable") else ""

    codes = {c.strip() for c in field("ErrorCode").split(",") if c.strip()}
    year = field("ModelYear")
    make = field("Make")
    if codes == {"0"}:
        status = common_pb2.PROFILE_STATUS_FOUND
    elif make:
        status = common_pb2.PROFILE_STATUS_PARTIAL
    else:
        status = common_pb2.PROFILE_STATUS_NOT_FOUND
    attributes = {name: field(name) for name in EXTRA_FIELDS if field(name)}
    if codes != {"0"}:
        attributes["vpic_error_code"] = field("ErrorCode")
        attributes["vpic_error_text"] = field("ErrorText")
    return common_pb2.VehicleProfile(
        vin=vin,
        model_year=int(year) if year.isdigit() else 0,
        make=make,
        model=field("Model"),
        body_class=field("BodyClass"),
        fuel_type=field("FuelTypePrimary"),
        source=VpicDecoder.name,
        status=status,
        attributes=attributes,
    )
