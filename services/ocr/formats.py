"""What US plate numbers look like, as a prior for ranking the recogniser's guesses.

A plate number is letters and digits in a few groups: 7ABC123, ABC1234, ABC123, 123ABC,
AB12345. The shape of a string (letters as L, digits as D: "7ABC123" -> "DLLLDDD") says
how plate-like it is, whatever the state. The prior only re-ranks strings the recogniser
itself proposed; it never invents characters, so a vanity plate still reads as read.
"""

from __future__ import annotations

import math

# Serial formats in wide use across US states (passenger plates), by shape.
COMMON_SHAPES = frozenset({
    "DLLLDDD",  # California 7ABC123
    "LLLDDDD",  # New York, Pennsylvania, Texas, Georgia, Ohio, Michigan, Virginia, Washington...
    "LLLDDD", "DDDLLL", "LLDDDDD", "DLLDDDD", "LLDDDD", "DDDDLL", "LDDLLL", "DDLLLL", "LLLLDD",
    "DDDLDDD", "LLDLLDD", "LDDDDDD", "DDLDDD", "DLDDDD", "LLLDDDL",
    "LLLLDDD", "DDDLLLL", "DLLDDD", "LDLLDD", "DDLLDD",
    # Seen on at least two plates of the plates set's training split, each one state's serials:
    "LLDLDL",  # Missouri AB1C2D
    "LLLDDL",  # New Jersey ABC12D
    "LLDLDDD",  # Texas AB1C234
    "LDDDLL",  # Florida A123BC
    "DLLLDD",  # Maryland 1ABC23
})

# Characters a plate font, blur or a small crop makes look alike.
CONFUSABLE = {
    "0": "ODQ", "O": "0DQ", "D": "0O", "Q": "0O",
    "1": "ILT", "I": "1LT", "L": "1I", "T": "1I",
    "5": "S", "S": "5", "8": "B", "B": "8", "2": "Z", "Z": "2", "6": "G", "G": "6",
    "4": "A", "A": "4", "7": "T",
}


def o_as_zero(text: str) -> str:
    """`text` with every O written as 0: many states print them as the same glyph, and labelled
    data (the OpenALPR benchmarks included) spells it both ways."""
    return text.replace("O", "0")


def same_but_o_and_zero(read: str, truth: str) -> bool:
    """Equal when O and 0 count as one character (o_as_zero)."""
    return o_as_zero(read) == o_as_zero(truth)


def digits_in_disguise(text: str) -> bool:
    """`text` is digits but for I, O and Q, which most plate fonts draw as 1 and 0 (or blur into
    one): a bus's fleet number 219906 read 2I9906 is no plate of shape DLDDDD, nor a camera's date
    140514 read 14Q514 one of DDLDDD."""
    return "L" not in shape(o_as_zero(text).replace("I", "1").replace("Q", "0"))


def shape(text: str) -> str:
    return "".join("D" if c.isdigit() else "L" for c in text)


def fits_common_shape(text: str) -> bool:
    """`text` is of a common US shape, each 0 taken as a digit or as the letter O: US labels, and so
    this reader, spell the round glyph 0 in a letter's place too (California's 1ABC234 5LOD951 is
    labelled 5L0D951)."""
    form = shape(text)
    return any(len(common) == len(text) and all(a == b or c == "0" for a, b, c in zip(form, common, text))
               for common in COMMON_SHAPES)


def plate_prior(text: str) -> float:
    """A log-scale bonus (positive) or penalty (negative) for `text` being a US plate number.

    Deliberately mild: the fine-tuned network already knows what plates look like, and on the
    dev photos a stronger prior (penalising strings that alternate letters and digits) turned
    right reads of real plates such as HK0E7C into wrong ones. Rows of digits only or letters
    only lose as a whole (row_prior), not string by string.
    """
    n = len(text)
    if n < 2 or n > 8:
        return -6.0
    form = shape(text)
    if form in COMMON_SHAPES:
        return 0.5
    # Most serials have 6 or 7 characters; short strings are what a grille or a bolt reads as.
    return _LENGTH_PRIOR[n]


