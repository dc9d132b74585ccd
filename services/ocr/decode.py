"""CTC decoding of the recogniser's output into the few most likely plate strings."""

from __future__ import annotations

import math

import numpy as np

from services.ocr.recognizer import PLATE_ALPHABET

_NEG_INF = float("-inf")


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
    # prefix -> (log p of alignments ending in blank, ... ending in its last character)
    beams: dict[str, tuple[float, float]] = {"": (0.0, _NEG_INF)}
    for row in logp:
        blank = float(row[0])
        top = np.argpartition(row[1:], -per_step)[-per_step:] + 1
        grown: dict[str, list[float]] = {}

        def slot(prefix: str) -> list[float]:
            return grown.setdefault(prefix, [_NEG_INF, _NEG_INF])

        for prefix, (p_blank, p_char) in beams.items():
            total = _logaddexp(p_blank, p_char)
            here = slot(prefix)
            here[0] = _logaddexp(here[0], total + blank)
            for index in top:
                char = PLATE_ALPHABET[index - 1]
                p = float(row[index])
                if prefix and prefix[-1] == char:
                    here[1] = _logaddexp(here[1], p_char + p)  # the same character held on
                    longer = slot(prefix + char)
                    longer[1] = _logaddexp(longer[1], p_blank + p)  # a repeat needs a blank between
                else:
                    longer = slot(prefix + char)
                    longer[1] = _logaddexp(longer[1], total + p)
        ranked = sorted(grown.items(), key=lambda kv: _logaddexp(*kv[1]), reverse=True)
        beams = {prefix: (scores[0], scores[1]) for prefix, scores in ranked[:beam]}
    final = sorted(((prefix, _logaddexp(*scores)) for prefix, scores in beams.items()), key=lambda x: x[1], reverse=True)
    return [(prefix, score) for prefix, score in final if prefix][:n]


def ctc_log_likelihood(logp: np.ndarray, text: str) -> float:
    """log P(text | CTC output), summed over every alignment (the CTC forward algorithm)."""
    if not text:
        return float(logp[:, 0].sum())
    labels = [0]
    for char in text:
        labels += [PLATE_ALPHABET.index(char) + 1, 0]
    steps, states = logp.shape[0], len(labels)
    if steps < len(text):
        return _NEG_INF
    emit = logp[:, labels]  # T x S
    alpha = np.full(states, -np.inf)
    alpha[0], alpha[1] = emit[0, 0], emit[0, 1]
    # A skip from s-2 to s is allowed onto a character that differs from the one before it.
    can_skip = np.zeros(states, dtype=bool)
    for s in range(2, states):
        can_skip[s] = labels[s] != 0 and labels[s] != labels[s - 2]
    for t in range(1, steps):
        stay = alpha
        step = np.concatenate(([-np.inf], alpha[:-1]))
        skip = np.where(can_skip, np.concatenate(([-np.inf, -np.inf], alpha[:-2])), -np.inf)
        alpha = np.logaddexp(np.logaddexp(stay, step), skip) + emit[t]
    return float(np.logaddexp(alpha[-1], alpha[-2]))
