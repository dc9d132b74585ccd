"""CTC decoding of the recogniser's output into the few most likely plate strings."""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import itemgetter

import numpy as np

from services.ocr.recognizer import PLATE_ALPHABET

_NEG_INF = float("-inf")
_first = itemgetter(0)


def _logaddexp(a: float, b: float) -> float:
    if a == _NEG_INF:
        return b
    if b == _NEG_INF:
        return a
    high, low = (a, b) if a > b else (b, a)
    return high + math.log1p(math.exp(low - high))


def ctc_nbest(logp: np.ndarray, n: int = 5, beam: int = 8, per_step: int = 3) -> list[tuple[str, float]]:
    """The `n` most likely strings under a CTC output, with their log-probabilities.

    `logp` is T x 37 log-probabilities: column 0 the CTC blank, then PLATE_ALPHABET in order.
    A prefix beam search, so that a string spelled by many alignments is scored by all of
    them; only the `per_step` likeliest characters of each step are tried, which is what
    keeps it a few milliseconds in pure Python.
    """
    if not len(logp):
        return []
    # Python floats and ints throughout: numpy scalars cost several times more per operation.
    rows = logp.tolist()
    tops = (np.argpartition(logp[:, 1:], -per_step, axis=1)[:, -per_step:] + 1).tolist()
    # prefix -> (log p of alignments ending in blank, ... ending in its last character)
    beams: dict[str, tuple[float, float]] = {"": (0.0, _NEG_INF)}
    for row, top in zip(rows, tops):
        blank = row[0]
        grown: dict[str, list[float]] = {}
        for prefix, (p_blank, p_char) in beams.items():
            total = _logaddexp(p_blank, p_char)
            here = grown.get(prefix)
            if here is None:
                here = grown[prefix] = [_NEG_INF, _NEG_INF]
            here[0] = _logaddexp(here[0], total + blank)
            last = prefix[-1:]
            for index in top:
                char = PLATE_ALPHABET[index - 1]
                p = row[index]
                if char == last:
                    here[1] = _logaddexp(here[1], p_char + p)  # the same character held on
                    p_from = p_blank + p  # a repeat needs a blank between
                else:
                    p_from = total + p
                longer = grown.get(prefix + char)
                if longer is None:
                    grown[prefix + char] = [_NEG_INF, p_from]
                else:
                    longer[1] = _logaddexp(longer[1], p_from)
        scored = sorted(((_logaddexp(b, c), prefix, b, c) for prefix, (b, c) in grown.items()),
                        key=_first, reverse=True)
        beams = {prefix: (b, c) for _, prefix, b, c in scored[:beam]}
    final = sorted(((prefix, _logaddexp(*scores)) for prefix, scores in beams.items()), key=lambda x: x[1], reverse=True)
    return [(prefix, score) for prefix, score in final if prefix][:n]


def ctc_log_likelihood(logp: np.ndarray, text: str) -> float:
    """log P(text | CTC output), summed over every alignment (the CTC forward algorithm)."""
    return float(ctc_log_likelihoods(logp, [text])[0])


def ctc_log_likelihoods(logp: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """ctc_log_likelihood of each text under one output, run side by side: one pass over the
    frames for all of them (a row's 10 to 30 proposals cost what one did)."""
    out = np.full(len(texts), -np.inf)
    steps = logp.shape[0]
    todo = [i for i, text in enumerate(texts) if 0 < len(text) <= steps]
    for i, text in enumerate(texts):
        if not text:
            out[i] = float(logp[:, 0].sum())
    if not todo:
        return out
    # Each text as CTC states (blank, c1, blank, c2, ..., blank), right-padded with blanks.
    # Mass only moves to higher states, so the padding never flows back into a text's own.
    lengths = [2 * len(texts[i]) + 1 for i in todo]
    labels = np.zeros((len(todo), max(lengths)), dtype=np.intp)
    for row, i in enumerate(todo):
        labels[row, 1 : lengths[row] : 2] = [PLATE_ALPHABET.index(c) + 1 for c in texts[i]]
    # A skip from s-2 to s is allowed onto a character that differs from the one before it.
    can_skip = np.zeros(labels.shape, dtype=bool)
    can_skip[:, 2:] = (labels[:, 2:] != 0) & (labels[:, 2:] != labels[:, :-2])
    emit = logp[:, labels]  # T x K x S
    alpha = np.full(labels.shape, -np.inf)
    alpha[:, 0], alpha[:, 1] = emit[0, :, 0], emit[0, :, 1]
    gap1 = np.full((len(todo), 1), -np.inf)
    gap2 = np.full((len(todo), 2), -np.inf)
    for t in range(1, steps):
        step = np.concatenate((gap1, alpha[:, :-1]), axis=1)
        skip = np.where(can_skip, np.concatenate((gap2, alpha[:, :-2]), axis=1), -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, step), skip) + emit[t]
    ends = np.array(lengths) - 1
    rows = np.arange(len(todo))
    out[todo] = np.logaddexp(alpha[rows, ends], alpha[rows, ends - 1])
    return out
