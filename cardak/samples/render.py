"""Render a licence plate on a car-like, photo-like background.

`python -m cardak.samples.render` rewrites the shipped sample (cardak/samples/plate.jpg);
tests and the camera simulator call `render_plate_photo` for images with known plates.
The plate font is DejaVu Sans Condensed Bold where the system has it, else Pillow's built-in font.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from cardak.samples import SAMPLE_IMAGE, SAMPLE_PLATE


def _plate_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSansCondensed-Bold.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def _fit_font(
    draw: ImageDraw.ImageDraw, text: str, *, max_width: int, max_height: int
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    size = max_height
    font = _plate_font(size)
    while size > 8 and draw.textlength(text, font=font) > max_width:
        size -= 2
        font = _plate_font(size)
    return font


def render_plate_photo(
    plate: str, *, seed: int = 0, size: tuple[int, int] = (640, 480), quality: int = 90, top_text: str = "CARDAK"
) -> bytes:
    """A JPEG of a car's rear with `plate` on its plate and `top_text` (a state name, say)
    above the number; the same arguments give the same bytes."""
    rng = random.Random(seed)
    width, height = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    # Sky-to-asphalt gradient with a little noise, so it is not a flat synthetic field.
    for y in range(height):
        shade = int(170 - 110 * y / height)
        draw.line([(0, y), (width, y)], fill=(shade, shade + 5, shade + 12))
    body = tuple(rng.randint(40, 200) for _ in range(3))
    car = (int(width * 0.12), int(height * 0.25), int(width * 0.88), int(height * 0.92))
    draw.rounded_rectangle(car, radius=40, fill=body)
    lamp = (200, 30, 30)
    draw.rectangle((car[0] + 20, car[1] + 60, car[0] + 120, car[1] + 110), fill=lamp)
    draw.rectangle((car[2] - 120, car[1] + 60, car[2] - 20, car[1] + 110), fill=lamp)

    plate_w, plate_h = int(width * 0.42), int(width * 0.21)
    px, py = (width - plate_w) // 2, int(height * 0.55)
    draw.rounded_rectangle((px, py, px + plate_w, py + plate_h), radius=10, fill=(245, 245, 240), outline=(30, 30, 30), width=4)
    small = ImageFont.load_default(size=max(10, plate_h // 8))
    draw.text((px + plate_w // 2, py + plate_h // 8), top_text, font=small, fill=(30, 60, 140), anchor="mm")
    big = _fit_font(draw, plate, max_width=int(plate_w * 0.86), max_height=int(plate_h * 0.55))
    draw.text((px + plate_w // 2, py + plate_h * 0.58), plate, font=big, fill=(15, 15, 25), anchor="mm")

    img = img.filter(ImageFilter.GaussianBlur(0.8))
    # Seeded noise (Image.effect_noise draws from the C library's global generator, so the
    # same arguments would give different pictures depending on what ran before).
    import numpy as np

    grain = np.random.default_rng(rng.getrandbits(32)).normal(128, 12, (height, width))
    noise = Image.fromarray(np.clip(grain, 0, 255).astype(np.uint8), "L").convert("RGB")
    img = Image.blend(img, noise, 0.06)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def render_two_cars(near_plate: str, far_plate: str, *, seed: int = 0) -> bytes:
    """A JPEG of two cars: `near_plate` on a car filling the left of the view, `far_plate` on a
    smaller one further off, top right (for readers that report every plate in view)."""
    import numpy as np

    near = Image.open(io.BytesIO(render_plate_photo(near_plate, seed=seed, size=(800, 600))))
    far = Image.open(io.BytesIO(render_plate_photo(far_plate, seed=seed + 3, size=(400, 300))))
    scene = Image.fromarray(np.full((600, 1280, 3), 90, np.uint8), "RGB")
    scene.paste(near, (0, 0))
    scene.paste(far, (800, 0))
    out = io.BytesIO()
    scene.save(out, format="JPEG", quality=90)
    return out.getvalue()


if __name__ == "__main__":
    SAMPLE_IMAGE.write_bytes(render_plate_photo(SAMPLE_PLATE))
    print(f"wrote {SAMPLE_IMAGE} ({SAMPLE_IMAGE.stat().st_size} bytes), plate {SAMPLE_PLATE}")
