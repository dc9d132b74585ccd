"""gRPC channels to the other services, sized for camera images."""

from __future__ import annotations

import grpc


def message_size_options(max_message_bytes: int) -> list[tuple[str, int]]:
    return [
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.max_receive_message_length", max_message_bytes),
    ]


def open_channel(addr: str, max_message_bytes: int = 16 * 1024 * 1024) -> grpc.Channel:
    """An insecure channel to `addr` (the mesh runs on loopback or a private network)."""
    return grpc.insecure_channel(addr, options=message_size_options(max_message_bytes))
