"""From the recogniser's output on candidate lines to a plate read. Pure logic: no model, no gRPC."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from cardak.v1 import common_pb2
from services.ocr.decode import ctc_log_likelihood, ctc_log_likelihoods, ctc_nbest
from services.ocr.formats import (confusion_variants, digits_in_disguise, fits_common_shape, plate_prior, row_prior,
                                  swap_prior)

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
    # The main crop as the recogniser read it (separators painted out), for a second opinion
    # on single characters (SecondOpinion); None where there is none to ask.
    crop: np.ndarray | None = None

    @cached_property
    def _proposals(self) -> list[_Scored]:
        """This line's scored strings, worked out once: most_promising ranks the lines by them,
        then pick_plates ranks them beside the other lines' (a line given views is a new LineRead)."""
        return _line_proposals(self)


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


# Weights of the ranking score: log P(text | crop) + PRIOR * (plate_prior + row_prior) + SWAP * swap_prior
# + GEOMETRY * geometry.
PRIOR_WEIGHT = 0.5
GEOMETRY_WEIGHT = 1.0
# A row's reads that differ by one character also by how usual that character is on plates
# (formats.swap_prior): Z for 7, V for W were the network's likeliest reads of small plates.
SWAP_WEIGHT = 0.5
# A line's alternatives are kept only within this many nats of its own best read (e^-6 ~ 1/400):
# further down, the pixels no longer support them and only the prior would.
MAX_DOUBT = 6.0


# A row under half the height of a plausible plate elsewhere loses 1.0 (_small_rows_below_plates).
SMALL_ROW, SMALL_ROW_PENALTY, PLAUSIBLE_PLATE = 0.5, 1.0, 0.05


# Below this ranking score even a best read of a common plate shape is noise, not a plate: the 343
# right first reads of the 401 dev photos and held-out crops all scored -1.9 or more, a blurred-noise
# photo's best -7.9 ("66"); a small plate's right read of a common shape went down to -4.2 at x0.75.
MIN_PLATE_SCORE = -MAX_DOUBT
# A best read of no common plate shape must score this much to be a plate. With their plates
# blurred out, 92 of the 115 us-endtoend photos still reported one (a sign's THISAREA, a grille's
# 77777, a fence's IIIII, a date), most of them scoring -6 to -3; the right reads of uncommon shape
# on the dev sets (us-endtoend also at JPEG 80, x0.75 and x1.5) scored -1.7 or more.
MIN_UNCOMMON_SCORE = -3.0


# A second plate in one photo (another car, a trailer) is reported only when it is read this
# confidently and in a common plate shape (plate_shaped): anything less is usually sign or sticker
# text. A row of digits whose I or O makes the shape is not: a school bus's fleet number 219906,
# read 2I9906 and taller than the bus's plate, was reported as the nearest plate.
OTHER_PLATE_MIN_CONFIDENCE = 0.5
MAX_PLATES = 4


@dataclass(frozen=True)
class _Scored:
    score: float
    text: str
    log_p: float
    read: LineRead
    raw: str


# (a row's read, its best string, strings as long) -> for each, how much likelier a reader of
# single characters finds it than the best, in log-odds (services.ocr.glyphs.GlyphJudge).
SecondOpinion = Callable[[LineRead, str, list[str]], list[float]]
# The second opinion's log-odds against the ranking score's nats.
GLYPH_WEIGHT = 0.75
# Drawn alike in most plate fonts: the plate shape decides these, not a glyph.
SAME_GLYPH = (frozenset("O0"), frozenset("I1"))


def pick_plates(reads: list[LineRead], max_plates: int = MAX_PLATES, max_candidates: int = 5,
                second_opinion: SecondOpinion | None = None) -> list[PlateResult]:
    """The plate numbers among the candidate lines, nearest vehicle first; empty when nothing
    reads as a plate (no line proposes a string, or the best scores too low: _plate_enough).

    Each line proposes its likeliest strings (CTC beam search, over each of its crops) and
    their single-confusion variants that fit a common US shape (scored by the same CTC
    outputs, so a swap only wins when the pixels allow it). Every (line, string) pair is
    ranked by how well the pixels support the string, how plate-like the string is, and how
    plate-like the line looked. The best pair is a plate; so is the best pair of any line on
    another part of the photo that reads confidently as a common plate shape. The plates come
    tallest row first: the nearest vehicle is the one the camera was aimed at.
    """
    ranked = _rank(reads)
    if not ranked or not _plate_enough(ranked[0]):
        return []
    if second_opinion is not None:
        ranked = _best_on_second_opinion(ranked, second_opinion)
    chosen = [ranked[0]]
    for entry in ranked[1:]:
        if any(_same_plate(entry.read.box, c.read.box) or entry.text == c.text for c in chosen):
            continue
        if math.exp(entry.log_p) >= OTHER_PLATE_MIN_CONFIDENCE and plate_shaped(entry.text):
            chosen.append(entry)
    # Alternatives belong to the plate whose row they were read on; alternatives from lines
    # elsewhere stay with the best-ranked plate, as its last second guesses: the best plate's own
    # rows come first (a sign's TAXAT, a grille's 77777 had taken places from its own variants).
    on_best = [e for e in ranked if _same_plate(e.read.box, chosen[0].read.box)]
    elsewhere = [e for e in ranked if not _same_plate(e.read.box, chosen[0].read.box)]
    alternatives: dict[int, list[_Scored]] = {id(c): [] for c in chosen}
    seen: set[str] = set()
    for entry in on_best + elsewhere:
        if entry.text in seen:
            continue
        seen.add(entry.text)
        owner = next((c for c in chosen[1:] if _same_plate(entry.read.box, c.read.box)), chosen[0])
        if not any(_fragment_of(entry.text, better.text) for better in alternatives[id(owner)]):
            alternatives[id(owner)].append(entry)
    plates = [
        PlateResult(
            text=c.text,
            confidence=round(math.exp(c.log_p), 4),
            box=c.read.box,
            raw_text=c.raw,
            candidates=[(a.text, round(math.exp(a.log_p), 4)) for a in alternatives[id(c)][:max_candidates]],
        )
        for c in chosen
    ]
    return sorted(plates, key=lambda p: p.box.height, reverse=True)[:max_plates]


