"""Choosing the plate number from the recogniser's output on candidate lines (pure logic).

The CTC outputs here are built by hand: each frame puts most of its probability on one
symbol ("-" is the blank), sometimes shared with a runner-up, as the network does.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from cardak.v1 import common_pb2
from services.ocr.decode import ctc_log_likelihood, ctc_log_likelihoods, ctc_nbest
from services.ocr.formats import confusion_variants, fits_common_shape, plate_prior, row_prior, shape, swap_prior
from services.ocr.plates import Box, LineRead, PlateResult, most_promising, pick_plates
from services.ocr.recognizer import PLATE_ALPHABET

SYMBOLS = "-" + PLATE_ALPHABET


def ctc_output(frames: list[str | dict[str, float]]) -> np.ndarray:
    """(T, 37) log-probs; a frame is a symbol (p=0.96) or {symbol: p} shares."""
    out = np.full((len(frames), len(SYMBOLS)), 1e-4)
    for t, frame in enumerate(frames):
        shares = {frame: 0.96} if isinstance(frame, str) else frame
        for symbol, p in shares.items():
            out[t, SYMBOLS.index(symbol)] = p
    out /= out.sum(axis=1, keepdims=True)
    return np.log(out)


def spelled(text: str) -> list[str | dict[str, float]]:
    frames: list[str | dict[str, float]] = []
    for char in text:
        frames += [char, "-"]
    return frames


def line(
    frames: list[str | dict[str, float]], geometry: float = 0.8, y: int = 50, height: int = 30, x: int = 10
) -> LineRead:
    return LineRead(Box(x, y, 4 * height, height), ctc_output(frames), geometry)


def best(reads: list[LineRead], max_candidates: int = 5) -> PlateResult | None:
    plates = pick_plates(reads, max_candidates=max_candidates)
    return plates[0] if plates else None


def test_nbest_merges_alignments_and_orders_by_likelihood() -> None:
    logp = ctc_output(["A", "A", "-", {"8": 0.6, "B": 0.35}, "-", "C"])
    best = ctc_nbest(logp, n=3)
    texts = [t for t, _ in best]
    assert texts[0] == "A8C"
    assert {"ABC", "A8C"} <= set(texts)
    scores = [s for _, s in best]
    assert scores == sorted(scores, reverse=True)


def test_repeated_characters_need_a_blank_between_them() -> None:
    assert ctc_nbest(ctc_output(["A", "A", "A"]), n=1)[0][0] == "A"
    assert ctc_nbest(ctc_output(["A", "-", "A"]), n=1)[0][0] == "AA"


def test_forward_likelihood_agrees_with_the_beam_and_rejects_impossible_strings() -> None:
    logp = ctc_output(spelled("AB12"))
    (text, beam_score), *_ = ctc_nbest(logp, n=1)
    assert text == "AB12"
    assert ctc_log_likelihood(logp, "AB12") == pytest.approx(beam_score, abs=0.05)
    assert ctc_log_likelihood(logp, "AB13") < beam_score - 5
    assert ctc_log_likelihood(logp, "AB12AB12AB12") == -math.inf  # longer than the frames allow


def test_prior_prefers_common_us_shapes_over_misreads_and_fragments() -> None:
    assert shape("7ABC123") == "DLLLDDD"
    assert plate_prior("7ABC123") > plate_prior("7A8C1Z3") > plate_prior("ABC")
    assert plate_prior("ABC1234") > plate_prior("ABC12345")
    assert plate_prior("TOOLONGFORAPLATE") < -5


def test_a_word_read_with_zero_for_o_is_still_a_word() -> None:
    # A sign's PROPERTY, its O read as 0, outranked a real plate (GT679A) as a mixed string.
    assert row_prior("PR0PERTY") == row_prior("PROPERTY") < row_prior("PR0PE7TY") == 0.0
    assert row_prior("AB0C1") > row_prior("ABOCI")
    assert row_prior("20140514") < row_prior("ABOCI") < 0.0  # a date is less of a plate than a word


def test_a_vanity_plate_keeps_its_letters_where_the_pixels_lean_to_them() -> None:
    # Letters only is the row's penalty (a sign, a word on the car), not a string's: as a
    # string's it pulled ANTIG0V, a vanity plate, to ANT1G0V.
    plate = best([line([*spelled("ANT"), {"I": 0.71, "1": 0.25}, "-", *spelled("G0V")])])
    assert plate is not None and plate.text == "ANTIG0V"


def test_a_swap_to_a_more_usual_character_is_likelier() -> None:
    # Strings of no common shape, where the plate-shape prior has no say.
    assert swap_prior("AC7MV", "ACZMV") > 1.0  # 80 sevens to 22 Zs on the plates' ground truth
    assert swap_prior("ACZMV", "AC7MV") == -swap_prior("AC7MV", "ACZMV")
    assert swap_prior("WSG97", "VSG97") > 0 > swap_prior("CJIP5", "CJ1P5")
    # Not look-alikes, and only one spelling a common shape: the shape prior decides alone.
    assert swap_prior("AC0M7V", "AC0MZV") == 0.0
    assert swap_prior("AB0M7W", "AC0MZV") == swap_prior("AC0M7", "AC0MZV") == 0.0  # not one or two swaps


def test_two_swaps_score_as_the_sum_of_each_in_the_other_s_company() -> None:
    # From ACOMZV: the 0 counts as a common shape's (AC0M7V, Missouri), the 7 as more usual than Z.
    both, seven_only = swap_prior("AC0M7V", "ACOMZV"), swap_prior("ACOM7V", "ACOMZV")
    assert both > seven_only > 0
    assert both == pytest.approx(swap_prior("AC0M7V", "ACOM7V") + swap_prior("AC0M7V", "AC0MZV"))


def test_a_look_alike_swap_scores_by_how_plates_spell_it_in_that_shape() -> None:
    # Only the digit's spelling a serial: the digit, all but always (36 twos to no Z).
    assert swap_prior("R820503", "R8Z0503") > 3.0
    # Only the letter's: the letter (25 Bs to 4 eights), more than the shape prior's 0.5 alone.
    assert swap_prior("A8C1234", "ABC1234") < -1.0
    # Both a common shape (LLLDDD, DLLDDD): labels spell the round glyph 0 there 31 times to 4.
    assert swap_prior("0SG719", "OSG719") > 1.0 and swap_prior("OSG719", "0SG719") < -1.0
    # Neither a US serial (another country's layout, a vanity plate): O and 0 left to the pixels.
    assert swap_prior("RK011AM", "RKO11AM") == 0.0
    # A row of digits is row_prior's to judge, not the pair's: 8951283 is no B951283 by default.
    assert swap_prior("B951283", "8951283") == 0.0


def test_where_only_the_1_makes_a_serial_its_count_is_trusted_twice_as_far() -> None:
    # 33 ones to no I where only the 1 makes a serial; 36 twos to no Z count once.
    assert swap_prior("CJ1P5G", "CJIP5G") == pytest.approx(2 * math.log(34))
    assert swap_prior("R820503", "R8Z0503") == pytest.approx(math.log(37))
    # The network leans 2.4 nats to an I without a flag: Missouri's AB1C2D still reads the 1.
    plate = best([line(spelled("CJ") + [{"I": 0.9, "1": 0.08}, "-"] + spelled("P5G"))])
    assert plate is not None and plate.text == "CJ1P5G"


def test_a_read_two_look_alikes_off_the_likeliest_can_win() -> None:
    # The network leans to O and to Z (0.55 against 0.4 each): ACOMZV, of no plate shape.
    plate = best([line(spelled("AC") + [{"O": 0.55, "0": 0.4}, "-"] + spelled("M") + [{"Z": 0.55, "7": 0.4}, "-"]
                       + spelled("V"))])
    assert plate is not None and plate.text == "AC0M7V"


def test_a_letter_the_pixels_favour_gives_way_to_the_digit_a_serial_needs() -> None:
    # The network leans to Z (0.6 against 0.35): R8Z0503 is no plate shape, R820503 is one.
    plate = best([line(spelled("R8") + [{"Z": 0.6, "2": 0.35}, "-"] + spelled("0503"))])
    assert plate is not None and plate.text == "R820503"


@pytest.mark.parametrize(("shares", "read"), [
    ({"Z": 0.5, "7": 0.45}, "AC1M7V"),  # the pixels undecided: the usual character
    ({"Z": 0.85, "7": 0.1}, "AC1MZV"),  # the pixels sure: what they show
])
def test_the_usual_character_decides_only_what_the_pixels_leave_open(shares: dict[str, float], read: str) -> None:
    plate = best([line(spelled("AC1M") + [shares, "-"] + spelled("V"))])
    assert plate is not None and plate.text == read


def test_confusion_variants_only_swap_look_alikes_into_a_common_shape() -> None:
    assert "ABC1234" in confusion_variants("A8C1234")
    assert "7ABC123" in confusion_variants("7A8C123")
    assert confusion_variants("ABC1234") == []  # already a common shape: nothing to correct
    assert all(len(v) == 7 for v in confusion_variants("A8C1Z34"))


@pytest.mark.parametrize(("misread", "plate"), [
    ("UG9LBU", "UG9L8U"), ("BBG5OB", "BBG50B"), ("8M5T299", "BM5T299"), ("W772U0", "W772UQ"), ("7BPDO6", "7BPD06"),
])
def test_one_states_serial_format_is_a_plate_shape_too(misread: str, plate: str) -> None:
    # Missouri, New Jersey, Texas, Florida and Maryland serials, each on plates of the training split.
    assert plate_prior(plate) > plate_prior(misread)
    assert plate in confusion_variants(misread)


def test_the_prior_turns_an_ambiguous_character_into_the_plate_shape() -> None:
    # The network leans to "8" but leaves room for "B": ABC1234 is a plate, A8C1234 is not.
    frames = spelled("A") + [{"8": 0.55, "B": 0.44}, "-"] + spelled("C1234")
    result = best([line(frames)])
    assert result is not None
    assert result.text == "ABC1234"
    assert result.raw_text == "A8C1234"  # what the network read is kept beside the correction
    assert "A8C1234" in [t for t, _ in result.candidates]


def test_a_confident_read_is_not_overruled_by_the_prior() -> None:
    result = best([line(spelled("A8C1234"))])
    assert result is not None and result.text == "A8C1234"


def test_the_plate_like_line_wins_over_state_name_and_phone_number() -> None:
    state = line(spelled("ALASKA"), geometry=0.2, y=10, height=15)
    phone = line(spelled("5108865162"), geometry=0.9, y=120, height=12)
    number = line(spelled("FGJ235"), geometry=0.9, y=40, height=30)
    result = best([state, phone, number])
    assert result is not None
    assert result.text == "FGJ235"
    assert result.box == number.box
    assert result.confidence > 0.5


def test_a_number_of_digits_only_keeps_its_digits_where_the_pixels_lean_to_them() -> None:
    # Seven-digit plates are as usual as a letter and six digits (8 and 6 of the training split):
    # the digits-only penalty is the row's, so it cannot turn 8951283's 8 into a B by itself.
    plate = best([line([{"8": 0.6, "B": 0.38}, "-", *spelled("951283")])])
    assert plate is not None and plate.text == "8951283"
    assert "B951283" in [t for t, _ in plate.candidates]


def test_a_row_of_digits_stays_a_date_when_a_look_alike_gives_it_a_letter() -> None:
    # A date burnt into the photo, its 0 half an O, beat a blurred plate as 2O1040 (a common
    # shape); the whole row loses the digits-only penalty, whatever its variants spell.
    date = line([*spelled("2"), {"0": 0.5, "O": 0.45}, "-", *spelled("1040")], geometry=0.9, y=120, height=20)
    plate = line([*spelled("HK"), {"0": 0.7, "D": 0.25}, "-", *spelled("E"), {"7": 0.7, "Z": 0.25}, "-",
                  *spelled("C")], geometry=0.6, y=40, height=30)
    assert best([date, plate]).text == "HK0E7C"  # type: ignore[union-attr]


def test_candidates_are_distinct_and_ranked() -> None:
    frames = spelled("7AB") + [{"C": 0.5, "G": 0.3, "0": 0.19}, "-"] + spelled("123")
    result = best([line(frames), line(frames, geometry=0.1, y=200)], max_candidates=3)
    assert result is not None
    texts = [t for t, _ in result.candidates]
    assert texts[0] == result.text == "7ABC123"
    assert len(texts) == len(set(texts)) <= 3
    assert "7ABG123" in texts


def test_second_guesses_are_full_length_before_they_are_fragments() -> None:
    # The row reads SB3XBN, its 5th character perhaps a 6; rows inside it read 3XBN, XBN and,
    # without a stray character, B3XBN. A fragment two characters short is no second guess for
    # the plate (it would take 6's place); one character short may be the plate itself.
    whole = LineRead(Box(10, 50, 120, 30), ctc_output(spelled("SB3X") + [{"B": 0.75, "6": 0.2}, "-"] + spelled("N")),
                     geometry=0.8)
    pieces = [LineRead(Box(x, 52, 120 - x, 26), ctc_output(spelled(text)), geometry=0.5)
              for x, text in [(25, "B3XBN"), (45, "3XBN"), (65, "XBN")]]
    plate = best([whole, *pieces], max_candidates=3)
    assert plate is not None
    texts = [t for t, _ in plate.candidates]
    assert texts[0] == plate.text == "SB3XBN"
    assert "SB3X6N" in texts and "B3XBN" in texts
    assert "3XBN" not in texts and "XBN" not in texts


def test_second_guesses_are_the_plates_own_before_other_rows_text() -> None:
    # The plate's row is unsure of one character; a sign across the photo reads SPEED25 clearly.
    # The sign is no plate, and no second guess before the plate's own other readings.
    plate_row = line(spelled("7AB") + [{"C": 0.5, "G": 0.3, "0": 0.19}, "-"] + spelled("123"), x=100, y=300)
    sign = line(spelled("SPEED25"), geometry=0.2, x=600, y=40)
    plate = best([plate_row, sign], max_candidates=3)
    assert plate is not None
    texts = [t for t, _ in plate.candidates]
    assert texts[0] == plate.text == "7ABC123" and set(texts) == {"7ABC123", "7ABG123", "7AB0123"}
    assert "SPEED25" in [t for t, _ in best([plate_row, sign], max_candidates=5).candidates]  # type: ignore[union-attr]


def test_nothing_plate_like_gives_no_plate() -> None:
    assert best([]) is None
    assert best([line(["-", "-", "-", "-"])]) is None  # blank: the crop held no characters
    assert best([line(spelled("A"))]) is None  # one character is not a plate


def test_a_faint_guess_is_no_plate_but_the_same_string_read_clearly_is() -> None:
    # Blurred noise: each character frame spreads its probability over ten look-alikes, so the
    # best string beats "no characters" yet is far too unlikely to report (its score is under
    # MIN_UNCOMMON_SCORE, the floor for a read of no common plate shape).
    faint = {"6": 0.15} | {c: 0.08 for c in "G8B5S3EPR"} | {"-": 0.05}
    noise = line([faint, "-", faint, "-"])
    assert ctc_nbest(noise.logp, n=1)[0][0] == "66"
    assert best([noise]) is None
    plate = best([line(spelled("66"))])
    assert plate is not None and plate.text == "66"


def _whole_and_piece(whole_text: str, piece_text: str) -> tuple[LineRead, LineRead]:
    """A whole row (x 10..130) read a little less surely, and looking less like a row of plate
    characters, than its middle piece (x 30..90)."""
    unsure = [{c: 0.7, "-": 0.25} if c != "-" else c for c in spelled(whole_text)]
    whole = LineRead(Box(10, 50, 120, 30), ctc_output(unsure), geometry=0.0)
    return whole, LineRead(Box(30, 55, 60, 20), ctc_output(spelled(piece_text)), geometry=0.8)


def test_a_piece_of_a_row_does_not_outrank_the_whole_plate_it_belongs_to() -> None:
    whole, piece = _whole_and_piece("5TGN556", "6TGN55")
    plate = best([whole, piece])
    assert plate is not None and plate.text == "5TGN556"
    assert "6TGN55" in [text for text, _ in plate.candidates]
    # Apart (the piece elsewhere in the photo), the piece still wins: only nesting demotes it.
    apart = best([whole, LineRead(Box(300, 55, 60, 20), piece.logp, geometry=0.8)])
    assert apart is not None and apart.text == "6TGN55"


@pytest.mark.parametrize(("text", "fits"), [
    ("5L0D951", True),  # California's 1ABC234, its O labelled 0
    ("5LOD951", True),
    ("ABC123", True),
    ("5L0D9S1", False),  # an S in a digit's place: no 0 mends that
    ("12345", False),
])
def test_a_0_may_stand_for_the_letter_o_in_a_common_shape(text: str, fits: bool) -> None:
    assert fits_common_shape(text) is fits


def test_a_whole_plate_spelled_with_0_for_its_letter_o_still_outranks_its_piece() -> None:
    # 5L0D951 is California's 1ABC234 with its O written 0, as US labels (and the reader) spell
    # the round glyph: a plate shape all the same, so its nested piece L0D95 is a fragment.
    whole, piece = _whole_and_piece("5L0D951", "L0D95")
    plate = best([whole, piece])
    assert plate is not None and plate.text == "5L0D951"


def test_a_piece_matching_the_whole_rows_runner_up_does_not_outrank_it() -> None:
    # The whole row (x 10..130) is unsure of two characters and reads 5LIA600 first; its piece
    # (x 40..100) reads TA40 surely. TA40 is two characters off 5LIA600's middle but a run of
    # 5LTA400, another plate-shaped read of the same row: a fragment, not a plate.
    unsure = (spelled("5L") + [{"I": 0.6, "T": 0.35}, "-"] + spelled("A")
              + [{"6": 0.6, "4": 0.35}, "-"] + spelled("00"))
    whole = LineRead(Box(10, 50, 120, 30), ctc_output(unsure), geometry=0.0)
    piece = LineRead(Box(40, 55, 60, 20), ctc_output(spelled("TA40")), geometry=0.8)
    plate = best([whole, piece])
    assert plate is not None and plate.text == "5LIA600"
    assert {"5LTA600", "TA40"} <= {text for text, _ in plate.candidates}
    apart = best([whole, LineRead(Box(300, 55, 60, 20), piece.logp, geometry=0.8)])
    assert apart is not None and apart.text == "TA40"


def test_a_vanity_piece_beats_a_whole_row_of_uncommon_shape() -> None:
    # The whole row took in frame lettering (1HK0E7C1 is no plate shape): the piece is the plate.
    whole = LineRead(Box(10, 50, 120, 30), ctc_output(spelled("1HK0E7C1")), geometry=0.0)
    piece = LineRead(Box(25, 55, 90, 20), ctc_output(spelled("HK0E7C")), geometry=0.8)
    plate = best([whole, piece])
    assert plate is not None and plate.text == "HK0E7C"


def test_as_proto_round_trips_every_field() -> None:
    result = PlateResult(
        text="ABC123",
        confidence=0.875,
        box=Box(x=3, y=5, width=120, height=40),
        raw_text="A8C123",
        candidates=[("ABC123", 0.875), ("A8C123", 0.25)],
        region="CA",
    )
    read = result.as_proto()
    assert isinstance(read, common_pb2.PlateRead)
    assert read.text == "ABC123"
    assert read.confidence == pytest.approx(0.875)
    assert [(c.text, c.confidence) for c in read.candidates] == [("ABC123", 0.875), ("A8C123", 0.25)]
    assert (read.box.x, read.box.y, read.box.width, read.box.height) == (3, 5, 120, 40)
    assert read.region == "CA"
    assert read.raw_text == "A8C123"
    assert common_pb2.PlateRead.FromString(read.SerializeToString()) == read


def test_a_date_in_the_overlay_strip_never_beats_a_plate_but_a_plate_there_can_win() -> None:
    from dataclasses import replace

    date = replace(line(spelled("20140514"), geometry=1.0, y=2), overlay=True)
    blurred_plate = line([*spelled("7AB"), {"C": 0.5, "G": 0.4}, "-", *spelled("123")], geometry=0.3)
    assert best([date, blurred_plate]).text == "7ABC123"  # type: ignore[union-attr]
    assert best([replace(date, overlay=False), blurred_plate]).text == "20140514"  # type: ignore[union-attr]
    plate_at_the_top = replace(line(spelled("6NZT067"), y=2), overlay=True)
    assert best([plate_at_the_top]).text == "6NZT067"  # type: ignore[union-attr]
    # A date whose 0 reads as an O or a Q is of a common shape (DLDDDD, DDLDDD) only through the look-alike.
    assert best([replace(line(spelled("2O1406"), geometry=1.0, y=2), overlay=True)]) is None
    assert best([replace(line(spelled("14Q514"), geometry=1.0, y=2), overlay=True)]) is None


def test_every_plate_in_view_is_reported_nearest_first() -> None:
    near = line(spelled("7ABC123"), y=300, height=40, x=100)
    # Another car further off (a smaller row) that reads more confidently than the near one.
    far = line(spelled("KT5507"), geometry=1.0, y=40, height=18, x=700)
    near_blurred = line([*spelled("7AB"), {"C": 0.6, "G": 0.35}, "-", *spelled("123")], y=300, height=40, x=100)
    plates = pick_plates([far, near_blurred])
    assert [p.text for p in plates] == ["7ABC123", "KT5507"]
    assert [p.box for p in plates] == [near_blurred.box, far.box]
    # Each plate's alternatives are its own row's.
    assert "7ABG123" in [t for t, _ in plates[0].candidates]
    assert all(t != "KT5507" for t, _ in plates[0].candidates)
    assert [t for t, _ in plates[1].candidates][0] == "KT5507"
    assert [p.text for p in pick_plates([near, far], max_plates=1)] == ["7ABC123"]


def test_only_a_confident_plate_shaped_read_elsewhere_is_a_second_plate() -> None:
    number = line(spelled("7ABC123"), y=300, height=40, x=100)
    sign = line(spelled("PRIVATE"), y=40, height=30, x=700)  # a word on a sign: not a plate shape
    doubtful = line([*spelled("KT55"), {"0": 0.3, "9": 0.3, "8": 0.3}, "-", *spelled("7")], y=40, height=30, x=700)
    state = line(spelled("ABC1234"), y=260, height=20, x=110)  # just above the number: the same plate
    # A bus's fleet number, taller than its plate, whose 1 reads as I: DLDDDD only by the look-alike.
    fleet = line(spelled("2I9906"), geometry=0.5, y=40, height=60, x=700)
    for other in (sign, doubtful, state, fleet):
        assert [p.text for p in pick_plates([number, other])] == ["7ABC123"]
    # The same row reading letters where a 1 and a 0 cannot stand for them is another car's plate.
    assert [p.text for p in pick_plates([number, line(spelled("2K9906"), geometry=0.5, y=40, height=60, x=700)])] == ["2K9906", "7ABC123"]


def _collapse(path: tuple[int, ...]) -> str:
    """A CTC alignment (class ids, 0 blank) -> its text: merge repeats, drop blanks."""
    out, prev = [], 0
    for k in path:
        if k and k != prev:
            out.append(PLATE_ALPHABET[k - 1])
        prev = k
    return "".join(out)


def test_ctc_likelihoods_of_several_texts_equal_the_sum_over_every_alignment() -> None:
    import itertools

    rng = np.random.default_rng(3)
    active = [0, SYMBOLS.index("A"), SYMBOLS.index("B")]  # blank, A, B carry all the probability
    for steps in (1, 3, 5):
        p = np.zeros((steps, len(SYMBOLS)))
        p[:, active] = rng.dirichlet(np.ones(3), size=steps)
        with np.errstate(divide="ignore"):
            logp = np.log(p)
        totals: dict[str, float] = {}
        for path in itertools.product(active, repeat=steps):
            text = _collapse(path)
            totals[text] = totals.get(text, 0.0) + float(np.prod([p[t, k] for t, k in enumerate(path)]))
        texts = ["", "A", "AB", "BA", "AA", "ABA", "AAB", "BBB", "ABAB", "ABABAB"]
        got = ctc_log_likelihoods(logp, texts)
        for text, value in zip(texts, got):
            expected = totals.get(text, 0.0)
            if expected == 0.0:
                assert value == -math.inf, text
            else:
                assert value == pytest.approx(math.log(expected), abs=1e-9), (steps, text)


def test_the_rows_read_again_are_those_that_read_most_like_a_plate() -> None:
    reads = [
        line(spelled("II"), geometry=1.0, y=10),  # a grille the localiser liked best
        line(["-", "-", "-"], geometry=0.9, y=60),  # no characters at all
        line(spelled("4"), geometry=0.9, y=110),  # one character: no plate
        line(spelled("7ABC123"), geometry=0.1, y=160),  # the plate, a row of poor shape
        line(spelled("ABC12"), geometry=0.5, y=210),
    ]
    assert most_promising(reads, 2) == [3, 4]
    assert most_promising(reads, 10) == [3, 4, 0]  # rows proposing no plate string are never read again
    assert most_promising(reads, 0) == []


def test_much_smaller_text_than_a_plausible_plate_is_not_the_plate() -> None:
    # A sign behind the car reads cleanly; the number row, three times taller, less so.
    number = line([*spelled("CWM"), {"3": 0.2, "8": 0.2, "B": 0.2, "5": 0.2}, "-", *spelled("083")], y=300, height=34, x=100)
    for height, winner in ((30, "THISAREA"), (11, "CWM3083")):
        sign = line(spelled("THISAREA"), geometry=0.95, y=40, height=height, x=700)
        plate = best([sign, number])
        assert plate is not None and plate.text == winner
    # With no plausible plate in view, small text is read as it is.
    sign = line(spelled("THISAREA"), geometry=0.95, y=40, height=11, x=700)
    assert [p.text for p in pick_plates([sign, line(spelled("XX"), y=300, height=34, x=100)])] == ["THISAREA"]
    # Nor is a tall date digits but for an O a plausible plate that demotes the plate below it.
    date = line(spelled("2O1406"), geometry=0.6, y=40, height=34, x=700)
    plate = best([date, line(spelled("7ABC123"), geometry=0.8, y=300, height=15, x=100)])
    assert plate is not None and plate.text == "7ABC123"


def _unsure(text: str, p: float, rival: str = "X") -> list[str | dict[str, float]]:
    """`text` read with probability `p` per character, `rival` taking most of the rest."""
    frames: list[str | dict[str, float]] = []
    for char in text:
        frames += [{char: p, rival if rival != char else "Y": 0.98 - p, "-": 0.02}, "-"]
    return frames


def test_an_unsure_read_is_a_plate_only_in_a_common_plate_shape() -> None:
    # With the plates blurred out of street photos, grilles, fences and signs still read as
    # strings that score -6 to -3: of no common plate shape, such a read is no plate; a read as
    # unsure of a common plate shape is what a small, blurred plate gives.
    grille = line(_unsure("77777", 0.5, rival="1"), geometry=0.2)
    assert best([grille]) is None
    plate = best([line(_unsure("7ABC123", 0.5), geometry=0.2)])
    assert plate is not None and plate.text == "7ABC123" and plate.confidence < 0.05
    # Read confidently, the same uncommon string is reported (a vanity plate, or a plate's piece).
    assert best([line(spelled("77777"), geometry=0.2)]) is not None


def test_an_unsure_row_of_digits_is_no_plate_even_with_an_i_or_o_among_them() -> None:
    # A burnt-in date 140512 read I140512: LDDDDDD only through the look-alike, so it needs what a
    # read of no common shape needs. A letter that no digit looks like keeps the common shape's floor.
    date = best([line(_unsure("I140512", 0.5), geometry=0.2)])
    assert date is None
    plate = best([line(_unsure("K140512", 0.5), geometry=0.2)])
    assert plate is not None and plate.text == "K140512"
