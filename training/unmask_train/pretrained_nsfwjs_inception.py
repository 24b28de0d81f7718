"""`inceptionv3`: Keras's InceptionV3 as a frame classifier, optionally starting from the
ImageNet-derived weights of the `inception_v3` model that the npm package `nsfwjs` (MIT) ships.

Why: every other member of the default stack is a MobileNetV2 or a face-recognition ResNet trained
on the same self-blends; measured, they now carry much the same signal (training/README.md). This is
a different family (multi-branch, 1x7/7x1 factorised kernels, 21.8 M trunk parameters), and the
FaceForensics++ baselines' kind of ImageNet start (Xception descends from Inception).

- Files: `node_modules/nsfwjs/dist/models/inception_v3/model.min.js` (`{modelTopology,
  weightsManifest}`, a Keras 2.2.4 *layers* model) and six weight shards (base64 strings). Node reads
  them (pretrained_nsfwjs.read_nsfwjs).
- Network: `keras.applications.InceptionV3` at 299 px. Its 94 convolutions `conv2d_1` .. `conv2d_94`
  (no bias) each have a `batch_normalization_<n>` (eps 1e-3, `scale=False`: no gamma, only beta and
  the moving statistics); the numbers follow the order in which Keras created them, which is the
  order `InceptionV3Trunk.conv_layers` yields. Stride-2 convolutions and max pools are 'valid'; the
  stride-1 ones are 'same' with odd kernels (symmetric padding). The branches' 3x3 average pools are
  'same' and TensorFlow leaves the padding out of the mean (`count_include_pad=False`), which this
  module reproduces (torchvision's Inception3 counts it).
- nsfwjs froze the stem and mixed0-5 (the ImageNet weights; "trainable": false) and fine-tuned mixed6-10 with
  a dense head 2048 -> 256 -> 128 -> 5 (Drawing, Hentai, Neutral, Porn, Sexy).
- Input: Keras's ImageNet InceptionV3 takes `rgb / 127.5 - 1`, the project's normalisation. (nsfwjs
  itself feeds `rgb / 255`; the port check does the same.)

As a classifier (`--arch inceptionv3`) the trunk becomes `model.Classifier`'s features (GAP ->
dropout -> one logit); `--init nsfwjs` (transfer.py) loads the package weights into it (the head stays
random). Inputs from 75 px up work; at 128 px the last blocks see 2x2 positions.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .model import Classifier, register
from .pretrained_nsfwjs import NSFW_CLASSES, NsfwjsWeightsError, nsfwjs_model_dir, read_nsfwjs
from .tfjs_weights import torch_filter

INCEPTION_MODEL_DIR = Path(__file__).resolve().parents[2] / "node_modules" / "nsfwjs" / "dist" / "models" / "inception_v3"
BN_EPS = 1e-3  # Keras's BatchNormalization default
OUT_CHANNELS = 2048
HEAD_UNITS = (256, 128, len(NSFW_CLASSES))  # nsfwjs's dense_1 .. dense_3


class ConvBN(nn.Module):
    """conv (no bias) -> BatchNorm (no learned scale in Keras; ours starts at 1) -> ReLU. 'valid' when
    `same` is False, else symmetric 'same' padding (odd kernels, stride 1)."""

    def __init__(self, cin: int, cout: int, k: Sequence[int] | int, stride: int = 1, same: bool = True) -> None:
        super().__init__()
        kh, kw = (k, k) if isinstance(k, int) else k
        self.conv = nn.Conv2d(cin, cout, (kh, kw), stride, (kh // 2, kw // 2) if same else 0, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg3(x: torch.Tensor) -> torch.Tensor:
    """TensorFlow's 3x3 stride-1 'same' average pool: the mean over the window's pixels inside the image."""
    return F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)


def _max3s2(x: torch.Tensor) -> torch.Tensor:
    return F.max_pool2d(x, 3, 2)


class Mixed(nn.Module):
    """One Inception block: branches (each a list of ConvBN chains, possibly forked at the end) whose
    outputs are concatenated in Keras's order. Subclasses only declare the branches, registering their
    ConvBNs in the order Keras created them (InceptionV3Trunk.conv_layers, and so the weight loading,
    relies on it)."""

    def branches(self, x: torch.Tensor) -> List[torch.Tensor]:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(self.branches(x), 1)


class MixedA(Mixed):
    """mixed0-2: 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | avg pool -> 1x1 (`pool` channels)."""

    def __init__(self, cin: int, pool: int) -> None:
        super().__init__()
        self.b1 = ConvBN(cin, 64, 1)
        self.b5 = nn.Sequential(ConvBN(cin, 48, 1), ConvBN(48, 64, 5))
        self.b3 = nn.Sequential(ConvBN(cin, 64, 1), ConvBN(64, 96, 3), ConvBN(96, 96, 3))
        self.bp = ConvBN(cin, pool, 1)

    def branches(self, x):
        return [self.b1(x), self.b5(x), self.b3(x), self.bp(_avg3(x))]


class MixedB(Mixed):
    """mixed3 (grid 35 -> 17 at 299 px): 3x3/2 | 1x1 -> 3x3 -> 3x3/2 | max pool."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.b3 = ConvBN(cin, 384, 3, 2, same=False)
        self.b3d = nn.Sequential(ConvBN(cin, 64, 1), ConvBN(64, 96, 3), ConvBN(96, 96, 3, 2, same=False))

    def branches(self, x):
        return [self.b3(x), self.b3d(x), _max3s2(x)]


