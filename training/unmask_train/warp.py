"""Whole-picture similarity warps in pixel coordinates, shared by cross blends (cross_blend.py) and
synthetic camera motion (camera_motion.py)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 matrix M of the rotation + uniform scale + shift that best maps `src` points onto `dst`
    (least squares, no reflection: Umeyama 1991); dst ~ M @ [x, y, 1]."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - ms, dst - md
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    e = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        e[1, 1] = -1
    rot = u @ e @ vt
    var = (s ** 2).sum() / len(src)
    scale = float((sig * np.diag(e)).sum() / max(var, 1e-12))
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = md - scale * rot @ ms
    return m


def warp_similarity(img: torch.Tensor, m: np.ndarray) -> torch.Tensor:
    """`img` [C, H, W] moved by M (output = M @ input, in pixel coordinates as keypoints and landmarks
    use them: pixel i spans [i, i + 1)), same size; bilinear, edges repeated beyond the picture, so no
    black border enters a blend mask or a moved frame."""
    _, h, w = img.shape
    full = np.vstack([m, [0.0, 0.0, 1.0]])
    inv = np.linalg.inv(full)  # output pixel -> input pixel
    # x <-> affine_grid's u = 2x / W - 1 (align_corners=False: -1 and 1 are the picture's outer edges)
    norm = np.array([[2.0 / w, 0.0, -1.0], [0.0, 2.0 / h, -1.0], [0.0, 0.0, 1.0]])
    theta = norm @ inv @ np.linalg.inv(norm)
    grid = F.affine_grid(torch.tensor(theta[:2], dtype=img.dtype)[None], [1, *img.shape], align_corners=False)
    return F.grid_sample(img[None], grid, mode="bilinear", padding_mode="border", align_corners=False)[0]
