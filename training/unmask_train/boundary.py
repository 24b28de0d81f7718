"""`--boundary-weight`: a Face X-ray style auxiliary target for frame models (Li et al., CVPR 2020).

Every self-blended fake has a blending boundary: where the blend mask M goes from 0 to 1. Face X-ray
showed that a network asked to *locate* that boundary, B = 4 M (1 - M), learns the trace that any
face swap leaves, rather than the look of one manipulation method or data set. Here the boundary is an
auxiliary, training-only target: a 1x1 convolution on a mid-level feature map (output stride <= 20)
predicts B pooled to that map's grid, with per-pixel BCE; REAL faces have an all-zero target, and
real fakes (whose mask is unknown) none. The exported ONNX is the classifier alone, so a scan costs
the same as without the option.
"""
from __future__ import annotations

from typing import List, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .model import Classifier

# The tapped feature map's side is at least input side // TAP_STRIDE: the 8x8 conv128 stage of faceres at
# 150 px, where the face hull (about 60% of the crop) still spans several cells, ring apart from interior.
TAP_STRIDE = 20


def boundary_map(mask: torch.Tensor) -> torch.Tensor:
    """B = 4 m (1 - m) of a blend mask [1, H, W] scaled to peak 1 (the blend ratio only dims the paste;
    the boundary is where it starts), so B is 1 on the mask's mid-level set and 0 inside and outside."""
    peak = float(mask.max())
    if peak <= 0:
        return torch.zeros_like(mask)
    m = (mask / peak).clamp(0, 1)
    return 4 * m * (1 - m)


def pooled_target(boundary: torch.Tensor, grid: int) -> torch.Tensor:
    """A boundary map [1, H, W] averaged onto the tapped feature map's grid: [1, grid, grid]."""
    return F.adaptive_avg_pool2d(boundary[None], grid)[0]


def _stages(features: nn.Module) -> List[nn.Module]:
    """The feature extractor's stages in order: residual blocks of the faceres trunk, or the children
    of a Sequential trunk (the project's ResNets/MobileNets, EfficientNet, Xception)."""
    blocks = getattr(features, "blocks", None)
    if callable(blocks):
        return list(blocks())
    if isinstance(features, nn.Sequential):
        return list(features.children())
    raise ValueError(f"--boundary-weight: no stages to tap in a {type(features).__name__} trunk")


def find_tap(net: Classifier, size: int) -> Tuple[nn.Module, int, int]:
    """(stage, channels, grid side) of the last stage whose output side is still >= size // TAP_STRIDE."""
    stages = _stages(net.features)
    shapes: List[Tuple[int, int]] = []
    hooks = [s.register_forward_hook(lambda _m, _i, out: shapes.append((int(out.shape[1]), int(out.shape[-1]))))
             for s in stages]
    was_training = net.training
    net.eval()  # no BatchNorm update (and no faceres re-parameterisation) from the probe
    try:
        with torch.no_grad():
            net.features(torch.zeros(1, 3, size, size))
    finally:
        for h in hooks:
            h.remove()
        net.train(was_training)
    want = size // TAP_STRIDE
    best = None
    for i, (c, side) in enumerate(shapes):
        if side >= want:
            best = i
    if best is None:
        raise ValueError(f"--boundary-weight: no stage keeps a {want}-cell grid at input {size}")
    return stages[best], shapes[best][0], shapes[best][1]


class BoundaryModule(nn.Module):
    """Wraps a Classifier for training: forward(x) -> (logit [N, 1], boundary logits [N, 1, g, g])."""

    def __init__(self, net: nn.Module, size: int) -> None:
        super().__init__()
        if not isinstance(net, Classifier):
            raise ValueError(f"--boundary-weight needs a features/pool/head model; {type(net).__name__} is not one")
        self.net = net
        stage, channels, self.grid = find_tap(net, size)
        self.head = nn.Conv2d(channels, 1, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.constant_(self.head.bias, -2.0)  # most of the grid is off the boundary
        # The hook stays on the classifier's stage; it records only inside this module's forward, so
        # validation and export of the bare classifier are untouched.
        self._tapped: List[torch.Tensor] = []
        self._recording = False
        stage.register_forward_hook(self._record)

    def _record(self, _module: nn.Module, _inputs: object, out: torch.Tensor) -> None:
        if self._recording:
            self._tapped.append(out)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        self._recording = True
        try:
            logit = self.net(x)
        finally:
            self._recording = False
        tapped = self._tapped.pop()
        self._tapped.clear()
        return logit, self.head(tapped)


def boundary_loss(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Per-pixel BCE of boundary logits [N, 1, g, g] against soft targets, averaged over the samples
    with weight > 0 (REAL faces and self-blends; 0 for fakes whose mask is unknown)."""
    per_sample = F.binary_cross_entropy_with_logits(pred.float(), target.float(), reduction="none").mean((1, 2, 3))
    w = weight.float()
    return (per_sample * w).sum() / w.sum().clamp_min(1.0)
