"""inspect_image: format and size from real encoded bytes, and every way an image is refused."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from cardak.v1 import common_pb2
from services.common.errors import InvalidRequest
from services.common.images import ImageInfo, inspect_image

JPEG, PNG, WEBP = common_pb2.IMAGE_FORMAT_JPEG, common_pb2.IMAGE_FORMAT_PNG, common_pb2.IMAGE_FORMAT_WEBP
SNIFF = common_pb2.IMAGE_FORMAT_UNSPECIFIED
LIMIT = 10_000_000


def _encode(pil_format: str, width: int = 64, height: int = 48, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), color=1 if mode == "P" else (200, 30, 60)).save(buffer, pil_format)
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header claims `width` x `height` pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@pytest.mark.parametrize(("pil_format", "expected"), [("JPEG", JPEG), ("PNG", PNG), ("WEBP", WEBP)])
@pytest.mark.parametrize("declared_matches", [True, False])
def test_real_images_give_format_and_size(pil_format: str, expected: int, declared_matches: bool) -> None:
    declared = expected if declared_matches else SNIFF
    info = inspect_image(_encode(pil_format, 64, 48), declared, max_pixels=LIMIT)
    assert info == ImageInfo(expected, 64, 48)


def test_width_and_height_are_not_swapped() -> None:
    info = inspect_image(_encode("PNG", 17, 90), SNIFF, max_pixels=LIMIT)
    assert (info.width, info.height) == (17, 90)


def test_unknown_declared_format() -> None:
    with pytest.raises(InvalidRequest, match="99 is not a known ImageFormat"):
        inspect_image(_encode("PNG"), 99, max_pixels=LIMIT)


def test_empty_bytes() -> None:
    with pytest.raises(InvalidRequest, match="empty"):
        inspect_image(b"", SNIFF, max_pixels=LIMIT)


@pytest.mark.parametrize("data", [b"\x00", b"hello, this is not an image", bytes(range(256)) * 4])
def test_garbage_bytes(data: bytes) -> None:
    with pytest.raises(InvalidRequest, match="not a JPEG, PNG or WebP") as info:
        inspect_image(data, SNIFF, max_pixels=LIMIT)
    assert f"({len(data)} bytes)" in str(info.value)


@pytest.mark.parametrize("keep", [3, 10, 30, 100])
def test_truncated_jpeg_header(keep: int) -> None:
    data = _encode("JPEG")[:keep]
    assert data.startswith(b"\xff\xd8")
    with pytest.raises(InvalidRequest, match="not a JPEG, PNG or WebP"):
        inspect_image(data, JPEG, max_pixels=LIMIT)


@pytest.mark.parametrize(("pil_format", "mode"), [("GIF", "P"), ("BMP", "RGB"), ("TIFF", "RGB")])
def test_unsupported_format_is_named(pil_format: str, mode: str) -> None:
    with pytest.raises(InvalidRequest, match=f"format {pil_format} is not supported"):
        inspect_image(_encode(pil_format, mode=mode), SNIFF, max_pixels=LIMIT)


@pytest.mark.parametrize(
    ("pil_format", "declared", "claimed"),
    [("PNG", JPEG, "IMAGE_FORMAT_JPEG"), ("JPEG", WEBP, "IMAGE_FORMAT_WEBP"), ("WEBP", PNG, "IMAGE_FORMAT_PNG")],
)
def test_declared_and_actual_format_mismatch(pil_format: str, declared: int, claimed: str) -> None:
    with pytest.raises(InvalidRequest, match=f"says {claimed} but the bytes are {pil_format}"):
        inspect_image(_encode(pil_format), declared, max_pixels=LIMIT)


@pytest.mark.parametrize(("width", "height"), [(8, 8), (15, 64), (64, 15)])
def test_too_small_sides(width: int, height: int) -> None:
    with pytest.raises(InvalidRequest, match=f"{width}x{height} pixels; both sides must be at least 16"):
        inspect_image(_encode("PNG", width, height), SNIFF, max_pixels=LIMIT)


def test_min_side_is_inclusive_and_configurable() -> None:
    assert inspect_image(_encode("PNG", 16, 16), SNIFF, max_pixels=LIMIT).width == 16
    assert inspect_image(_encode("PNG", 8, 8), SNIFF, max_pixels=LIMIT, min_side=8).height == 8


def test_too_many_pixels() -> None:
    data = _encode("JPEG", 64, 48)
    assert inspect_image(data, SNIFF, max_pixels=64 * 48).width == 64  # exactly at the limit is fine
    with pytest.raises(InvalidRequest, match="64x48 pixels, over the limit of 3071 pixels"):
        inspect_image(data, SNIFF, max_pixels=64 * 48 - 1)


def test_size_comes_from_the_header_alone() -> None:
    info = inspect_image(_png_claiming(4000, 3000), SNIFF, max_pixels=LIMIT * 2)
    assert info == ImageInfo(PNG, 4000, 3000)


def test_header_claiming_a_huge_image_is_refused_as_too_many_pixels() -> None:
    with pytest.raises(InvalidRequest, match="over the limit"):
        inspect_image(_png_claiming(20_000, 20_000), SNIFF, max_pixels=LIMIT)
