"""Explanation maps computed inside the exported graph, so the TypeScript side needs no gradients.

- Attention models (`AttentionFeatures`, ICPR2020 B4Att): the attention map itself, in [0, 1].
- Every other `Classifier` (features -> global average pool -> dropout -> linear): Grad-CAM. With a
  GAP + linear head, d logit / d F[c, i, j] = w_c / (h w) at every position, so Grad-CAM's channel
  weights are alpha_c = w_c / (h w) and Grad-CAM = ReLU(sum_c w_c F_c) / (h w): CAM (Zhou et al.)
  rectified and scaled. It is one 1x1 convolution over the last feature map. `grad_cam_autograd`
  computes the same map with autograd, for the test that checks the identity.

Maps are [N, 1, h, w] at the last feature map's resolution (the input side / 32 for EfficientNet,
/ 8 for the B4 attention); the reader upsamples them to the crop.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .model import Classifier

# ONNX output name and manifest `output.explanation.method` per kind of map.
GRAD_CAM = ("cam", "grad-cam")
ATTENTION = ("attention", "attention")


def explanation_kind(model: nn.Module) -> Optional[Tuple[str, str]]:
    """(ONNX output name, method) of the map `ExplainedModel` adds for this model, or None."""
    if not isinstance(model, Classifier) or not isinstance(model.head, nn.Linear) or model.head.out_features != 1:
        return None
    return ATTENTION if hasattr(model.features, "forward_with_attention") else GRAD_CAM


class ExplainedModel(nn.Module):
    """forward(x) -> (logit [N, 1], map [N, 1, h, w]); the logit is the wrapped model's, unchanged."""

    def __init__(self, model: Classifier) -> None:
        super().__init__()
        kind = explanation_kind(model)
        if kind is None:
            raise ValueError(f"{type(model).__name__} has no features/GAP/linear head to explain")
        self.model, self.kind = model, kind
        # Same mode as the wrapped model: torch.onnx.export restores the wrapper's mode afterwards,
        # and a fresh module (training=True) would leave the model's BatchNorm in training mode.
        self.train(model.training)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        m = self.model
        if self.kind == ATTENTION:
            f, att = m.features.forward_with_attention(x)
        else:
            f = m.features(x)
        logit = m.head(m.drop(m.pool(f).flatten(1)))
        if self.kind == ATTENTION:
            return logit, att
        return logit, cam_from_features(f, m.head.weight)


def cam_from_features(f: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """ReLU(sum_c w_c F_c) / (h w) = Grad-CAM of a GAP + linear head. f: [N, C, h, w], weight: [1, C]."""
    # The map size is fixed by the input size the model is exported at, so a constant divisor is right.
    h, w = int(f.shape[-2]), int(f.shape[-1])
    return F.relu(F.conv2d(f, weight.view(1, -1, 1, 1))) * (1.0 / (h * w))


def grad_cam_autograd(model: Classifier, x: torch.Tensor) -> torch.Tensor:
    """Grad-CAM by definition (Selvaraju et al.): alpha_c = spatial mean of d logit / d F_c,
    map = ReLU(sum_c alpha_c F_c). Model in eval mode; one backward pass for the whole batch (in eval
    mode samples do not interact, so each sample's gradient is its own)."""
    f = model.features(x).detach().requires_grad_(True)
    logit = model.head(model.drop(model.pool(f).flatten(1)))
    (grad,) = torch.autograd.grad(logit.sum(), f)
    alpha = grad.mean(dim=(2, 3), keepdim=True)
    return F.relu((alpha * f).sum(dim=1, keepdim=True)).detach()