_LENGTH_PRIOR = {2: -5.0, 3: -4.0, 4: -2.5, 5: -0.5, 6: 0.0, 7: 0.0, 8: -1.0}


# What a row whose likeliest read is digits only (mostly a date or a phone number burnt into the
# frame or painted on a van) or letters only (0 read for O too: a word on the car or a sign;
# vanity plates exist) loses, every string of it alike.
DIGITS_ONLY_ROW, LETTERS_ONLY_ROW = -1.0, -0.5


def row_prior(likeliest: str) -> float:
    """A log-scale penalty for a whole row by its likeliest read (`likeliest`): a row of digits or
    of a word is less likely a plate than a row of both. A property of the row, not of each
    string: as a string's own penalty it pulled a read of digits only to its look-alike with a
    letter (8951283 to B951283; the plates training split holds 8 seven-digit plates against 6 of
    LDDDDDD), a vanity plate to a look-alike with a digit (ANTIG0V to ANT1G0V), and let a date's
    2O1040 (a common shape) outrank the plate beside it."""
    if not likeliest:
        return 0.0
    if "L" not in shape(likeliest):
        return DIGITS_ONLY_ROW
    if "D" not in shape(likeliest.replace("0", "O")):
        return LETTERS_ONLY_ROW
    return 0.0


def confusion_variants(text: str) -> list[str]:
    """Single-character swaps within a confusion set that turn `text` into a common shape."""
    if shape(text) in COMMON_SHAPES:
        return []
    found = []
    for i, c in enumerate(text):
        for alt in CONFUSABLE.get(c, ""):
            candidate = text[:i] + alt + text[i + 1:]
            if shape(candidate) in COMMON_SHAPES:
                found.append(candidate)
    return found


# How often each character appears in US plate numbers: the ground truth of the plates set's
# training split (services/ocr/training/split.py; 307 crops, 1,854 characters). Many states
# never issue I, O or Q (they look like 1 and 0), and Z, V and U are rare, where digits are
# three times as common as the average letter.
_CHAR_COUNTS = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", (
    122, 110, 94, 95, 94, 101, 94, 80, 82, 98, 86, 55, 45, 32, 38, 31, 30, 39, 21, 32, 28, 40, 41, 43,
    8, 37, 13, 36, 31, 45, 23, 18, 30, 33, 27, 22,
)))
_CHAR_LOG_COUNT = {c: math.log(count + 1) for c, count in _CHAR_COUNTS.items()}
# O and 0 are one glyph on many plates, and the ground truth spells it both ways: the count
# would only turn every O into a 0.
_CHAR_LOG_COUNT["O"] = _CHAR_LOG_COUNT["0"]


# Letters and digits drawn alike, as the plates set's training split spells them (counted by
# `python -m services.ocr.training.lookalikes`), by what the rest of the string makes of the two
# spellings: (digit's spelling a common shape, letter's spelling a common shape) -> (times the
# digit, times the letter). Where only the digit's spelling is a plate serial, the digit is all
# but certain (R8Z0503 -> R820503: 36 twos, no Z); where both are, digits still lead (31 zeros to
# 4 Os in LLLDDD-or-DLLDDD places); where only the letter's is, the letter leads (25 Bs to 4 eights).
LOOKALIKE_COUNTS: dict[str, dict[tuple[int, int], tuple[int, int]]] = {
    "0D": {(0, 1): (6, 5), (1, 0): (41, 2), (1, 1): (31, 18)},
    "0O": {(0, 1): (6, 2), (1, 0): (41, 0), (1, 1): (31, 4)},
    "0Q": {(0, 1): (6, 4), (1, 0): (41, 0), (1, 1): (31, 4)},
    "1I": {(0, 1): (10, 9), (1, 0): (33, 0), (1, 1): (41, 2)},
    "1L": {(0, 1): (10, 16), (1, 0): (33, 0), (1, 1): (41, 11)},
    "1T": {(0, 1): (10, 11), (1, 0): (33, 3), (1, 1): (41, 8)},
    "2Z": {(0, 1): (7, 13), (1, 0): (36, 0), (1, 1): (32, 4)},
    "4A": {(0, 1): (2, 26), (1, 0): (31, 2), (1, 1): (25, 28)},
    "5S": {(0, 1): (3, 8), (1, 0): (34, 1), (1, 1): (36, 4)},
    "6G": {(0, 1): (3, 11), (1, 0): (29, 1), (1, 1): (37, 8)},
    "7T": {(0, 1): (2, 11), (1, 0): (29, 3), (1, 1): (28, 8)},
    "8B": {(0, 1): (4, 25), (1, 0): (21, 0), (1, 1): (32, 21)},
}