class MixedC(Mixed):
    """mixed4-7: 1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7 | avg pool -> 1x1."""

    def __init__(self, cin: int, c: int) -> None:
        super().__init__()
        self.b1 = ConvBN(cin, 192, 1)
        self.b7 = nn.Sequential(ConvBN(cin, c, 1), ConvBN(c, c, (1, 7)), ConvBN(c, 192, (7, 1)))
        self.b7d = nn.Sequential(ConvBN(cin, c, 1), ConvBN(c, c, (7, 1)), ConvBN(c, c, (1, 7)),
                                 ConvBN(c, c, (7, 1)), ConvBN(c, 192, (1, 7)))
        self.bp = ConvBN(cin, 192, 1)

    def branches(self, x):
        return [self.b1(x), self.b7(x), self.b7d(x), self.bp(_avg3(x))]


class MixedD(Mixed):
    """mixed8 (grid 17 -> 8): 1x1 -> 3x3/2 | 1x1 -> 1x7 -> 7x1 -> 3x3/2 | max pool."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.b3 = nn.Sequential(ConvBN(cin, 192, 1), ConvBN(192, 320, 3, 2, same=False))
        self.b7 = nn.Sequential(ConvBN(cin, 192, 1), ConvBN(192, 192, (1, 7)), ConvBN(192, 192, (7, 1)),
                                ConvBN(192, 192, 3, 2, same=False))

    def branches(self, x):
        return [self.b3(x), self.b7(x), _max3s2(x)]


class MixedE(Mixed):
    """mixed9-10: 1x1 | 1x1 -> (1x3, 3x1) | 1x1 -> 3x3 -> (1x3, 3x1) | avg pool -> 1x1."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.b1 = ConvBN(cin, 320, 1)
        self.b3 = ConvBN(cin, 384, 1)
        self.b3a, self.b3b = ConvBN(384, 384, (1, 3)), ConvBN(384, 384, (3, 1))
        self.b3d = nn.Sequential(ConvBN(cin, 448, 1), ConvBN(448, 384, 3))
        self.b3da, self.b3db = ConvBN(384, 384, (1, 3)), ConvBN(384, 384, (3, 1))
        self.bp = ConvBN(cin, 192, 1)

    def branches(self, x):
        y, z = self.b3(x), self.b3d(x)
        return [self.b1(x), self.b3a(y), self.b3b(y), self.b3da(z), self.b3db(z), self.bp(_avg3(x))]


class InceptionV3Trunk(nn.Module):
    """Keras InceptionV3 without its top: stem (5 convs, 2 max pools) and mixed0 .. mixed10 -> 2048
    channels. `groups()` gives the stem and each mixed block, bottom up (greedy unfreezing)."""

    out_channels = OUT_CHANNELS

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(ConvBN(3, 32, 3, 2, same=False), ConvBN(32, 32, 3, same=False), ConvBN(32, 64, 3),
                                  nn.MaxPool2d(3, 2), ConvBN(64, 80, 1, same=False), ConvBN(80, 192, 3, same=False),
                                  nn.MaxPool2d(3, 2))
        self.mixed = nn.Sequential(MixedA(192, 32), MixedA(256, 64), MixedA(288, 64), MixedB(288),
                                   MixedC(768, 128), MixedC(768, 160), MixedC(768, 160), MixedC(768, 192),
                                   MixedD(768), MixedE(1280), MixedE(2048))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mixed(self.stem(x))

    def groups(self) -> List[nn.Module]:
        return [self.stem] + list(self.mixed)

    def conv_layers(self) -> Iterator[ConvBN]:
        """The 94 ConvBNs in Keras's creation order (`conv2d_1` first)."""
        return (m for m in self.modules() if isinstance(m, ConvBN))


