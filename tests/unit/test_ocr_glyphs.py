"""The glyph classifier's second opinion: where it looks (CTC forced alignment) and when it may
overrule the best read (pick_plates). Pure logic here; the shipped network in tests/ocr."""

from __future__ import annotations

import numpy as np

from services.ocr.glyphs import forced_alignment, glyph_windows
from services.ocr.plates import Box, LineRead, pick_plates
from tests.unit.test_ocr_plates import ctc_output, spelled


def test_forced_alignment_finds_each_character_where_the_path_emits_it() -> None:
    # 7 for two frames, a blank, A, then B twice, which needs a blank between its two emissions.
    logp = ctc_output(["7", "7", "-", "A", "-", "B", "-", "B", "-"])
    assert forced_alignment(logp, "7AB") == [0, 3, 5]
    assert forced_alignment(logp, "7ABB") == [0, 3, 5, 7]
    assert forced_alignment(ctc_output(["7", "A"]), "7AB") is None  # three characters cannot fit in two frames


def test_glyph_windows_are_cut_around_each_frame() -> None:
    line = np.full((64, 96), 255, np.uint8)
    line[:, 40:48] = 0  # a dark stroke under frame 10 (columns 40-43) and 11
    windows = glyph_windows(line, [10, 0])
    assert windows.shape == (2, 32, 20)
    assert windows[0].min() == 0 and windows[1].min() == 255  # frame 0's window sees only paper


def _row(crop: bool = True) -> LineRead:
    # The network favours Z over 7 in the fifth place, 0.75 to 0.2 (beyond the count rule that prefers 7).
    frames = spelled("AC0M") + [{"Z": 0.75, "7": 0.2}, "-"] + spelled("V")
    return LineRead(Box(10, 50, 120, 30), ctc_output(frames), 0.8, crop=np.zeros((30, 120), np.uint8) if crop else None)


def test_a_confident_second_opinion_turns_a_near_tie() -> None:
    asked: list[tuple[str, list[str]]] = []

    def sure_it_is_a_seven(read: LineRead, best: str, others: list[str]) -> list[float]:
        asked.append((best, others))
        return [3.0 if other[4] == "7" and other[:4] == best[:4] else -3.0 for other in others]

    assert pick_plates([_row()])[0].text == "AC0MZV"
    plate = pick_plates([_row()], second_opinion=sure_it_is_a_seven)[0]
    assert plate.text == "AC0M7V"
    assert [t for t, _ in plate.candidates][:2] == ["AC0M7V", "AC0MZV"]
    # Only rivals as long as the best read and one or two characters off it are asked about, and
    # never an O/0 or I/1 swap: most plate fonts draw those alike.
    best, others = asked[0]
    assert best == "AC0MZV" and "AC0M7V" in others
    assert all(len(o) == len(best) and 1 <= sum(a != b for a, b in zip(o, best)) <= 2 for o in others)
    assert "ACOMZV" not in others


def test_a_rival_that_also_differs_by_a_look_alike_is_asked_only_about_the_rest() -> None:
    # The network reads ACOMZV (O over 0 by 0.55 to 0.4, Z over 7 by 0.9 to 0.05). AC0M7V, the
    # common shape, differs in the O/0 as well as the 7: the classifier is asked about the 7 alone
    # (the O/0 is the plate shape's to decide), and its verdict lifts AC0M7V, not only ACOM7V.
    frames = spelled("AC") + [{"O": 0.55, "0": 0.4}, "-"] + spelled("M") + [{"Z": 0.9, "7": 0.05}, "-"] + spelled("V")
    row = LineRead(Box(10, 50, 120, 30), ctc_output(frames), 0.8, crop=np.zeros((30, 120), np.uint8))
    asked: list[str] = []

    def sure_it_is_a_seven(read: LineRead, best: str, others: list[str]) -> list[float]:
        asked.extend(others)
        return [sum(3.0 if (a, b) == ("Z", "7") else -3.0 for a, b in zip(best, other) if a != b) for other in others]

    assert pick_plates([row])[0].text == "ACOMZV"
    assert pick_plates([row], second_opinion=sure_it_is_a_seven)[0].text == "AC0M7V"
    assert "ACOM7V" in asked and "AC0M7V" not in asked and "AC0MZV" not in asked


