"""Validation metrics and calibration, in plain numpy (no sklearn dependency).

Labels are 1 = FAKE, 0 = REAL; scores are logits of FAKE.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Hashable, Optional, Sequence, Tuple

import numpy as np


def auc(labels: Sequence[float], scores: Sequence[float]) -> Optional[float]:
    """ROC AUC via the Mann-Whitney U statistic with average ranks (ties count one half).

    None when only one class is present (AUC is undefined then).
    """
    y = np.asarray(labels, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    n_pos = int((y == 1).sum())
    n_neg = int((y == 0).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    sorted_s = s[order]
    ranks = np.empty(len(s), dtype=np.float64)
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0  # average 1-based rank of the tie run
        i = j + 1
    u = ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def log_loss(labels: Sequence[float], logits: Sequence[float], temperature: float = 1.0) -> Optional[float]:
    """Mean binary cross-entropy of sigmoid(logit / T), computed stably from logits. None if empty."""
    y = np.asarray(labels, dtype=np.float64)
    z = np.asarray(logits, dtype=np.float64) / temperature
    if len(y) == 0:
        return None
    # BCE = softplus(z) - y*z, with softplus(z) = max(z,0) + log1p(exp(-|z|)).
    sp = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(sp - y * z))


def group_mean(keys: Sequence[Hashable], labels: Sequence[float], logits: Sequence[float]) -> Tuple[np.ndarray, np.ndarray]:
    """Video-level scores: mean logit per key; a key's label is that of its first item."""
    sums: Dict[Hashable, float] = {}
    counts: Dict[Hashable, int] = {}
    lab: Dict[Hashable, float] = {}
    for k, y, z in zip(keys, labels, logits):
        sums[k] = sums.get(k, 0.0) + float(z)
        counts[k] = counts.get(k, 0) + 1
        lab.setdefault(k, float(y))
    ks = list(sums)
    return np.array([lab[k] for k in ks]), np.array([sums[k] / counts[k] for k in ks])


def fit_temperature(labels: Sequence[float], logits: Sequence[float], lo: float = 0.05, hi: float = 20.0) -> float:
    """Temperature T minimising log loss of sigmoid(logit / T).

    The loss is convex in a = 1/T, so a golden-section search over a in [1/hi, 1/lo] finds the optimum.
    Returns 1.0 when there is nothing to fit (empty or a single class).
    """
    y = np.asarray(labels, dtype=np.float64)
    if len(y) == 0 or y.min() == y.max():
        return 1.0
    z = np.asarray(logits, dtype=np.float64)

    def loss(a: float) -> float:
        return log_loss(y, z * a) or 0.0

    a_lo, a_hi = 1.0 / hi, 1.0 / lo
    g = (math.sqrt(5) - 1) / 2
    c, d = a_hi - g * (a_hi - a_lo), a_lo + g * (a_hi - a_lo)
    fc, fd = loss(c), loss(d)
    for _ in range(100):
        if fc < fd:
            a_hi, d, fd = d, c, fc
            c = a_hi - g * (a_hi - a_lo)
            fc = loss(c)
        else:
            a_lo, c, fc = c, d, fd
            d = a_lo + g * (a_hi - a_lo)
            fd = loss(d)
        if a_hi - a_lo < 1e-6:
            break
    return float(2.0 / (a_lo + a_hi))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@dataclass(frozen=True)
class DecisionBand:
    """Calibrated-probability band: p < real_below -> REAL, p >= fake_above -> FAKE, else UNCERTAIN."""

    real_below: float = 0.35
    fake_above: float = 0.65


def band_stats(labels: Sequence[float], logits: Sequence[float], temperature: float, band: DecisionBand) -> Dict[str, Optional[float]]:
    """Share of items left UNCERTAIN by the band, and accuracy on the ones it decides."""
    y = np.asarray(labels, dtype=np.float64)
    p = sigmoid(np.asarray(logits, dtype=np.float64) / temperature)
    if len(y) == 0:
        return {"uncertain_rate": None, "decided_accuracy": None}
    real = p < band.real_below
    fake = p >= band.fake_above
    decided = real | fake
    correct = (real & (y == 0)) | (fake & (y == 1))
    return {
        "uncertain_rate": float(1.0 - decided.mean()),
        "decided_accuracy": float(correct.sum() / decided.sum()) if decided.any() else None,
    }


def evaluate(keys: Sequence[Hashable], labels: Sequence[float], logits: Sequence[float]) -> Dict[str, Optional[float]]:
    """Frame-level and video-level (mean logit per key) AUC and log loss, uncalibrated."""
    vy, vz = group_mean(keys, labels, logits)
    return {
        "frame_auc": auc(labels, logits),
        "frame_logloss": log_loss(labels, logits),
        "video_auc": auc(vy, vz),
        "video_logloss": log_loss(vy, vz),
        "frames": float(len(labels)),
        "videos": float(len(vy)),
    }
