"""Synthetic camera motion: a still face photo made into a clip for the temporal families.

Real face videos are few in the dev set (a dozen REAL training videos) while still photos of thousands of
people are not. `--still-crops` lets those photos join clip training: each becomes a clip whose frames
are the photo moved by a smooth drift (the head or camera moving over the clip) plus the per-frame
shift and rescale of a face detector's box, which a real track's crops carry too. A self-blended clip
made from it blends every moved frame (with its moved keypoints), as a swap is made on every frame of a
video, so what separates it from its REAL twin is the blend and its flicker, not the motion.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np
import torch

from .warp import warp_similarity


@dataclass(frozen=True)
class MotionConfig:
    drift_shift: float = 0.04  # largest shift over the whole clip, fraction of the side, per axis
    drift_scale: float = 0.04  # largest relative zoom over the whole clip
    box_jitter: float = 0.01  # per-frame detector-box noise: shift (fraction of the side) and relative scale


@dataclass(frozen=True)
class FrameMove:
    dx: float  # shift, fraction of the side
    dy: float
    scale: float  # about the crop centre


def draw_motion(rng: random.Random, n_frames: int, cfg: MotionConfig = MotionConfig()) -> List[FrameMove]:
    """One clip's moves: a linear drift centred on the clip's middle frame, plus white box jitter."""
    ex, ey = rng.uniform(-cfg.drift_shift, cfg.drift_shift), rng.uniform(-cfg.drift_shift, cfg.drift_shift)
    es = rng.uniform(-cfg.drift_scale, cfg.drift_scale)
    j = cfg.box_jitter
    moves = []
    for k in range(n_frames):
        t = k / (n_frames - 1) - 0.5 if n_frames > 1 else 0.0
        moves.append(FrameMove(ex * t + rng.uniform(-j, j), ey * t + rng.uniform(-j, j),
                               (1 + es * t) * (1 + rng.uniform(-j, j))))
    return moves


def move_frame(img: torch.Tensor, keypoints: np.ndarray, move: FrameMove) -> Tuple[torch.Tensor, np.ndarray]:
    """Image [3, S, S] zoomed by `scale` about its centre then shifted (bilinear, edges repeated), and the
    keypoints (pixels) moved the same way: p' = c + scale * (p - c) + shift."""
    side = img.shape[-1]
    c, s = side / 2, move.scale
    m = np.array([[s, 0.0, (1 - s) * c + move.dx * side], [0.0, s, (1 - s) * c + move.dy * side]])
    kp = keypoints @ m[:, :2].T + m[:, 2]
    return warp_similarity(img, m).clamp(0, 1), kp.astype(np.float32)
