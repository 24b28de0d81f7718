"""`dctnet`: a classifier that sees a face crop only through its 8x8 block spectra.

Every other family here reads pixels. Blending, resampling and a generator's upsampling also leave
traces in the local frequency content (F3-Net, Qian et al., ECCV 2020: "local frequency statistics"):
a pasted face is often smoother, or differently sharpened, than the frame around it. This family
starts from a fixed transform, so whatever it learns comes from that view: the crop goes to YCbCr
(as JPEG codes it), each channel to orthonormal 8x8 DCT-II blocks (a stride-8 convolution with the
64 basis images), and each coefficient to log(|c| + eps). A small ResNet reads the resulting
[192, S/8, S/8] grid, one cell per block, so it can compare the spectra of the face's middle with
those at its edges. The transform has no parameters; ONNX export is plain convolutions.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .model import BasicBlock, Classifier, _conv_bn, register

BLOCK = 8
# log(|c| + EPS): inputs are normalised to [-1, 1], so an orthonormal block's DC term is at most 16 and the
# AC terms of a smooth block are ~1e-3; EPS keeps flat blocks from dominating the log scale.
EPS = 1e-2

# ITU-R BT.601 RGB -> YCbCr, on inputs in [-1, 1] (offsets are irrelevant: only the DC terms would see them).
_YCBCR = ((0.299, 0.587, 0.114), (-0.168736, -0.331264, 0.5), (0.5, -0.418688, -0.081312))


def dct_basis(n: int = BLOCK) -> torch.Tensor:
    """The n*n orthonormal DCT-II basis images, [n*n, n, n]; index u*n + v is vertical frequency u,
    horizontal v. A block's coefficients are its inner products with these."""
    k = torch.arange(n, dtype=torch.float64)
    scale = torch.full((n,), math.sqrt(2.0 / n), dtype=torch.float64)
    scale[0] = math.sqrt(1.0 / n)
    c = scale[:, None] * torch.cos(math.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n))  # [freq, pos]
    return torch.einsum("ux,vy->uvxy", c, c).reshape(n * n, n, n).float()


class BlockSpectrum(nn.Module):
    """[N, 3, S, S] in [-1, 1] -> [N, 3*64, S/8, S/8]: log magnitude of each YCbCr channel's 8x8 DCT
    coefficients (channel c*64 + u*8 + v). S need not be a multiple of 8: the last partial blocks are dropped."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("ycbcr", torch.tensor(_YCBCR).view(3, 3, 1, 1))
        self.register_buffer("basis", dct_basis().unsqueeze(1).repeat(3, 1, 1, 1))  # [192, 1, 8, 8]

    def coefficients(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(x, self.ycbcr), self.basis, stride=BLOCK, groups=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(self.coefficients(x).abs() + EPS)


def dct_resnet(widths=(32, 64, 128, 256), depths=(1, 1, 1, 1), dropout: float = 0.2) -> Classifier:
    """BlockSpectrum -> BatchNorm (puts the 192 log spectra on one scale) -> 1x1 conv -> ResNet stages at
    block resolution (S/8, S/16, S/32, S/64)."""
    layers: list[nn.Module] = [BlockSpectrum(), nn.BatchNorm2d(3 * BLOCK * BLOCK), _conv_bn(3 * BLOCK * BLOCK, widths[0], 1)]
    cin = widths[0]
    for s, (w, d) in enumerate(zip(widths, depths)):
        for i in range(d):
            layers.append(BasicBlock(cin, w, 2 if (i == 0 and s > 0) else 1))
            cin = w
    return Classifier(nn.Sequential(*layers), cin, dropout)


@register("dctnet", default_size=256, min_size=32)
def dctnet(size: int) -> nn.Module:
    """1.2 M params. 256 px by default: the crops are cut at 256, so the spectra see them unresized."""
    return dct_resnet()