def test_a_weak_or_missing_second_opinion_changes_nothing() -> None:
    def barely(read: LineRead, best: str, others: list[str]) -> list[float]:
        return [0.1] * len(others)

    assert pick_plates([_row()], second_opinion=barely)[0].text == "AC0MZV"
    assert pick_plates([_row(crop=False)], second_opinion=lambda *_: [9.0] * 9)[0].text == "AC0MZV"


def test_a_second_opinion_too_weak_to_win_still_orders_the_second_guesses() -> None:
    # Z or 7 in the fifth place, V or Y in the sixth: the network's order of the runners-up is
    # AC0M7V, AC0MZY. A classifier fairly sure of the Y (1.5 x GLYPH_WEIGHT, under the 1.5 score
    # gap to the best read) lifts AC0MZY over AC0M7V, and leaves the best read first.
    frames = spelled("AC0M") + [{"Z": 0.75, "7": 0.2}, "-", {"V": 0.8, "Y": 0.15}]
    row = LineRead(Box(10, 50, 120, 30), ctc_output(frames), 0.8, crop=np.zeros((30, 120), np.uint8))

    def rather_y(read: LineRead, best: str, others: list[str]) -> list[float]:
        return [1.5 if other[4] == best[4] and other[5] == "Y" else 0.0 for other in others]

    assert [t for t, _ in pick_plates([row])[0].candidates][:3] == ["AC0MZV", "AC0M7V", "AC0MZY"]
    plate = pick_plates([row], second_opinion=rather_y)[0]
    assert plate.text == "AC0MZV"
    assert [t for t, _ in plate.candidates][:3] == ["AC0MZV", "AC0MZY", "AC0M7V"]


def test_noise_is_no_plate_and_no_second_opinion_is_asked_about_it() -> None:
    # The plate threshold (MIN_PLATE_SCORE) is the recogniser's own: a runner-up promoted on a
    # character's looks must not decide whether there is a plate at all.
    faint = {"6": 0.15} | {c: 0.08 for c in "G8B5S3EPR"} | {"-": 0.05}
    noise = LineRead(Box(10, 50, 60, 30), ctc_output([faint, "-", faint, "-"]), 0.0, crop=np.zeros((30, 60), np.uint8))
    asked: list[str] = []

    def eager(read: LineRead, best: str, others: list[str]) -> list[float]:
        asked.append(best)
        return [20.0] * len(others)

    assert pick_plates([noise], second_opinion=eager) == []
    assert asked == []


def test_an_ensemble_file_loads_as_the_mean_of_its_members_and_a_single_net_as_itself(tmp_path) -> None:
    import torch

    from services.ocr.glyphs import GlyphEnsemble, GlyphNet, load_glyph_net

    torch.manual_seed(0)
    ensemble = GlyphEnsemble(2).eval()
    torch.save(ensemble.state_dict(), tmp_path / "ensemble.pth")
    torch.save(ensemble.members[0].state_dict(), tmp_path / "single.pth")
    x = torch.rand(3, 1, 32, 20) * 2 - 1
    with torch.inference_mode():
        member_logp = [torch.log_softmax(m(x), dim=1) for m in ensemble.members]
        loaded = load_glyph_net(tmp_path / "ensemble.pth")
        assert isinstance(loaded, GlyphEnsemble) and len(loaded.members) == 2
        assert torch.allclose(loaded(x), (member_logp[0] + member_logp[1]) / 2, atol=1e-5)
        single = load_glyph_net(tmp_path / "single.pth")
        assert isinstance(single, GlyphNet)
        assert torch.allclose(torch.log_softmax(single(x), dim=1), member_logp[0], atol=1e-5)
