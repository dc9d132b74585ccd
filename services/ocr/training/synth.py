"""Synthetic US licence-plate number lines for fine-tuning the recogniser.

A whole plate (background art, state name, slogan, stickers, bolts, frame) is drawn around the
number, then a crop around the number line is cut with random margins and degraded the way real
detector crops are (tilt, perspective, blur, tiny size, JPEG, noise, shadows). Everything is driven
by the caller's random.Random, so a seed reproduces a sample exactly.

    python -m services.ocr.training.synth --out /tmp/synth --count 64
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Debian's fonts-dejavu-core; CARDAK_SYNTH_FONT_DIR where they live elsewhere (a GPU box without them).
FONT_DIR = Path(os.environ.get("CARDAK_SYNTH_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
# (file, weight): condensed bold is closest to the US "penitentiary gothic" plate face.
NUMBER_FONTS = [
    ("DejaVuSansCondensed-Bold.ttf", 5),
    ("DejaVuSans-Bold.ttf", 3),
    ("DejaVuSansMono-Bold.ttf", 2),
    ("DejaVuSansCondensed.ttf", 1.5),
    ("DejaVuSans.ttf", 1),
    ("DejaVuSansMono.ttf", 1),
    ("DejaVuSerifCondensed-Bold.ttf", 0.4),
]
HERSHEY_FONTS = [(cv2.FONT_HERSHEY_SIMPLEX, 3), (cv2.FONT_HERSHEY_DUPLEX, 2), (cv2.FONT_HERSHEY_TRIPLEX, 0.5)]
HERSHEY_SHARE = 0.3
DECOR_FONTS = [
    "DejaVuSans-Bold.ttf",
    "DejaVuSans.ttf",
    "DejaVuSansCondensed-Bold.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSerif-BoldItalic.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansCondensed-Oblique.ttf",
]
GLYPH_SIZE = 64  # font size glyphs are cached at; lines are rescaled afterwards
RENDER_CH = 48  # character height, in pixels, of the full-resolution plate before degradation

STATES = (
    "Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia Hawaii Idaho "
    "Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts Michigan Minnesota "
    "Mississippi Missouri Montana Nebraska Nevada Ohio Oklahoma Oregon Pennsylvania Tennessee Texas Utah "
    "Vermont Virginia Washington Wisconsin Wyoming"
).split() + ["New York", "New Jersey", "New Mexico", "New Hampshire", "North Carolina", "South Dakota",
             "North Dakota", "Rhode Island", "South Carolina", "West Virginia", "Washington, DC"]
SLOGANS = [
    "Land of Lincoln", "The Empire State", "Garden State", "Sunshine State", "Great Faces. Great Places.",
    "Famous Potatoes", "Green Mountain State", "America's Dairyland", "Live Free or Die", "Lone Star State",
    "First in Flight", "Land of Enchantment", "10,000 lakes", "Constitution State", "Life Elevated",
    "Wild, Wonderful", "The Silver State", "Sportsman's Paradise", "Aloha State", "Explore Minnesota",
    "Grand Canyon State", "Peach State", "Spirit of America", "Centennial State", "The Natural State",
    "Critical Habitat", "Firefighter", "Veteran", "Dealer", "Taxation Without Representation",
    "www.maryland.gov", "Choose Life", "Collegiate", "Share the Road", "Official", "Rhode Island",
    "Discover Ocean State", "Greatest Snow on Earth", "Heart of Dixie", "Wild Wonderful",
]
VANITY = (
    "CAT DOG SWEET LUCKY MAGIC HAPPY BOSS SURF SKI GOLF JAZZ ROCK BLUES MOM DAD GRAMMA BEACH SUNNY "
    "FAST ZOOM VROOM TURBO GR8 L8R 2COOL 4EVER B4U NOLUV CU2 XOXO ICU2 OMG LOL TEXAS OHIO IOWA "
    "DOC RN MD LAWYER COP FIRE EMT NAVY ARMY USMC VET TIGER BEAR EAGLE HAWKS GATOR BADGER DUCKS "
    "ATHEIST FRESPCH BIGDOG BOOGIE DIVA QUEEN KING PRINCE BOB TOM JOE ANN SUE LIZ MAX SAM ZOE "
    "GOBLUE GOSOX YANKEES BEAVER OTTER MOOSE ELK SALMON TROUT BASS BOAT SAIL HIKE CAMP CLIMB "
    "TAXI LIMO BUS VAN JEEP MUSTANG CAMARO TESLA EV ECO GREEN SOLAR OIL GAS DIESEL"
).split()

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
# Confusable glyph pairs are over-sampled so the network is forced to tell them apart.
_LETTER_W = [2.5 if c in "ODQILTSBZG" else 1.0 for c in LETTERS]
_DIGIT_W = [2.0 if c in "015826" else 1.0 for c in DIGITS]
CONFUSABLE = "0ODQ1ILT5S8B2Z6G"
# L = letter, D = digit, X = either. Weights loosely follow how common each layout is.
FORMATS = [
    ("DLLLDDD", 3), ("LLLDDDD", 3), ("LLLDDD", 3), ("DDDLLL", 2), ("LLDDDDD", 1.5), ("DDDDLL", 1),
    ("LLDLDDD", 0.7), ("DLLDDDD", 0.7), ("LDDLLL", 0.5), ("LLLLDD", 0.5), ("DDDDDD", 0.5), ("LDDDDD", 0.5),
    ("DDLLDD", 0.5), ("DDDDDDD", 0.3), ("LLDDLL", 0.5), ("DLLDD", 0.5), ("LLDDD", 0.5), ("XXXXXX", 2),
    ("XXXXXXX", 2), ("XXXXX", 0.7),
]


def random_plate_text(rng: random.Random) -> str:
    """A 2-8 character label from realistic US layouts, uniform noise, vanity words or confusables."""
    kind = rng.random()
    if kind < 0.62:
        fmt = rng.choices([f for f, _ in FORMATS], weights=[w for _, w in FORMATS])[0]
        return "".join(_pick(rng, slot) for slot in fmt)
    if kind < 0.77:
        return "".join(_pick(rng, "X") for _ in range(rng.randint(2, 8)))
    if kind < 0.88:
        word = rng.choice(VANITY)
        if rng.random() < 0.3 and len(word) < 8:
            word += "".join(rng.choice(DIGITS) for _ in range(rng.randint(1, min(3, 8 - len(word)))))
        return word[:8]
    return "".join(rng.choice(CONFUSABLE) for _ in range(rng.randint(3, 8)))


def _pick(rng: random.Random, slot: str) -> str:
    if slot == "X":
        slot = "L" if rng.random() < 0.5 else "D"
    if slot == "L":
        return rng.choices(LETTERS, weights=_LETTER_W)[0]
    return rng.choices(DIGITS, weights=_DIGIT_W)[0]


# ---------------------------------------------------------------- glyphs and the number line


@lru_cache(maxsize=None)
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / name), size)


@lru_cache(maxsize=4096)
def _ttf_glyph(name: str, char: str) -> tuple[np.ndarray, int]:
    """Ink of one character (trimmed) and its top row on a fixed baseline."""
    font = _font(name, GLYPH_SIZE)
    canvas = Image.new("L", (GLYPH_SIZE * 2, GLYPH_SIZE * 2), 0)
    ImageDraw.Draw(canvas).text((GLYPH_SIZE // 2, int(GLYPH_SIZE * 1.4)), char, font=font, fill=255, anchor="ls")
    return _trim(np.asarray(canvas))


@lru_cache(maxsize=4096)
def _hershey_glyph(face: int, thickness: int, char: str) -> tuple[np.ndarray, int]:
    canvas = np.zeros((140, 140), np.uint8)
    cv2.putText(canvas, char, (30, 100), face, 2.0, 255, thickness, cv2.LINE_AA)
    return _trim(canvas)


def _trim(ink: np.ndarray) -> tuple[np.ndarray, int]:
    cols = np.flatnonzero(ink.max(axis=0) > 40)
    rows = np.flatnonzero(ink.max(axis=1) > 40)
    if cols.size == 0:
        return np.zeros((1, 1), np.uint8), 0
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].copy(), int(rows[0])


def _cap_height(glyph_src: tuple) -> int:
    mask, _ = _glyph(glyph_src, "H")
    return mask.shape[0]


def _glyph(glyph_src: tuple, char: str) -> tuple[np.ndarray, int]:
    """Mask of `char` and its top row relative to the top of 'H' (the cap line)."""
    raw = _ttf_glyph if glyph_src[0] == "ttf" else _hershey_glyph
    mask, top = raw(*glyph_src[1:], char)
    return mask, top - raw(*glyph_src[1:], "H")[1]


def _split_groups(text: str, rng: random.Random) -> list[str]:
    """Where a visual gap/dash/emblem goes; the label itself never contains it."""
    if len(text) < 4 or rng.random() < 0.35:
        return [text]
    cuts = [i for i in range(1, len(text)) if text[i - 1].isdigit() != text[i].isdigit()]
    if cuts and rng.random() < 0.75:
        cut = rng.choice(cuts)
    else:
        cut = rng.randint(2, len(text) - 2)
    return [text[:cut], text[cut:]]


def _number_line(text: str, rng: random.Random) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Masks (text, separator decoration) at glyph scale, the cap-top row inside them, cap height."""
    if rng.random() < HERSHEY_SHARE:
        face = rng.choices([f for f, _ in HERSHEY_FONTS], weights=[w for _, w in HERSHEY_FONTS])[0]
        src: tuple = ("hershey", face, rng.choice([3, 4, 5, 6, 7, 8]))
    else:
        src = ("ttf", rng.choices([f for f, _ in NUMBER_FONTS], weights=[w for _, w in NUMBER_FONTS])[0])
    cap = _cap_height(src)
    spacing = rng.uniform(0.04, 0.28) * cap
    groups = _split_groups(text, rng)
    sep_kind = rng.choices(["space", "dash", "dot", "emblem", "none"], weights=[3, 2.5, 0.7, 2, 1])[0]

    pieces: list[tuple[int, np.ndarray, int, bool]] = []  # (x, mask, top, is_text)
    x = 0
    top_min, bottom_max = 0, cap
    for g, group in enumerate(groups):
        if g:
            x, piece = _separator(sep_kind, x, cap, spacing, rng)
            if piece is not None:
                pieces.append(piece)
        for char in group:
            mask, top = _glyph(src, char)
            pieces.append((x, mask, top, True))
            top_min = min(top_min, top)
            bottom_max = max(bottom_max, top + mask.shape[0])
            x += mask.shape[1] + int(spacing)
    width = max(1, x - int(spacing))
    height = bottom_max - top_min
    text_mask = np.zeros((height, width + 2), np.uint8)
    deco_mask = np.zeros_like(text_mask)
    for px, mask, top, is_text in pieces:
        y0 = top - top_min
        target = text_mask if is_text else deco_mask
        h, w = mask.shape
        h = min(h, height - y0)
        w = min(w, target.shape[1] - px)
        if h > 0 and w > 0:
            np.maximum(target[y0 : y0 + h, px : px + w], mask[:h, :w], out=target[y0 : y0 + h, px : px + w])
    return text_mask, deco_mask, -top_min, cap


