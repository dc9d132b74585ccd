"""Stubs for the CLI, dialled at the addresses in CARDAK_*_ADDR (the services' defaults otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from cardak.v1 import common_pb2, ingest_pb2_grpc, store_pb2, store_pb2_grpc
from services.common.channels import open_channel
from services.common.settings import MeshSettings

IMAGE_SUFFIXES = {".jpg": common_pb2.IMAGE_FORMAT_JPEG, ".jpeg": common_pb2.IMAGE_FORMAT_JPEG,
                  ".png": common_pb2.IMAGE_FORMAT_PNG, ".webp": common_pb2.IMAGE_FORMAT_WEBP}


@dataclass
class Clients:
    settings: MeshSettings
    ingest: ingest_pb2_grpc.IngestServiceStub
    store: store_pb2_grpc.StoreServiceStub

    @classmethod
    def connect(cls) -> Clients:
        settings = MeshSettings()
        return cls(
            settings,
            ingest_pb2_grpc.IngestServiceStub(open_channel(settings.ingest_addr, settings.max_message_bytes)),
            store_pb2_grpc.StoreServiceStub(open_channel(settings.store_addr, settings.max_message_bytes)),
        )


def image_files(paths: list[str]) -> list[Path]:
    """Image files named on the command line, folders expanded (sorted); ValueError if none."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise ValueError(f"{raw}: no such file or folder")
    if not found:
        raise ValueError(f"no images (.jpg, .jpeg, .png, .webp) in {' '.join(paths)}")
    return found


def describe_rpc_error(exc: grpc.RpcError, addr: str) -> str:
    code = exc.code()  # type: ignore[attr-defined]
    if code == grpc.StatusCode.UNAVAILABLE:
        return f"cannot reach {addr}: is the mesh running? (`cardak up`)"
    return f"{code.name}: {exc.details()}"  # type: ignore[attr-defined]


def vehicle_text(sighting: store_pb2.Sighting) -> str:
    v = sighting.vehicle
    if not sighting.HasField("vehicle"):
        return "…" if sighting.status == store_pb2.SIGHTING_STATUS_READ else "-"
    if v.status == common_pb2.PROFILE_STATUS_NOT_FOUND:
        return "unknown"
    text = " ".join(str(p) for p in (v.model_year or "", v.make.title(), v.model) if p)
    return text + (" (partial)" if v.status == common_pb2.PROFILE_STATUS_PARTIAL else "")


def track_text(sighting: store_pb2.Sighting) -> str:
    """The plate the sighting's track votes for, over how many frames; "-" for a lone frame."""
    track = sighting.track
    if not sighting.HasField("track") or track.frames < 2:
        return "-"
    return f"{track.plate} ({track.frames} frames, {track.support:.0%})"