# Counts trusted twice as far as the rest (plates.SWAP_WEIGHT halves every swap prior: at full
# weight vanity and European plates lost their letters to digits): I against 1 where only the 1
# makes a serial, 33 ones to no I on the training split. Missouri's CJ1P5G (AB1C2D), whose 1 has no
# flag at 25 px, read CJIP5G: the network leaned 2.4 nats to the I, the prior gave the 1 2.0. Not O
# against 0 there (the training split's OQK466 then read 0QK466), nor every pair but 0's (L781601
# then read T781601, and a plate-less photo reported LLLL23).
TRUSTED_COUNTS = {("1I", (1, 0)): 2.0}


def lookalike_category(with_digit: str, with_letter: str) -> tuple[int, int]:
    """LOOKALIKE_COUNTS' key for a look-alike's two spellings of one string: whether each is a
    common plate shape (1) or not (0), the digit's first."""
    return int(shape(with_digit) in COMMON_SHAPES), int(shape(with_letter) in COMMON_SHAPES)


def swap_prior(text: str, likeliest: str) -> float:
    """How much more usual on plates `text` is than `likeliest` (its row's likeliest read) where the
    two differ by one or two characters, in log odds: the sum over each differing character of the
    odds of `text`'s against `likeliest`'s, the rest of the string as in `text`. Two, because a small
    plate's likeliest read often holds two look-alikes: ACOMZV, where the prior for one alone would
    lift ACOM7V (7 is more usual than Z), not AC0M7V, Missouri's AB1C2D."""
    if len(text) != len(likeliest):
        return 0.0
    differ = [i for i, (a, b) in enumerate(zip(text, likeliest)) if a != b]
    if not 1 <= len(differ) <= 2:
        return 0.0
    return sum(_one_swap(text, text[:i] + likeliest[i] + text[i + 1:]) for i in differ)


def _one_swap(text: str, other: str) -> float:
    """swap_prior of two strings that differ in one character.

    A letter and a digit drawn alike (LOOKALIKE_COUNTS) score by how the training split spells the
    pair where the rest of the string makes the same shapes of the two spellings: R820503 over
    R8Z0503. Not where neither spelling is a US serial shape (a vanity plate or another country's
    layout, whose labels spell O where US labels spell 0), nor where the digit's spelling is digits
    only (a row of digits is row_prior's to judge: 8951283 against B951283).
    Otherwise by how usual each character is on plates (AC7MV over ACZMV: 80 sevens to 22 Zs),
    where both reads or neither are a common shape; 0 where only one is: plate_prior decides."""
    [(new, old)] = [(a, b) for a, b in zip(text, other) if a != b]
    common = shape(text) in COMMON_SHAPES, shape(other) in COMMON_SHAPES
    pair = "".join(sorted((new, old)))  # the digit first
    if pair in LOOKALIKE_COUNTS and any(common):
        with_digit, with_letter = (text, other) if new.isdigit() else (other, text)
        if "L" in shape(with_digit):
            category = lookalike_category(with_digit, with_letter)
            n_digit, n_letter = LOOKALIKE_COUNTS[pair][category]
            odds = (math.log(n_digit + 1) - math.log(n_letter + 1)) * TRUSTED_COUNTS.get((pair, category), 1.0)
            return odds if new.isdigit() else -odds
    if common[0] != common[1]:
        return 0.0
    return _CHAR_LOG_COUNT[new] - _CHAR_LOG_COUNT[old]
