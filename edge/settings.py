"""The edge agent's configuration: CARDAK_EDGE_* variables (a systemd EnvironmentFile on a Pi,
see deploy/edge/), and CARDAK_INGEST_ADDR for where to send."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class EdgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARDAK_EDGE_", extra="ignore")

    camera_id: str = Field("edge", description="This camera's id in every frame (letters, digits, - and _)")
    source: str = Field(
        "0",
        description="A V4L2/USB camera (0, /dev/video0), an rtsp:// or http(s):// stream, a video file, "
        "a folder of images, or 'picamera2'",
    )
    ingest_addr: str = Field(
        "127.0.0.1:50051", validation_alias=AliasChoices("CARDAK_EDGE_INGEST_ADDR", "CARDAK_INGEST_ADDR"),
        description="Ingest's host:port",
    )
    spool_dir: str = Field("/var/lib/cardak/spool", description="Where frames wait for their ack (an SD card is fine)")
    spool_max_mb: float = Field(512.0, description="Spool size cap; when full the oldest frames are dropped (and counted)")
    max_fps: float = Field(2.0, description="Most frames sent per second, however much moves; 0: no cap")
    motion: bool = Field(True, description="Send only frames where something moves")
    motion_threshold: int = Field(25, description="Grey-level change (0-255) that counts a pixel as changed")
    motion_min_area: float = Field(0.002, description="Share of the region of interest that must change (0.002: the edges of a car crossing a 720p view)")
    roi: str = Field("", description="Region of interest as x,y,w,h fractions of the frame, e.g. 0,0.4,1,0.6; empty: all")
    duplicate_threshold: float = Field(
        0.5, description="A frame whose every cell is within this many standard deviations of the last sent one is not sent; 0: off"
    )
    jpeg_quality: int = Field(85, description="JPEG quality of sent frames")
    window: int = Field(32, description="Frames in flight (sent, not yet acked)")
    backoff_seconds: float = Field(0.5, description="First reconnect wait (exponential, full jitter)")
    backoff_max_seconds: float = Field(30.0, description="Longest reconnect wait")
    overload_seconds: float = Field(5.0, description="Least wait after ingest answers RESOURCE_EXHAUSTED")
    tls: bool = Field(False, description="Connect with TLS (system roots unless tls_ca is set)")
    tls_ca: str = Field("", description="PEM file of the CA that signed ingest's certificate")
    token: str = Field("", description="This camera's token, sent as 'authorization: Bearer <token>'")
    stats_seconds: float = Field(10.0, description="How often a counts line is logged")
    grace_seconds: float = Field(10.0, description="On SIGTERM, how long to keep sending before exiting")
