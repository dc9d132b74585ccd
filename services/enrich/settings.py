from __future__ import annotations

from pydantic import Field

from services.common.settings import MeshSettings


class EnrichSettings(MeshSettings):
    fleet_file: str = Field("", description="CSV of plates the operator knows (plate,region,vin,model_year,make,model,...)")
    concurrency: int = Field(4, description="Enrichment tasks worked at once")
    lease_seconds: float = Field(30.0, description="Lease on a queued enrichment task")