def _separator(kind: str, x: int, cap: int, spacing: float, rng: random.Random):
    if kind == "none":
        return x + int(rng.uniform(0.0, 0.15) * cap), None
    if kind == "space":
        return x + int(rng.uniform(0.25, 0.9) * cap), None
    gap = int(rng.uniform(0.08, 0.25) * cap)
    if kind == "dash":
        w, t = int(rng.uniform(0.2, 0.45) * cap), max(2, int(rng.uniform(0.07, 0.14) * cap))
        mask = np.full((t, w), 255, np.uint8)
        top = int(cap * rng.uniform(0.42, 0.55)) - t // 2
    elif kind == "dot":
        r = max(2, int(rng.uniform(0.05, 0.1) * cap))
        mask = np.zeros((2 * r + 1, 2 * r + 1), np.uint8)
        cv2.circle(mask, (r, r), r, 255, -1, cv2.LINE_AA)
        w, top = 2 * r + 1, cap // 2 - r
    else:  # emblem: state outline, star, seal...
        size = int(rng.uniform(0.45, 0.95) * cap)
        w = int(size * rng.uniform(0.7, 1.3))
        mask = np.zeros((size, w), np.uint8)
        shape = rng.random()
        if shape < 0.35:
            cv2.circle(mask, (w // 2, size // 2), min(w, size) // 2 - 1, 255, -1 if rng.random() < 0.5 else 3)
        elif shape < 0.65:
            pts = _star(w / 2, size / 2, min(w, size) / 2, rng.choice([5, 6, 8]))
            cv2.fillPoly(mask, [pts], 255, cv2.LINE_AA)
        else:
            pts = np.array([[rng.uniform(0, w), rng.uniform(0, size)] for _ in range(rng.randint(5, 9))], np.float32)
            cv2.fillPoly(mask, [cv2.convexHull(pts).astype(np.int32)], 255, cv2.LINE_AA)
        top = (cap - size) // 2
    piece = (x + gap, mask, top, False)
    return x + gap + mask.shape[1] + gap, piece


def _star(cx: float, cy: float, r: float, n: int) -> np.ndarray:
    pts = []
    for i in range(2 * n):
        rad = r if i % 2 == 0 else r * 0.45
        a = math.pi * i / n - math.pi / 2
        pts.append([cx + rad * math.cos(a), cy + rad * math.sin(a)])
    return np.array(pts, np.int32)


# ---------------------------------------------------------------- the plate around it


def _colours(rng: random.Random) -> tuple[tuple, tuple, bool]:
    """(background RGB, character RGB, dark plate?)."""
    if rng.random() < 0.13:
        bg = rng.choice([(20, 40, 110), (15, 80, 40), (15, 15, 20), (120, 20, 30), (40, 40, 60), (0, 90, 140)])
        fg = rng.choice([(250, 250, 250), (250, 215, 40), (235, 235, 220)])
        return _jitter(bg, rng, 25), _jitter(fg, rng, 15), True
    bg = rng.choice([
        (250, 250, 250), (240, 240, 235), (245, 238, 215), (250, 235, 150), (245, 225, 90), (215, 230, 245),
        (190, 215, 240), (230, 240, 225), (250, 225, 225), (225, 225, 230), (235, 230, 245),
    ])
    fg = rng.choice([
        (15, 15, 20), (20, 30, 110), (25, 45, 140), (10, 60, 150), (150, 20, 25), (20, 90, 40), (90, 20, 60),
        (40, 40, 40), (200, 30, 30), (0, 100, 170),
    ])
    return _jitter(bg, rng, 15), _jitter(fg, rng, 25), False


def _jitter(c: tuple, rng: random.Random, amount: int) -> tuple:
    return tuple(int(np.clip(v + rng.randint(-amount, amount), 0, 255)) for v in c)


def _random_colour(rng: random.Random) -> tuple:
    return (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))


def _paint(img: np.ndarray, mask: np.ndarray, x: int, y: int, colour: tuple, alpha: float = 1.0) -> None:
    """Alpha-blend a uint8 coverage mask of one colour onto img at (x, y), clipped to img."""
    h, w = mask.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, img.shape[1]), min(y + h, img.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    a = mask[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)[..., None] * (alpha / 255.0)
    region = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = (region * (1 - a) + np.array(colour, np.float32) * a).astype(np.uint8)


def _text_mask(text: str, font_name: str, height: int, rng: random.Random) -> np.ndarray:
    size = max(6, int(height * 1.35))
    font = _font(font_name, size)
    l, t, r, b = font.getbbox(text)
    canvas = Image.new("L", (max(1, int(r - l) + 4), max(1, int(b - t) + 4)), 0)
    ImageDraw.Draw(canvas).text((2 - l, 2 - t), text, font=font, fill=255)
    mask = np.asarray(canvas)
    if rng.random() < 0.3:  # letter-spaced or squeezed captions
        mask = cv2.resize(mask, (max(1, int(mask.shape[1] * rng.uniform(0.75, 1.4))), mask.shape[0]))
    return mask


def _background(h: int, w: int, bg: tuple, rng: random.Random) -> np.ndarray:
    img: np.ndarray = np.empty((h, w, 3), np.float32)
    img[:] = bg
    if rng.random() < 0.5:  # gradient, often towards a second colour at the top or bottom
        other = np.array(_jitter(bg, rng, 60) if rng.random() < 0.6 else _random_colour(rng), np.float32)
        ramp = np.linspace(0, 1, h, dtype=np.float32)[:, None, None] ** rng.uniform(0.5, 3)
        if rng.random() < 0.5:
            ramp = ramp[::-1]
        img = img * (1 - ramp * rng.uniform(0.3, 1)) + other * ramp * rng.uniform(0.0, 1)
        img = np.clip(img, 0, 255)
    out = img.astype(np.uint8)
    for _ in range(rng.choice([0, 0, 1, 2, 3])):  # scenery: mountains, sun, bands, blobs
        colour = _jitter(bg, rng, 70) if rng.random() < 0.7 else _random_colour(rng)
        layer: np.ndarray = np.zeros((h, w), np.uint8)
        kind = rng.random()
        if kind < 0.35:
            base = rng.uniform(0.5, 1.0) * h
            xs = np.linspace(0, w, rng.randint(3, 9))
            pts = [[0, h]] + [[x, base - rng.uniform(0, 0.5) * h] for x in xs] + [[w, h]]
            cv2.fillPoly(layer, [np.array(pts, np.int32)], 255, cv2.LINE_AA)
        elif kind < 0.55:
            cv2.circle(layer, (rng.randint(0, w), rng.randint(0, h)), rng.randint(h // 8, h // 2), 255, -1, cv2.LINE_AA)
        elif kind < 0.8:
            y0 = rng.randint(0, h)
            cv2.rectangle(layer, (0, y0), (w, y0 + rng.randint(h // 20, h // 4)), 255, -1)
        else:
            cx, cy = rng.randint(0, w), rng.randint(0, h)
            axes = (rng.randint(h // 6, h), rng.randint(h // 8, h // 2))
            cv2.ellipse(layer, (cx, cy), axes, rng.uniform(0, 180), 0, 360, 255, -1, cv2.LINE_AA)
        layer = cv2.GaussianBlur(layer, (0, 0), rng.uniform(0.5, 4))
        _paint(out, layer, 0, 0, colour, rng.uniform(0.15, 0.8))
    return out


def _plate(text: str, rng: random.Random) -> tuple[np.ndarray, tuple[float, float, float, float], float]:
    """An RGB canvas (plate + surroundings), the number line's box (x0, y0, x1, y1), char height."""
    text_mask, deco_mask, cap_top, cap = _number_line(text, rng)
    ch = float(RENDER_CH)
    scale = ch / cap
    squeeze = rng.uniform(0.6, 1.0)
    line_w = max(4, int(text_mask.shape[1] * scale * squeeze))
    line_h = max(4, int(text_mask.shape[0] * scale))
    text_mask = cv2.resize(text_mask, (line_w, line_h), interpolation=cv2.INTER_AREA)
    deco_mask = cv2.resize(deco_mask, (line_w, line_h), interpolation=cv2.INTER_AREA)
    cap_top = int(round(cap_top * scale))
    stroke = rng.random()
    if stroke < 0.3:
        text_mask = cv2.dilate(text_mask, np.ones((rng.randint(2, 4),) * 2, np.uint8))
    elif stroke < 0.5:
        text_mask = cv2.erode(text_mask, np.ones((2, 2), np.uint8))

    plate_h = int(ch / rng.uniform(0.4, 0.56))
    plate_w = int(max(plate_h * rng.uniform(1.8, 2.1), line_w + rng.uniform(0.3, 1.0) * ch))
    surround = int(ch * 1.8)
    H, W = plate_h + 2 * surround, plate_w + 2 * surround
    bg, fg, dark = _colours(rng)

    # Surroundings: bumper, car paint or a chrome/plastic frame.
    canvas: np.ndarray = np.empty((H, W, 3), np.uint8)
    canvas[:] = _random_colour(rng) if rng.random() < 0.5 else (rng.randint(10, 200),) * 3
    canvas = cv2.GaussianBlur(canvas, (0, 0), 3)
    px, py = surround, surround
    plate = _background(plate_h, plate_w, bg, rng)
    canvas[py : py + plate_h, px : px + plate_w] = plate
    if rng.random() < 0.5:  # embossed rim
        cv2.rectangle(canvas, (px + 3, py + 3), (px + plate_w - 4, py + plate_h - 4), _jitter(fg, rng, 40),
                      rng.randint(1, 3), cv2.LINE_AA)
    if rng.random() < 0.35:  # plate frame overlapping the edges
        t = int(rng.uniform(0.08, 0.3) * ch)
        frame_c = (rng.randint(0, 220),) * 3
        cv2.rectangle(canvas, (px - t // 2, py - t // 2), (px + plate_w + t // 2, py + plate_h + t // 2), frame_c, t)

    lx = px + int((plate_w - line_w) / 2 + rng.uniform(-0.15, 0.15) * max(0, plate_w - line_w))
    cap_y = py + int(plate_h * rng.uniform(0.5, 0.6) - ch / 2)
    ly = cap_y - cap_top

    # State name above and slogan below, at random gaps: both may reach into the crop.
    gap = int(ch * rng.uniform(0.06, 0.35))
    top_h = min(int(ch * rng.uniform(0.22, 0.5)), cap_y - gap - py - 2)
    _caption(canvas, rng.choice(STATES), top_h, px + plate_w / 2, cap_y - gap - top_h, rng, fg, plate_w)
    gap = int(ch * rng.uniform(0.06, 0.35))
    bot_h = min(int(ch * rng.uniform(0.16, 0.34)), int(py + plate_h - (cap_y + ch + gap) - 2))
    _caption(canvas, rng.choice(SLOGANS), bot_h, px + plate_w / 2, int(cap_y + ch + gap), rng, fg, plate_w)

    for _ in range(rng.choice([0, 1, 1, 2, 3])):  # registration stickers, mostly in corners
        sw, sh = int(ch * rng.uniform(0.35, 0.8)), int(ch * rng.uniform(0.25, 0.55))
        sx = px + (rng.randint(2, int(ch * 0.6)) if rng.random() < 0.5 else plate_w - sw - rng.randint(2, int(ch * 0.6)))
        sy = py + (rng.randint(2, int(ch * 0.5)) if rng.random() < 0.6 else plate_h - sh - rng.randint(2, int(ch * 0.5)))
        if sx < lx + line_w and sx + sw > lx and sy < cap_y + ch * 0.85 and sy + sh > cap_y + ch * 0.15:
            continue  # a sticker hiding a character would make the label a lie
        cv2.rectangle(canvas, (sx, sy), (sx + sw, sy + sh), _random_colour(rng), -1)
        if rng.random() < 0.7:
            small = _text_mask(rng.choice(["01", "02", "06", "08", "98", "97", "MAY", "DEC", "APR", "OCT", "2024", "JUN"]),
                               "DejaVuSans-Bold.ttf", max(4, int(sh * 0.6)), rng)
            _paint(canvas, small, sx + 1, sy + 1, (rng.choice([0, 255]),) * 3)
    if rng.random() < 0.15:  # small side text beside the number (month/county stickers, ID strings)
        small = _text_mask("".join(rng.choice(LETTERS + DIGITS) for _ in range(rng.randint(2, 6))),
                           "DejaVuSans-Bold.ttf", int(ch * rng.uniform(0.18, 0.35)), rng)
        sx = lx + line_w + int(ch * rng.uniform(0.1, 0.4)) if rng.random() < 0.5 else lx - small.shape[1] - int(ch * 0.2)
        _paint(canvas, small, sx, cap_y + int(ch * rng.uniform(0.0, 0.7)), fg)
    for bx in (0.22, 0.78):  # bolts / holes
        if rng.random() < 0.6:
            r = int(ch * rng.uniform(0.05, 0.11))
            for by in (0.1, 0.9) if rng.random() < 0.5 else (0.1,):
                centre = (px + int(plate_w * (bx + rng.uniform(-0.05, 0.05))), py + int(plate_h * by))
                cv2.circle(canvas, centre, r, (rng.randint(40, 220),) * 3, -1, cv2.LINE_AA)

    if rng.random() < 0.6:  # embossed characters cast a small shadow
        off = rng.randint(1, 3)
        _paint(canvas, text_mask, lx + off, ly + off, (0, 0, 0), rng.uniform(0.15, 0.5))
    _paint(canvas, deco_mask, lx, ly, fg if rng.random() < 0.5 else _random_colour(rng))
    _paint(canvas, text_mask, lx, ly, fg)
    return canvas, (lx, cap_y, lx + line_w, cap_y + ch), ch


def _caption(canvas: np.ndarray, text: str, height: int, cx: float, y: float, rng: random.Random,
             fg: tuple, plate_w: int) -> None:
    if rng.random() < 0.15 or height < 4:
        return
    if rng.random() < 0.5:
        text = text.upper()
    mask = _text_mask(text, rng.choice(DECOR_FONTS), height, rng)
    if mask.shape[1] > plate_w * 0.95:
        mask = cv2.resize(mask, (int(plate_w * 0.95), mask.shape[0]))
    colour = fg if rng.random() < 0.4 else (_random_colour(rng) if rng.random() < 0.5 else _jitter(fg, rng, 80))
    x = int(cx - mask.shape[1] / 2 + rng.uniform(-0.1, 0.1) * plate_w)
    _paint(canvas, mask, x, int(y), colour)


# ---------------------------------------------------------------- crop and degrade


def render_plate_line(text: str, rng: random.Random) -> np.ndarray:
    """Greyscale uint8 crop around the plate number `text`, as a detector might cut it."""
    canvas, (x0, y0, x1, y1), ch = _plate(text, rng)
    grey = cv2.cvtColor(canvas, cv2.COLOR_RGB2GRAY)

    left, right = rng.uniform(0.05, 1.2) * ch, rng.uniform(0.05, 1.2) * ch
    top, bottom = rng.uniform(0.05, 0.6) * ch, rng.uniform(0.05, 0.6) * ch
    angle = max(-6.0, min(6.0, rng.gauss(0, 2.5)))
    # A tilted line needs more height, or its ends are cut off; detectors' boxes grow the same way.
    need = (x1 - x0) / 2 * abs(math.tan(math.radians(angle))) - 0.05 * ch
    top, bottom = max(top, need), max(bottom, need)
    out_w = int(x1 - x0 + left + right)
    out_h = int(y1 - y0 + top + bottom)
    cx, cy = (x0 - left + x1 + right) / 2, (y0 - top + y1 + bottom) / 2

    # Source quad in the canvas for the output rectangle: rotate, shear, jitter corners.
    a = math.radians(angle)
    shear = rng.gauss(0, 0.08)
    jitter = 0.03 * out_h
    src = []
    for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        u, v = dx * out_w / 2, dy * out_h / 2
        u += shear * v
        xr = u * math.cos(a) - v * math.sin(a) + cx + rng.uniform(-jitter, jitter)
        yr = u * math.sin(a) + v * math.cos(a) + cy + rng.uniform(-jitter, jitter)
        src.append([xr, yr])
    dst = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], np.float32)
    m = cv2.getPerspectiveTransform(np.array(src, np.float32), dst)
    img = cv2.warpPerspective(grey, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return _degrade(img, ch, rng)


def _degrade(img: np.ndarray, ch: float, rng: random.Random) -> np.ndarray:
    f: np.ndarray = img.astype(np.float32)
    h, w = f.shape
    if rng.random() < 0.5:  # uneven light: a linear ramp and/or a shadow edge
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        t = rng.uniform(0, 2 * math.pi)
        ramp = (xx * math.cos(t) + yy * math.sin(t)) / max(h, w)
        f *= 1 + rng.uniform(-0.5, 0.5) * (ramp - ramp.mean())
        if rng.random() < 0.4:
            edge = (xx * math.cos(t + 1) + yy * math.sin(t + 1)) > rng.uniform(0.2, 0.8) * max(h, w)
            f = np.where(cv2.GaussianBlur(edge.astype(np.float32), (0, 0), rng.uniform(1, 6)) > 0.5,
                         f * rng.uniform(0.4, 0.8), f)
    if rng.random() < 0.35:  # low contrast / haze
        lo, hi = rng.uniform(0, 110), rng.uniform(150, 255)
        f = lo + f * (hi - lo) / 255.0
    if rng.random() < 0.5:
        f = cv2.GaussianBlur(f, (0, 0), rng.uniform(0.3, 2.5))
    if rng.random() < 0.25:
        k = rng.randint(3, 9)
        kernel: np.ndarray = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(-30, 30), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (k, k))
        f = cv2.filter2D(f, -1, kernel / max(kernel.sum(), 1e-6))

    # Tiny plates: shrink to a character height of 8-40 px (log-uniform, so small sizes are common).
    target_ch = math.exp(rng.uniform(math.log(8), math.log(40)))
    s = min(1.0, target_ch / ch)
    small_w, small_h = max(4, int(w * s)), max(4, int(h * s))
    f = cv2.resize(f, (small_w, small_h), interpolation=rng.choice([cv2.INTER_AREA, cv2.INTER_LINEAR]))
    if rng.random() < 0.6:
        noise = np.random.default_rng(rng.getrandbits(32)).standard_normal(f.shape, np.float32)
        f = f + np.float32(rng.uniform(1, 12)) * noise
    small: np.ndarray = np.clip(f, 0, 255).astype(np.uint8)
    if rng.random() < 0.6:
        small = jpeg_round_trip(small, rng.randint(15, 90))
    if rng.random() < 0.4:  # upscaled by an earlier stage (camera pipeline, detector resize)
        interp = rng.choice([cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_NEAREST])
        small = cv2.resize(small, (w, h), interpolation=interp)
    return small


def jpeg_round_trip(img: np.ndarray, quality: int) -> np.ndarray:
    """`img` as it comes back from a JPEG of that quality (unchanged if encoding fails)."""
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE) if ok else None
    return decoded if decoded is not None else img


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--count", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    with open(args.out / "labels.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "label"])
        for i in range(args.count):
            text = random_plate_text(rng)
            name = f"{i:05d}.png"
            cv2.imwrite(str(args.out / name), render_plate_line(text, rng))
            writer.writerow([name, text])
    print(f"wrote {args.count} samples to {args.out}")


if __name__ == "__main__":
    main()
