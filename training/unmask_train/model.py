"""Compact CNN classifiers for face crops: one output logit (= logit of FAKE).

Architectures are registered by name (`--arch`); a constructor takes the input side and returns a
module mapping [N, 3, S, S] -> [N, 1]. Sizes are chosen so that training from scratch fits a
2-core CPU in tens of minutes; wider/deeper families can be added with `register`.
"""
from __future__ import annotations

from typing import Callable, Dict, Sequence

import torch
from torch import nn

ArchFactory = Callable[[int], nn.Module]
_REGISTRY: Dict[str, ArchFactory] = {}
_DEFAULT_SIZES: Dict[str, int] = {}
_MIN_SIZES: Dict[str, int] = {}
DEFAULT_SIZE = 128


def register(name: str, default_size: int = DEFAULT_SIZE, min_size: int = 1) -> Callable[[ArchFactory], ArchFactory]:
    """`default_size`: the input side `--size` defaults to for this arch; `min_size`: the smallest side
    its 'valid' convolutions and pools accept (build_model refuses a smaller one)."""
    def deco(fn: ArchFactory) -> ArchFactory:
        if name in _REGISTRY:
            raise ValueError(f"arch {name!r} registered twice")
        _REGISTRY[name] = fn
        _DEFAULT_SIZES[name] = default_size
        _MIN_SIZES[name] = min_size
        return fn

    return deco


def default_size(arch: str) -> int:
    return _DEFAULT_SIZES.get(arch, DEFAULT_SIZE)


def min_size(arch: str) -> int:
    return _MIN_SIZES.get(arch, 1)


def arch_names() -> list[str]:
    return sorted(_REGISTRY)


def build_model(arch: str, size: int) -> nn.Module:
    if arch not in _REGISTRY:
        raise ValueError(f"unknown arch {arch!r}; known: {', '.join(arch_names())}")
    if size < min_size(arch):
        raise ValueError(f"--arch {arch} needs --size {min_size(arch)} or more (got {size})")
    return _REGISTRY[arch](size)


def load_checkpoint(path, map_location="cpu") -> dict:
    """torch.load for this package's own checkpoints (they hold optimiser state and run metadata,
    which PyTorch >= 2.6's default weights_only=True refuses)."""
    import inspect

    if "weights_only" in inspect.signature(torch.load).parameters:
        return torch.load(path, map_location=map_location, weights_only=False)
    return torch.load(path, map_location=map_location)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    """ResNet basic block (two 3x3 convs) with a 1x1 projection when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv_bn(cin, cout, 3, stride), _conv_bn(cout, cout, 3, 1, act=False))
        self.skip = nn.Identity() if stride == 1 and cin == cout else _conv_bn(cin, cout, 1, stride, act=False)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.skip(x))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise, 1x1 linear project."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.body = nn.Sequential(
            _conv_bn(cin, mid, 1),
            _conv_bn(mid, mid, 3, stride, groups=mid),
            _conv_bn(mid, cout, 1, act=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.use_res else y


class Classifier(nn.Module):
    """features -> global average pool -> dropout -> one logit."""

    def __init__(self, features: nn.Module, channels: int, dropout: float) -> None:
        super().__init__()
        self.features = features
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(channels, 1)
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.features(x)).flatten(1)
        return self.head(self.drop(x))


def _init_weights(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
    # Zero the last BN of each residual branch so blocks start as identities (stabler from scratch).
    for m in model.modules():
        if isinstance(m, BasicBlock):
            nn.init.zeros_(m.body[-1][1].weight)


def resnet(widths: Sequence[int], depths: Sequence[int], stem: int, dropout: float = 0.2) -> Classifier:
    # Stride-2 3x3 stem and no max-pool: keep some high-frequency detail, where blending traces live.
    layers: list[nn.Module] = [_conv_bn(3, stem, 3, 2)]
    cin = stem
    for w, d in zip(widths, depths):
        for i in range(d):
            layers.append(BasicBlock(cin, w, 2 if i == 0 else 1))
            cin = w
    return Classifier(nn.Sequential(*layers), cin, dropout)


def mobilenet(
    stages: Sequence[tuple[int, int, int, int]], stem: int, last: int, dropout: float = 0.2
) -> Classifier:
    """`stages`: (expand, out channels, repeats, first stride) as in the MobileNetV2 paper."""
    layers: list[nn.Module] = [_conv_bn(3, stem, 3, 2)]
    cin = stem
    for t, c, n, s in stages:
        for i in range(n):
            layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
            cin = c
    layers.append(_conv_bn(cin, last, 1))
    return Classifier(nn.Sequential(*layers), last, dropout)


@register("resnet_s")
def resnet_s(size: int) -> nn.Module:
    """1.6 M params. The default: plain 3x3 convs train fast on CPU (~200 img/s on 2 cores at 128 px)."""
    return resnet(widths=(32, 64, 128, 256), depths=(1, 2, 2, 1), stem=24)


@register("resnet_m")
def resnet_m(size: int) -> nn.Module:
    """6.3 M params: a wider/deeper sibling for GPU runs (e.g. at 192-224 px)."""
    return resnet(widths=(48, 96, 192, 384), depths=(2, 2, 2, 2), stem=32)


@register("resnet_xs")
def resnet_xs(size: int) -> nn.Module:
    """0.3 M params: for quick experiments and tests."""
    return resnet(widths=(16, 32, 64, 128), depths=(1, 1, 1, 1), stem=16)


@register("mbv2_s")
def mbv2_s(size: int) -> nn.Module:
    """MobileNetV2 at width ~0.5, 0.9 M params: few MACs, but depthwise convs train ~10x slower than
    resnet_s on CPU; meant for GPU runs."""
    stages = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 3, 2), (6, 96, 2, 1), (6, 160, 2, 2)]
    return mobilenet(stages, stem=16, last=512)


# Families defined in their own modules register themselves on import (after the names above exist).
from . import models_frame  # noqa: E402,F401
from . import pretrained_faceapi  # noqa: E402,F401  (faceres: face-api.js faceRecognitionNet)
from . import pretrained_nsfwjs  # noqa: E402,F401  (mobilenetv2: Keras MobileNetV2, nsfwjs's weights)
from . import pretrained_nsfwjs_mid  # noqa: E402,F401  (mobilenetv2-140: TF-Hub MobileNetV2 1.4, nsfwjs's mid weights)
from . import pretrained_nsfwjs_inception  # noqa: E402,F401  (inceptionv3: Keras InceptionV3, nsfwjs's weights)
from . import models_frequency  # noqa: E402,F401  (dctnet: 8x8 block spectra)
