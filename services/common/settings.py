"""Settings shared by every service, read from the environment.

Each service extends `MeshSettings` with its own fields; every field is a `CARDAK_<NAME>`
variable (REDIS_URL and DATABASE_URL also without the prefix, as containers expect).
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MeshSettings(BaseSettings):
    """Where the services listen and find each other, and how their servers behave."""

    model_config = SettingsConfigDict(env_prefix="CARDAK_", extra="ignore")

    ingest_addr: str = Field("127.0.0.1:50051", description="Ingest listen/dial address")
    ocr_addr: str = Field("127.0.0.1:50052", description="OCR listen/dial address")
    enrich_addr: str = Field("127.0.0.1:50053", description="Enrich listen/dial address")
    store_addr: str = Field("127.0.0.1:50054", description="Store listen/dial address")
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "CARDAK_REDIS_URL"),
        description="Redis for queues and blobs (`cardak up` starts an embedded one when unset)",
    )
    namespace: str = Field("cardak", description="Prefix of every Redis key and queue")
    ocr_queue: str = Field("ocr", description="Queue from ingest to the OCR workers")
    enrich_queue: str = Field("enrich", description="Queue from OCR to the enrich workers")
    enrich_max_attempts: int = Field(
        8, description="Enrichment tries per sighting; the last one stores what is known without the remote providers"
    )
    blob_ttl_seconds: int = Field(24 * 3600, description="How long a submitted image is kept in Redis")
    max_image_bytes: int = Field(10 * 1024 * 1024, description="Largest image accepted")
    max_image_pixels: int = Field(50_000_000, description="Largest width x height accepted")
    max_message_bytes: int = Field(16 * 1024 * 1024, description="Largest gRPC message, both ways")
    server_threads: int = Field(32, description="gRPC server thread pool (one per in-flight RPC or stream)")
    grace_seconds: float = Field(10.0, description="How long in-flight work may finish on SIGTERM")
    rpc_timeout_seconds: float = Field(10.0, description="Deadline of calls to other services")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
    metrics_addr: str = Field("", description="host:port serving Prometheus /metrics; empty: off")
    tls_cert_file: str = Field("", description="PEM certificate chain: the gRPC port speaks TLS when set (with tls_key_file)")
    tls_key_file: str = Field("", description="PEM private key of tls_cert_file")