def read_inception(model_dir: Optional[Path] = None) -> Dict[str, np.ndarray]:
    """Every tensor of nsfwjs's inception_v3, dequantized to float32, by Keras name."""
    d = nsfwjs_model_dir(model_dir if model_dir is not None else INCEPTION_MODEL_DIR)
    _, weights = read_nsfwjs(d)
    return weights


def load_inception_trunk(trunk: InceptionV3Trunk, weights: Dict[str, np.ndarray]) -> set:
    """Loads conv2d_<n> and batch_normalization_<n> into the n-th ConvBN; returns the names used."""
    used = set()
    with torch.no_grad():
        for n, layer in enumerate(trunk.conv_layers(), start=1):
            key = f"conv2d_{n}/kernel"
            bn = [f"batch_normalization_{n}/{p}" for p in ("beta", "moving_mean", "moving_variance")]
            absent = [k for k in [key] + bn if k not in weights]
            if absent:
                raise NsfwjsWeightsError(f"nsfwjs inception_v3 weights: tensor {absent[0]} missing")
            filt = torch_filter(weights[key])
            if tuple(filt.shape) != tuple(layer.conv.weight.shape):
                raise NsfwjsWeightsError(f"nsfwjs inception_v3 weights: {key} is {tuple(weights[key].shape)}, which does "
                                         f"not fit {tuple(layer.conv.weight.shape)} (not Keras's InceptionV3)")
            layer.conv.weight.copy_(filt)
            layer.bn.weight.fill_(1.0)  # Keras scale=False
            for p, k in zip((layer.bn.bias, layer.bn.running_mean, layer.bn.running_var), bn):
                p.copy_(torch.from_numpy(weights[k]))
            used.update([key] + bn)
    return used


class NsfwInceptionNet(nn.Module):
    """nsfwjs's whole inception_v3: trunk -> global average pool (Keras's 8x8 pool at 299 px) -> dense
    256 ReLU -> dense 128 ReLU -> dense 5 (logits; nsfwjs applies softmax). Used only to check the port."""

    def __init__(self) -> None:
        super().__init__()
        self.trunk = InceptionV3Trunk()
        dims = (OUT_CHANNELS,) + HEAD_UNITS
        self.dense = nn.ModuleList([nn.Linear(a, b) for a, b in zip(dims, dims[1:])])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x).mean((2, 3))
        h = F.relu(self.dense[0](h))
        h = F.relu(self.dense[1](h))
        return self.dense[2](h)


def pretrained_nsfw_inception_net(model_dir: Optional[Path] = None) -> NsfwInceptionNet:
    w = read_inception(model_dir)
    net = NsfwInceptionNet()
    used = load_inception_trunk(net.trunk, w)
    with torch.no_grad():
        for i, layer in enumerate(net.dense, start=1):
            names = (f"dense_{i}/kernel", f"dense_{i}/bias")
            if any(k not in w for k in names):
                raise NsfwjsWeightsError(f"nsfwjs inception_v3 weights: tensor dense_{i} missing")
            layer.weight.copy_(torch.from_numpy(w[names[0]]).t())
            layer.bias.copy_(torch.from_numpy(w[names[1]]))
            used.update(names)
    left = sorted(set(w) - used)
    if left:
        raise NsfwjsWeightsError(f"nsfwjs inception_v3 weights: unused tensor {left[0]} (not the expected layout)")
    return net.eval()


@register("inceptionv3", default_size=299, min_size=75)
def inceptionv3(size: int) -> nn.Module:
    """Keras InceptionV3 (21.8 M params) + one-logit head; random init, or `--init nsfwjs` for the
    ImageNet-derived weights of nsfwjs's inception_v3. 299 px native, 75 px at least."""
    return Classifier(InceptionV3Trunk(), OUT_CHANNELS, dropout=0.2)


def init_from_nsfwjs_inception(model: nn.Module, arch: str) -> str:
    """`--init nsfwjs` for `inceptionv3`: loads the package's inception_v3 trunk (the head stays random);
    returns a one-line description."""
    if arch != "inceptionv3" or not isinstance(getattr(model, "features", None), InceptionV3Trunk):
        raise ValueError(f"--init nsfwjs needs --arch mobilenetv2, mobilenetv2-140 or inceptionv3 (got {arch})")
    load_inception_trunk(model.features, read_inception())
    n = sum(p.numel() for p in model.features.parameters())
    return f"initialised the inceptionv3 trunk from nsfwjs's inception_v3 ({INCEPTION_MODEL_DIR}, {n / 1e6:.2f} M params)"
