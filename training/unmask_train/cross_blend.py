"""Blended images from two people (Face X-ray's "BI", Li et al., CVPR 2020).

Self-blending (sbi.py) pastes a face onto itself, so the only traces are the blend edge and the
colour/sharpness mismatch. A face swap pastes *another* person's face: its inner face carries
different features, skin and lighting than the head around it, and was warped to fit. Here the
pasted face is another person's REAL crop of similar face shape (nearest 68-landmark shape, as
Face X-ray picks its donors), moved onto the target by the similarity transform between the two
landmark sets, colour-matched inside the mask, then altered and blended exactly as a self-blend
(same mask, same appearance change), so only the donor differs from the SBI recipe.

Images are float tensors [3, H, W] in [0, 1]; landmarks are (68, 2) in dlib's order, in pixels.
"""
from __future__ import annotations

import random
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch

from .sbi import LEFT_EYE, RIGHT_EYE, SbiConfig, alter_appearance, convex_hull, deform_mask, landmark_points, polygon_mask
from .warp import similarity_transform, warp_similarity

# A donor is drawn among this many nearest face shapes of other identities (Face X-ray: 100 of a far larger pool).
DEFAULT_NEIGHBOURS = 50


def shape_vector(lm: np.ndarray) -> np.ndarray:
    """The landmarks' face shape, free of position, size and roll: centred, turned so the eyes lie level,
    scaled to unit RMS radius; flattened to (136,)."""
    p = np.asarray(lm, dtype=np.float64)
    p = p - p.mean(axis=0)
    eyes = p[RIGHT_EYE].mean(axis=0) - p[LEFT_EYE].mean(axis=0)
    a = -np.arctan2(eyes[1], eyes[0])
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    p = p @ rot.T
    rms = np.sqrt((p ** 2).sum(axis=1).mean())
    return (p / max(rms, 1e-9)).reshape(-1).astype(np.float32)


def nearest_donors(shapes: np.ndarray, identities: Sequence[str], k: int = DEFAULT_NEIGHBOURS,
                   chunk: int = 1024) -> List[np.ndarray]:
    """For each row of `shapes` (n, d), the indices of its k nearest rows of another identity (fewer where
    fewer exist), nearest first. Chunked, so memory stays at chunk x n distances."""
    n = len(shapes)
    kk = min(k, n - 1)
    if kk <= 0:
        return [np.empty(0, dtype=np.int64) for _ in range(n)]
    ids = np.unique(np.asarray(identities), return_inverse=True)[1]
    x = shapes.astype(np.float64)
    sq = (x ** 2).sum(axis=1)
    out: List[np.ndarray] = []
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        d = sq[lo:hi, None] + sq[None, :] - 2.0 * x[lo:hi] @ x.T
        d[ids[lo:hi, None] == ids[None, :]] = np.inf  # never the same person (nor the face itself)
        part = np.argpartition(d, kk - 1, axis=1)[:, :kk]
        for r in range(hi - lo):
            idx = part[r][np.isfinite(d[r, part[r]])]
            out.append(idx[np.argsort(d[r, idx], kind="stable")])
    return out


def donor_table(faces: Sequence, sources: Sequence[int], k: int = DEFAULT_NEIGHBOURS) -> Dict[int, np.ndarray]:
    """Face index -> donor face indices (nearest shapes first) for every source that has landmarks; donors
    come from the same sources. `faces` need `.landmarks` ((68, 2) or None) and `.group` (identity)."""
    with_lm = [i for i in sources if faces[i].landmarks is not None]
    if len(with_lm) < 2:
        return {}
    shapes = np.stack([shape_vector(faces[i].landmarks) for i in with_lm])
    near = nearest_donors(shapes, [faces[i].group for i in with_lm], k)
    index = np.asarray(with_lm)
    return {i: index[d] for i, d in zip(with_lm, near) if len(d)}


def match_colour(source: torch.Tensor, target: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
    """`source` with each channel's mean and spread inside `region` ([1, H, W], > 0.5 counts) set to the
    target's there: the donor's skin tone and lighting brought to the head it lands on."""
    inside = region[0] > 0.5
    if int(inside.sum()) < 2:
        return source
    s, t = source[:, inside], target[:, inside]
    ms, ss = s.mean(dim=1, keepdim=True), s.std(dim=1, keepdim=True)
    mt, st = t.mean(dim=1, keepdim=True), t.std(dim=1, keepdim=True)
    out = (source - ms[:, :, None]) / ss[:, :, None].clamp_min(1e-3) * st[:, :, None] + mt[:, :, None]
    return out.clamp(0, 1)


def cross_blend(target: torch.Tensor, target_lm: np.ndarray, donor: torch.Tensor, donor_lm: np.ndarray,
                rng: random.Random, cfg: SbiConfig = SbiConfig()) -> Tuple[torch.Tensor, torch.Tensor]:
    """Return (fake image [3,H,W], blend mask [1,H,W] in [0,1]): the donor's face pasted onto the target
    (both REAL crops of the same size, landmarks in their pixels). The mask and appearance change are the
    self-blend's (`cfg`: its landmark hull, deformation, blend ratio, colour and sharpness change)."""
    _, h, w = target.shape
    hull = convex_hull(landmark_points(target_lm, rng, cfg))
    hard = polygon_mask(hull, h, w)
    mask = deform_mask(hard, rng, cfg) * rng.choice(cfg.blend_ratios)
    moved = warp_similarity(donor, similarity_transform(donor_lm, target_lm))
    source = alter_appearance(match_colour(moved, target, hard), rng, cfg)
    return (source * mask + target * (1 - mask)).clamp(0, 1), mask