def _plate_enough(best: _Scored) -> bool:
    """Whether the best read is worth reporting as a plate: a common plate shape (plate_shaped)
    over MIN_PLATE_SCORE, anything else over MIN_UNCOMMON_SCORE. Decided before the second
    opinion: a character's looks must not decide whether there is a plate at all."""
    return best.score >= (MIN_PLATE_SCORE if plate_shaped(best.text) else MIN_UNCOMMON_SCORE)


def plate_shaped(text: str) -> bool:
    """A common plate shape (a 0 may stand for an O: 5L0D951), and not only through an I or O among
    digits (a fleet number's 2I9906, a date's I140512): the test for a second plate, for the floor a
    best read must pass and for a whole row whose pieces are fragments."""
    return fits_common_shape(text) and not digits_in_disguise(text)


def _best_on_second_opinion(ranked: list[_Scored], opinion: SecondOpinion) -> list[_Scored]:
    """Each runner-up read off the best read's crops, as long and different in one or two
    characters, scored up or down by the second opinion on those characters (x GLYPH_WEIGHT):
    one that then outscores the best read takes its place (AC0MZV to AC0M7V, S6TE5 to SGTE5,
    HTC249 to WTC249), and the others take their places among the second guesses (R8Z0503's
    R820503, 6th by the network, 3rd once the classifier's +1.5 for the 2 counts)."""
    top = ranked[0]
    if top.read.crop is None:
        return ranked
    near = [(e, _asked(e.text, top.text)) for e in ranked[1:] if e.read is top.read and len(e.text) == len(top.text)
            and 1 <= sum(a != b for a, b in zip(e.text, top.text)) <= 2]
    rivals = [(e, asked) for e, asked in near if asked != top.text]
    if not rivals:
        return ranked
    heard = {id(rival): replace(rival, score=rival.score + GLYPH_WEIGHT * odds)
             for (rival, _), odds in zip(rivals, opinion(top.read, top.text, [asked for _, asked in rivals]))}
    # A stable sort: a rival must outscore the best read to take its place, not tie with it.
    return sorted((heard.get(id(e), e) for e in ranked), key=lambda e: e.score, reverse=True)


def _asked(rival: str, best: str) -> str:
    """`rival` with best's characters where the two differ by a SAME_GLYPH pair: what the second
    opinion is asked about (AC0M7V against ACOMZV: the 7 only; the 0 is the plate shape's)."""
    return "".join(b if frozenset((a, b)) in SAME_GLYPH else a for a, b in zip(rival, best))


def most_promising(reads: list[LineRead], n: int) -> list[int]:
    """Indices of the `n` lines whose best proposal ranks highest (pick_plates' score, each line
    on its own), best first: the lines worth reading again. Lines proposing nothing are left out."""
    best = [(max(e.score for e in read._proposals), i) for i, read in enumerate(reads) if read._proposals]
    return [i for _, i in sorted(best, reverse=True)[:n]]


def _rank(reads: list[LineRead]) -> list[_Scored]:
    """Every (line, string) proposal that may be a plate, best score first."""
    ranked = [entry for read in reads for entry in read._proposals]
    return sorted(_fragments_below_wholes(_small_rows_below_plates(ranked)), key=lambda e: e.score, reverse=True)


def _small_rows_below_plates(ranked: list[_Scored]) -> list[_Scored]:
    """Proposals of rows under SMALL_ROW of the height of a row that may well be a plate (reads
    a plate shape, plate_shaped, at PLAUSIBLE_PLATE or better) lose SMALL_ROW_PENALTY. The camera is aimed at
    the nearest car; much smaller text is a sign behind it (THISAREA beat CWM3083), a sticker or
    the plate's own state name and slogan. A second car's plate still comes second (pick_plates
    takes it by its confidence, not its score)."""
    plates = [e.read.box.height for e in ranked if e.log_p >= math.log(PLAUSIBLE_PLATE) and plate_shaped(e.text)]
    if not plates:
        return ranked
    small = SMALL_ROW * max(plates)
    return [replace(e, score=e.score - SMALL_ROW_PENALTY) if e.read.box.height < small else e for e in ranked]


