"""Real plate crops cut the way the reader cuts a plate in a street photo.

The fine-tune's real samples are random middle bands of whole-plate crops: the number with
half the state name and slogan around it, at the benchmark's size, separators left in. The
reader sees something else: a plate a quarter that size, JPEG-compressed, its number row found
by the localiser, cropped with crop_line's margins (and the views' wider, tighter and levelled
crops), separators painted out. This module makes the second kind from the first: shrink and
compress the plate, find its rows as the reader does, keep the row the label belongs to, and
cut every crop the reader would cut of it. The glyph classifier trains on these
(services.ocr.training.glyphs); the recogniser did not gain from them (services/ocr/EXPERIMENTS.md).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import cv2
import numpy as np

from services.common.plates import edit_distance
from services.ocr import reader
from services.ocr.localise import find_lines
from services.ocr.recognizer import greedy_decode
from services.ocr.separators import erase_separators
from services.ocr.training.synth import jpeg_round_trip

Sample = tuple[np.ndarray, str]  # (greyscale crop, label), not yet resized
# Greyscale crops -> each one's (T, 37) log-probs under the weights the rows are chosen with.
Reader = Callable[[list[np.ndarray]], list[np.ndarray]]

# Plates in street photos: the benchmark's crops are ~320 px wide, us-endtoend's plates a median
# 87 px (x0.27); eu-endtoend's and near cars' are larger.
SCALES = (0.15, 0.8)
# A row whose greedy read is further than this from the label is not the label's row (a state
# name, a slogan, a piece of the number): its crops would teach the network to hallucinate.
MAX_EDITS = 2


def street_rows(plate: np.ndarray, label: str, read: Reader, rng: random.Random, draws: int = 4) -> list[Sample]:
    """Up to `draws` x 3-4 crops of `plate`'s number row, each draw at a random street
    size and JPEG quality; none for a draw where no row reads within MAX_EDITS of `label`."""
    out: list[Sample] = []
    for _ in range(draws):
        scale = math.exp(rng.uniform(*map(math.log, SCALES)))
        small = cv2.resize(plate, (max(8, round(plate.shape[1] * scale)), max(8, round(plate.shape[0] * scale))),
                           interpolation=cv2.INTER_AREA)
        # Some car around the plate, as a photo has, so the crops' margins are not cut short.
        pad = small.shape[0] // 2
        grey = jpeg_round_trip(cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE), rng.randint(50, 95))
        lines = find_lines(grey, max_lines=20)
        if not lines:
            continue
        mains = [erase_separators(reader.crop_line(grey, line.box, fences=line.fences)) for line in lines]
        reads = [greedy_decode(logp)[0] for logp in read(mains)]
        edits = [edit_distance(text, label) for text in reads]
        best = min(range(len(lines)), key=lambda i: (edits[i], -lines[i].box.height))
        if edits[best] > MAX_EDITS:
            continue
        crops = [mains[best]] + [erase_separators(c) for c in reader.view_crops(grey, lines[best])]
        out += [(crop, label) for crop in crops if crop.size]
    return out

