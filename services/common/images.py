"""Cheap checks of encoded images: format and pixel size from the header, no full decode."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from cardak.v1 import common_pb2
from services.common.errors import InvalidRequest

_PIL_FORMATS = {
    "JPEG": common_pb2.IMAGE_FORMAT_JPEG,
    "PNG": common_pb2.IMAGE_FORMAT_PNG,
    "WEBP": common_pb2.IMAGE_FORMAT_WEBP,
}


@dataclass(frozen=True)
class ImageInfo:
    format: common_pb2.ImageFormat
    width: int
    height: int


def inspect_image(data: bytes, declared: int, *, max_pixels: int, min_side: int = 16) -> ImageInfo:
    """The format and size of `data`, or InvalidRequest saying what is wrong with it.

    `declared` is the client's ImageFormat; IMAGE_FORMAT_UNSPECIFIED means sniff.
    """
    if declared not in common_pb2.ImageFormat.values():
        known = ", ".join(common_pb2.ImageFormat.keys())
        raise InvalidRequest(f"content_type {declared} is not a known ImageFormat ({known})")
    if not data:
        raise InvalidRequest("image is empty")
    try:
        # Image.open reads only the header; pixels are decoded lazily and never here.
        # Pillow's own bomb check is replaced by the max_pixels check below.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                pil_format, (width, height) = img.format, img.size
    except Image.DecompressionBombError:
        raise InvalidRequest(f"image claims more pixels than Pillow will open, over the limit of {max_pixels}") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidRequest(f"image is not a JPEG, PNG or WebP file ({len(data)} bytes): {exc}") from None
    actual = _PIL_FORMATS.get(pil_format or "")
    if actual is None:
        raise InvalidRequest(f"image format {pil_format} is not supported; send JPEG, PNG or WebP")
    if declared != common_pb2.IMAGE_FORMAT_UNSPECIFIED and declared != actual:
        raise InvalidRequest(
            f"content_type says {common_pb2.ImageFormat.Name(declared)} but the bytes are {pil_format}"
        )
    if width < min_side or height < min_side:
        raise InvalidRequest(f"image is {width}x{height} pixels; both sides must be at least {min_side}")
    if width * height > max_pixels:
        raise InvalidRequest(f"image is {width}x{height} pixels, over the limit of {max_pixels} pixels")
    return ImageInfo(actual, width, height)
