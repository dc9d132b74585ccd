"""A second opinion on single characters, for near-ties of the sequence network.

The recogniser reads a row as a sequence: its BiLSTM weighs every character by its neighbours,
and on small plates it settles near-ties by habit (AC0M7V read AC0MZV by every crop of a clearly
drawn 7, SGT-E5 read S6TE5). A small CNN that sees one character alone, cut where the network's
own best path puts it (CTC forced alignment), has other habits. pick_plates asks it only about
the characters in which the best read and a close runner-up of the same row differ.

Weights: `weights/glyph_classifier.pth`, trained by `python -m services.ocr.training.glyphs`
on windows of the plates training split and of synthetic lines (services/ocr/README.md).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from services.ocr.recognizer import IMG_H, PLATE_ALPHABET, resize_line

PACKAGED_GLYPH_WEIGHTS = Path(__file__).with_name("weights") / "glyph_classifier.pth"

# A window is this wide in a line IMG_H (64) pixels tall: about one character and a half.
WINDOW_W = 40
INPUT_H, INPUT_W = 32, 20
# The recogniser's CTC frames step 4 columns through its input.
FRAME_STRIDE = 4


def _block(into: int, out: int) -> list[nn.Module]:
    return [nn.Conv2d(into, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]


class GlyphNet(nn.Module):
    """(N, 1, 32, 20) windows in [-1, 1] -> (N, 36) logits over PLATE_ALPHABET."""

    def __init__(self) -> None:
        super().__init__()
        self.f = nn.Sequential(
            *_block(1, 32), *_block(32, 32), nn.MaxPool2d(2), *_block(32, 64), *_block(64, 64), nn.MaxPool2d(2),
            *_block(64, 128), nn.Flatten(), nn.Dropout(0.3), nn.Linear(128 * (INPUT_H // 4) * (INPUT_W // 4), len(PLATE_ALPHABET)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.f(x)
        return out


class GlyphEnsemble(nn.Module):
    """Several GlyphNets trained alike from different seeds: (N, 1, 32, 20) -> (N, 36) mean
    log-probabilities. One training run's habits on a near-tie are partly luck (a second run in
    the shipped one's place lost 2 us-endtoend photos); the mean keeps what the runs agree on."""

    def __init__(self, members: int) -> None:
        super().__init__()
        self.members = nn.ModuleList(GlyphNet() for _ in range(members))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([torch.log_softmax(m(x), dim=1) for m in self.members]).mean(dim=0)


def load_glyph_net(weights: Path) -> nn.Module:
    """A GlyphNet or, from a state dict whose keys start with "members.", a GlyphEnsemble; in
    float32 and in eval mode. Either gives logits fit for log_softmax."""
    state = {k: v.float() for k, v in torch.load(weights, map_location="cpu", weights_only=True).items()}
    members = {k.split(".")[1] for k in state if k.startswith("members.")}
    net: nn.Module = GlyphEnsemble(len(members)) if members else GlyphNet()
    net.load_state_dict(state)
    return net.eval()


def forced_alignment(logp: np.ndarray, text: str) -> list[int] | None:
    """The frame at which each character of `text` is first emitted on the likeliest CTC path
    that spells it, under (T, 37) log-probs (blank first); None when T is too short for it."""
    labels = [PLATE_ALPHABET.index(c) + 1 for c in text]
    states = [0]
    for label in labels:
        states += [label, 0]
    n, frames = len(states), logp.shape[0]
    if not labels or frames < len(labels):
        return None
    states_arr = np.array(states)
    # A state may come from itself, the one before, or two before when that skips a blank
    # between two different characters.
    skip = np.zeros(n, bool)
    skip[2:] = (states_arr[2:] != 0) & (states_arr[2:] != states_arr[:-2])
    best = np.full(n, -np.inf)
    best[:2] = logp[0, states_arr[:2]]
    back = np.zeros((frames, n), np.int64)
    for t in range(1, frames):
        stay, step = best, np.concatenate(([-np.inf], best[:-1]))
        jump = np.where(skip, np.concatenate(([-np.inf, -np.inf], best[:-2])), -np.inf)
        choices = np.stack([stay, step, jump])
        pick = choices.argmax(axis=0)
        back[t] = np.arange(n) - pick
        best = choices.max(axis=0) + logp[t, states_arr]
    state = n - 1 if best[n - 1] >= best[n - 2] else n - 2
    if not np.isfinite(best[state]):
        return None
    path = [state]
    for t in range(frames - 1, 0, -1):
        state = int(back[t, state])
        path.append(state)
    first: list[int | None] = [None] * len(labels)
    for t, s in enumerate(reversed(path)):
        if s % 2 and first[s // 2] is None:
            first[s // 2] = t
    return [f for f in first if f is not None] if all(f is not None for f in first) else None


def glyph_windows(line: np.ndarray, frames: list[int], shift: float = 0.0) -> np.ndarray:
    """(n, 32, 20) uint8 windows of a line already resized by resize_line (IMG_H tall), one
    centred on each frame's columns (`shift` columns to the right)."""
    padded = cv2.copyMakeBorder(line, 0, 0, WINDOW_W, WINDOW_W, cv2.BORDER_REPLICATE)
    out = np.empty((len(frames), INPUT_H, INPUT_W), np.uint8)
    for i, frame in enumerate(frames):
        left = int(round(FRAME_STRIDE * frame + FRAME_STRIDE / 2 + shift - WINDOW_W / 2)) + WINDOW_W
        out[i] = cv2.resize(padded[:IMG_H, left : left + WINDOW_W], (INPUT_W, INPUT_H), interpolation=cv2.INTER_AREA)
    return out


def normalise_windows(windows: np.ndarray) -> torch.Tensor:
    return torch.from_numpy((windows.astype(np.float32) / 255.0 - 0.5) / 0.5)[:, None]


class GlyphJudge:
    """How much more the glyph classifier believes `other` than `best` where they differ."""

    def __init__(self, weights: Path = PACKAGED_GLYPH_WEIGHTS, device: str = "cpu") -> None:
        self._net = load_glyph_net(weights).to(device)
        self._device = device

    def log_odds(self, crop: np.ndarray, logp: np.ndarray, best: str, others: list[str]) -> list[float]:
        """For each of `others` (as long as `best`): the sum over the places where it differs
        from `best` of log p(its character) - log p(best's character), each character cut from
        `crop` (the row as the recogniser read it into `logp`) where the recogniser's path for
        `best` puts it. 0.0 for all when that path cannot be found."""
        frames = forced_alignment(logp, best)
        if frames is None:
            return [0.0] * len(others)
        places = sorted({i for other in others for i, (a, b) in enumerate(zip(best, other)) if a != b})
        if not places:
            return [0.0] * len(others)
        windows = glyph_windows(resize_line(crop), [frames[i] for i in places])
        with torch.inference_mode():
            logits = self._net(normalise_windows(windows).to(self._device))
            log_p = dict(zip(places, torch.log_softmax(logits, dim=1).cpu().numpy()))
        return [float(sum(log_p[i][PLATE_ALPHABET.index(b)] - log_p[i][PLATE_ALPHABET.index(a)]
                          for i, (a, b) in enumerate(zip(best, other)) if a != b)) for other in others]
