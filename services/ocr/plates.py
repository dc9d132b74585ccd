"""From the recogniser's output on candidate lines to a plate read. Pure logic: no model, no gRPC."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cardak.v1 import common_pb2
from services.ocr.decode import ctc_log_likelihood, ctc_nbest
from services.ocr.formats import COMMON_SHAPES, confusion_variants, plate_prior, shape

# US plates carry 2 to 8 characters; shorter or longer lines are stickers, slogans or frames.
MIN_LEN, MAX_LEN = 2, 8


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class LineRead:
    """The recogniser's output for one candidate line: (T, 37) log-probabilities, blank first."""

    box: Box
    logp: np.ndarray
    # How much the localiser thought the line looks like a row of plate characters, 0..1.
    geometry: float = 0.0
    # The same row cropped differently (wider, tighter); a string's probability is averaged
    # over all the crops, so one unlucky crop does not decide the read.
    views: tuple[np.ndarray, ...] = ()
    # From the strip where cameras burn in dates: only a common plate shape is read there.
    overlay: bool = False


@dataclass(frozen=True)
class PlateResult:
    text: str
    confidence: float
    box: Box
    raw_text: str
    candidates: list[tuple[str, float]] = field(default_factory=list)
    region: str = ""

    def as_proto(self) -> common_pb2.PlateRead:
        return common_pb2.PlateRead(
            text=self.text,
            confidence=self.confidence,
            candidates=[common_pb2.PlateCandidate(text=t, confidence=c) for t, c in self.candidates],
            box=common_pb2.BoundingBox(x=self.box.x, y=self.box.y, width=self.box.width, height=self.box.height),
            region=self.region,
            raw_text=self.raw_text,
        )


# Weights of the ranking score: log P(text | crop) + PRIOR * plate_prior + GEOMETRY * geometry.
PRIOR_WEIGHT = 0.5
GEOMETRY_WEIGHT = 1.0
# A line's alternatives are kept only within this many nats of its own best read (e^-6 ~ 1/400):
# further down, the pixels no longer support them and only the prior would.
MAX_DOUBT = 6.0


def pick_plate(reads: list[LineRead], max_candidates: int = 5) -> PlateResult | None:
    """The plate number among the candidate lines, or None when nothing reads as one.

    Each line proposes its likeliest strings (CTC beam search, over each of its crops) and
    their single-confusion variants that fit a common US shape (scored by the same CTC
    outputs, so a swap only wins when the pixels allow it). Every (line, string) pair is
    ranked by how well the pixels support the string, how plate-like the string is, and how
    plate-like the line looked.
    """
    best: dict[str, tuple[float, float, LineRead, str]] = {}  # text -> (score, log p, line, raw read)
    for read in reads:
        nbest = ctc_nbest(read.logp, n=5)
        if not nbest or ctc_log_likelihood(read.logp, "") > nbest[0][1]:
            continue  # the network thinks the crop holds no characters at all
        raw = nbest[0][0]
        proposals = _score_proposals(read, nbest)
        top = max(proposals.values())
        for text, log_p in proposals.items():
            if not MIN_LEN <= len(text) <= MAX_LEN or log_p < top - MAX_DOUBT:
                continue
            if read.overlay and shape(text) not in COMMON_SHAPES:
                continue  # a burnt-in date, time or name, which O/0 mix-ups give letters
            score = log_p + PRIOR_WEIGHT * plate_prior(text) + GEOMETRY_WEIGHT * read.geometry
            if text not in best or score > best[text][0]:
                best[text] = (score, log_p, read, raw)
    if not best:
        return None
    ranked = sorted(best.items(), key=lambda kv: kv[1][0], reverse=True)
    text, (_, log_p, read, raw) = ranked[0]
    return PlateResult(
        text=text,
        confidence=round(math.exp(log_p), 4),
        box=read.box,
        raw_text=raw,
        candidates=[(t, round(math.exp(v[1]), 4)) for t, v in ranked[:max_candidates]],
    )


def _score_proposals(read: LineRead, nbest: list[tuple[str, float]]) -> dict[str, float]:
    """log P(text | the row) for each string the row's crops propose."""
    texts = dict(nbest)
    for view in read.views:
        for text, _ in ctc_nbest(view, n=3):
            texts.setdefault(text, 0.0)
    for text, _ in nbest[:2]:
        for variant in confusion_variants(text):
            texts.setdefault(variant, 0.0)
    if not read.views:
        beam = dict(nbest)
        return {t: beam[t] if t in beam else ctc_log_likelihood(read.logp, t) for t in texts}
    outputs = (read.logp, *read.views)
    scored = {}
    for text in texts:
        per_crop = np.array([ctc_log_likelihood(out, text) for out in outputs])
        scored[text] = float(np.logaddexp.reduce(per_crop) - math.log(len(outputs)))
    return scored
