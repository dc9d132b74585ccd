"""From raw text detections to plate reads. Pure logic: no model, no gRPC."""

from __future__ import annotations

from dataclasses import dataclass, field

from cardak.v1 import common_pb2
from services.common.plates import normalise_plate

PLATE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# US plates carry 2 to 8 characters; shorter or longer lines are stickers, slogans or frames.
MIN_LEN, MAX_LEN = 2, 8


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Detection:
    """One line of text the recogniser saw."""

    text: str
    confidence: float
    box: Box


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


def pick_plate(detections: list[Detection], max_candidates: int = 5) -> PlateResult | None:
    """The plate number among the lines read, or None when no line looks like one.

    The number is the tallest line on a plate (state names and slogans are smaller), so lines
    are ranked by height, weighted by confidence; runners-up of similar height are kept as candidates.
    """
    plausible = [d for d in detections if MIN_LEN <= len(normalise_plate(d.text)) <= MAX_LEN]
    if not plausible:
        return None
    ranked = sorted(plausible, key=lambda d: d.box.height * (0.5 + d.confidence), reverse=True)
    best = ranked[0]
    candidates: list[tuple[str, float]] = []
    for d in ranked:
        if d.box.height < 0.7 * best.box.height:
            continue  # a smaller line is a state name or slogan, not another reading of the number
        text = normalise_plate(d.text)
        if text not in (c for c, _ in candidates):
            candidates.append((text, round(d.confidence, 4)))
    return PlateResult(
        text=normalise_plate(best.text),
        confidence=round(best.confidence, 4),
        box=best.box,
        raw_text=best.text,
        candidates=candidates[:max_candidates],
    )
