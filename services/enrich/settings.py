from __future__ import annotations

from pydantic import Field

from services.common.settings import MeshSettings


class EnrichSettings(MeshSettings):
    fleet_file: str = Field("", description="The operator's vehicles: CSV or YAML of plate,region,vin,model_year,make,model,...")
    concurrency: int = Field(4, description="Enrichment tasks worked at once")
    lease_seconds: float = Field(60.0, description="Lease on a queued enrichment task (covers a provider's retries)")

    # Cache (Redis)
    cache_found_ttl_seconds: int = Field(30 * 24 * 3600, description="How long a found profile is reused; 0: not cached")
    cache_not_found_ttl_seconds: int = Field(24 * 3600, description="How long a 'nobody knows this plate' answer is reused")

    # VIN decoding with NHTSA vPIC: off unless a base URL is set (https://vpic.nhtsa.dot.gov/api).
    vpic_url: str = Field("", description="vPIC API base URL; empty: offline VIN decoding only")
    vpic_budget_per_minute: int = Field(300, description="Requests a minute to vPIC, shared by every replica; 0: no limit")

    # Plate -> VIN through a licensed provider: off unless a URL is set; needs a DPPA purpose.
    plate_vin_url: str = Field("", description="URL template with {plate} and {region}; empty: no plate-to-VIN look-ups")
    plate_vin_name: str = Field("plate-vin", description="Provider name in profiles, metrics and the audit log")
    plate_vin_auth_header: str = Field("", description="'Name: value' header sent with each look-up, e.g. 'Authorization: Bearer ...'")
    plate_vin_vin_path: str = Field("vin", description="Dotted path to the VIN in the provider's JSON, e.g. data.vehicle.vin")
    plate_vin_purpose: str = Field("", description="DPPA permitted purpose (18 U.S.C. 2721(b)); look-ups refuse to run without one")
    plate_vin_operator: str = Field("", description="Who is responsible for the look-ups (written to every audit record)")
    plate_vin_budget_per_minute: int = Field(60, description="Requests a minute to the plate-to-VIN provider (they bill per request)")
    audit_log: str = Field("cardak-plate-vin-audit.jsonl", description="Append-only JSON lines of every plate-to-VIN look-up")

    # How hard to try a provider (each of them)
    http_timeout_seconds: float = Field(5.0, description="Per-request timeout to a provider")
    http_max_attempts: int = Field(4, description="Requests per look-up on timeouts, drops, 5xx and 429 before giving up")
    http_backoff_seconds: float = Field(0.2, description="First retry waits up to this long (exponential, full jitter)")
    http_backoff_max_seconds: float = Field(5.0, description="Longest wait between retries")
    http_max_retry_after_seconds: float = Field(10.0, description="Longest 429 Retry-After waited in-process; longer: retry the task later")
    breaker_failures: int = Field(5, description="Failed requests in a row that open a provider's circuit")
    breaker_reset_seconds: float = Field(30.0, description="How long an open circuit skips the provider before one trial request")