def _line_proposals(read: LineRead) -> list[_Scored]:
    """One line's strings that may be a plate, scored for ranking (unsorted)."""
    nbest = ctc_nbest(read.logp, n=5)
    if not nbest or ctc_log_likelihood(read.logp, "") > nbest[0][1]:
        return []  # the network thinks the crop holds no characters at all
    raw = nbest[0][0]
    proposals = _score_proposals(read, nbest)
    likeliest = max(proposals, key=proposals.__getitem__)
    top = proposals[likeliest]
    row_penalty = row_prior(likeliest)
    out = []
    for text, log_p in proposals.items():
        if not MIN_LEN <= len(text) <= MAX_LEN or log_p < top - MAX_DOUBT:
            continue
        if read.overlay and not plate_shaped(text):
            continue  # a burnt-in date, time or name, which O/0 and I/1 mix-ups give letters
        score = (log_p + PRIOR_WEIGHT * (plate_prior(text) + row_penalty) + SWAP_WEIGHT * swap_prior(text, likeliest)
                 + GEOMETRY_WEIGHT * read.geometry)
        out.append(_Scored(score, text, log_p, read, raw))
    return out


def _fragments_below_wholes(ranked: list[_Scored]) -> list[_Scored]:
    """A row nested in a wider row whose best read is of a plate shape (plate_shaped), reading a
    piece of that string or of another plate-shaped read of the wider row (all but at most one character
    the same), is a fragment of the plate: it may not outrank the wider row's best. The localiser
    also reads a long row's pieces (a piece is sometimes the plate: a vanity plate beside a
    frame's lettering), and a confident piece read, 6TGN55 off the middle of 5TGN556, outscored
    the whole row's less certain read; TA40 off 5LTA600 (best read 5LIA600) matches only the
    runner-up. A whole of uncommon shape demotes nothing: then the piece may be the plate."""
    best: dict[int, _Scored] = {}
    shaped: dict[int, list[str]] = {}  # each row's plate-shaped reads
    for entry in ranked:
        if id(entry.read) not in best or entry.score > best[id(entry.read)].score:
            best[id(entry.read)] = entry
        if plate_shaped(entry.text):
            shaped.setdefault(id(entry.read), []).append(entry.text)
    wholes = [w for w in best.values() if plate_shaped(w.text)]
    out = []
    for entry in ranked:
        for whole in wholes:
            if (whole.read is not entry.read and _nested(entry.read.box, whole.read.box)
                    and any(_piece_of(entry.text, text) for text in shaped[id(whole.read)])):
                entry = replace(entry, score=min(entry.score, whole.score - 0.01))
        out.append(entry)
    return out


def _nested(inner: Box, outer: Box) -> bool:
    """`inner` lies within `outer` side to side (a little slack) and is clearly narrower."""
    slack = 0.15 * outer.height
    shared_height = min(inner.y + inner.height, outer.y + outer.height) - max(inner.y, outer.y)
    return (outer.width >= 1.25 * inner.width and inner.x >= outer.x - slack
            and inner.x + inner.width <= outer.x + outer.width + slack and shared_height >= 0.5 * inner.height)


def _piece_of(piece: str, whole: str) -> bool:
    """`piece` (3 characters or more, shorter than `whole`) matches a run of `whole` but for one character."""
    n = len(piece)
    if n < 3 or n >= len(whole):
        return False
    return any(sum(a != b for a, b in zip(piece, whole[i : i + n])) <= 1 for i in range(len(whole) - n + 1))


def _fragment_of(piece: str, whole: str) -> bool:
    """`piece` is `whole` missing two characters or more (3XBN of SB3XBN): as a second guess it
    only takes a place from a full-length one. One character less may be the plate without a
    stray character from the frame (853FL of 5853FL), so it stays."""
    return len(piece) <= len(whole) - 2 and piece in whole


def _same_plate(a: Box, b: Box) -> bool:
    """Rows that overlap side to side and lie less than a row's height apart: one plate (its
    number, state name, slogan) or one row cropped twice."""
    overlap = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    gap = max(b.y - (a.y + a.height), a.y - (b.y + b.height), 0)
    return overlap > 0.3 * min(a.width, b.width) and gap < max(a.height, b.height)


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
        rest = [t for t in texts if t not in beam]
        return {**beam, **dict(zip(rest, ctc_log_likelihoods(read.logp, rest).tolist()))}
    outputs = (read.logp, *read.views)
    per_crop = np.stack([ctc_log_likelihoods(out, list(texts)) for out in outputs])  # crops x texts
    averaged = np.logaddexp.reduce(per_crop, axis=0) - math.log(len(outputs))
    return dict(zip(texts, averaged.tolist()))
