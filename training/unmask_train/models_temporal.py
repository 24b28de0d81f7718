"""Temporal (clip) classifiers: a stack of T consecutive face crops of one track -> one FAKE logit.

Input layout is NCTHW, [N, 3, T, S, S] (what Conv3d takes and what the manifest calls `NCTHW`);
output [N, 1]. Families, registered by name for `--arch`:

- `c3d`: a compact 3D CNN (3x3x3 convolutions over the frame stack), after C3D as used by Kumar et al.
- `rnn`: a frame CNN from the frame registry (`--backbone`) embeds every frame, a bidirectional GRU or
  LSTM (`--rnn`) reads the embeddings, mean over time, one logit (Kumar et al.'s CNN + BiLSTM).
- `ftcn`: a fully temporal convolution network (Zheng et al., ICCV 2021): a 3D ResNet of bottleneck
  blocks whose every convolution has spatial kernel 1 (kernels (k_t, 1, 1)); spatial downsampling is done
  by max-pooling only, so the network sees per-pixel temporal signals; then a temporal transformer over the
  time axis (spatially pooled tokens, a class token, learned positions) gives the logit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple

import torch
from torch import nn

from .model import build_model

RNN_CELLS = ("gru", "lstm")


@dataclass(frozen=True)
class ClipSpec:
    """What a temporal model is built from (all of it is saved in checkpoints and needed to rebuild)."""

    size: int  # input side in pixels
    clip_len: int  # T, frames per clip
    rnn: str = "gru"  # rnn family only: gru | lstm
    backbone: str = "resnet_xs"  # rnn family only: frame arch from model.py's registry


ClipFactory = Callable[[ClipSpec], nn.Module]
_TEMPORAL: Dict[str, ClipFactory] = {}


def register_temporal(name: str) -> Callable[[ClipFactory], ClipFactory]:
    def deco(fn: ClipFactory) -> ClipFactory:
        if name in _TEMPORAL:
            raise ValueError(f"temporal arch {name!r} registered twice")
        _TEMPORAL[name] = fn
        return fn

    return deco


def temporal_arch_names() -> List[str]:
    return sorted(_TEMPORAL)


def is_temporal(arch: str) -> bool:
    return arch in _TEMPORAL


def build_clip_model(arch: str, spec: ClipSpec) -> nn.Module:
    if arch not in _TEMPORAL:
        raise ValueError(f"unknown temporal arch {arch!r}; known: {', '.join(temporal_arch_names())}")
    if spec.clip_len < 1 or spec.size < 8:
        raise ValueError(f"clip length must be >= 1 and size >= 8, got T={spec.clip_len}, size={spec.size}")
    return _TEMPORAL[arch](spec)


def _init(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, nn.Conv3d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, (nn.BatchNorm3d, nn.LayerNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def _conv3d_bn(cin: int, cout: int, kernel: Tuple[int, int, int], act: bool = True) -> nn.Sequential:
    pad = tuple(k // 2 for k in kernel)
    layers: List[nn.Module] = [nn.Conv3d(cin, cout, kernel, 1, pad, bias=False), nn.BatchNorm3d(cout)]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


# --- c3d -------------------------------------------------------------------------------------------


class C3D(nn.Module):
    """Stages of 3x3x3 conv+BN+ReLU, each followed by max-pooling; global average pool, one logit.

    The first pool is spatial only (as in C3D, to keep early temporal detail); later pools halve time
    too while at least 2 frames are left, so any T >= 1 builds.
    """

    def __init__(self, clip_len: int, widths: Sequence[int] = (16, 32, 64, 128), convs: Sequence[int] = (1, 1, 2, 2),
                 dropout: float = 0.3) -> None:
        super().__init__()
        layers: List[nn.Module] = []
        cin, t = 3, clip_len
        for i, (w, n) in enumerate(zip(widths, convs)):
            for _ in range(n):
                layers.append(_conv3d_bn(cin, w, (3, 3, 3)))
                cin = w
            kt = 2 if i > 0 and t >= 2 else 1
            t //= kt
            layers.append(nn.MaxPool3d((kt, 2, 2)))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(cin, 1)
        _init(self)
        nn.init.normal_(self.head.weight, 0, 0.01)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.pool(self.features(x)).flatten(1)))


@register_temporal("c3d")
def c3d(spec: ClipSpec) -> nn.Module:
    return C3D(spec.clip_len)


# --- rnn -------------------------------------------------------------------------------------------


def frame_embedder(model: nn.Module) -> Tuple[nn.Module, int]:
    """A frame classifier turned into an embedder: its final `head` Linear becomes the identity.

    Frame families of model.py end in `head: nn.Linear(D, 1)`; the embedding is that layer's input.
    """
    head = getattr(model, "head", None)
    if not isinstance(head, nn.Linear):
        raise ValueError(f"{type(model).__name__} has no final `head` Linear layer; it cannot be an rnn backbone")
    model.head = nn.Identity()
    return model, head.in_features


class FrameRNN(nn.Module):
    """Per-frame CNN embeddings -> bidirectional GRU/LSTM -> mean over time -> one logit."""

    def __init__(self, backbone: nn.Module, emb_dim: int, cell: str = "gru", hidden: int = 128, layers: int = 1,
                 dropout: float = 0.3) -> None:
        super().__init__()
        if cell not in RNN_CELLS:
            raise ValueError(f"--rnn must be one of {', '.join(RNN_CELLS)}, got {cell!r}")
        self.backbone = backbone
        rnn_cls = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = rnn_cls(emb_dim, hidden, num_layers=layers, batch_first=True, bidirectional=True,
                           dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(2 * hidden, 1)
        nn.init.normal_(self.head.weight, 0, 0.01)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, h, w = x.shape
        frames = x.transpose(1, 2).reshape(n * t, c, h, w)
        emb = self.backbone(frames).reshape(n, t, -1)
        seq, _ = self.rnn(emb)
        return self.head(self.drop(seq.mean(dim=1)))


@register_temporal("rnn")
def rnn(spec: ClipSpec) -> nn.Module:
    backbone, dim = frame_embedder(build_model(spec.backbone, spec.size))
    return FrameRNN(backbone, dim, spec.rnn)


# --- ftcn ------------------------------------------------------------------------------------------


class TemporalBottleneck(nn.Module):
    """FTCN bottleneck: (k_t,1,1) conv, 1x1x1 conv, 1x1x1 conv, residual. Where a 3D ResNet would use a
    spatial stride of 2, a (1,2,2) max-pool follows the middle conv (and the projection) instead."""

    def __init__(self, cin: int, mid: int, cout: int, kt: int, downsample: bool) -> None:
        super().__init__()
        pool: nn.Module = nn.MaxPool3d((1, 2, 2)) if downsample else nn.Identity()
        self.a = _conv3d_bn(cin, mid, (kt, 1, 1))
        self.b = nn.Sequential(_conv3d_bn(mid, mid, (1, 1, 1)), pool)
        self.c = _conv3d_bn(mid, cout, (1, 1, 1), act=False)
        if cin == cout and not downsample:
            self.skip: nn.Module = nn.Identity()
        else:
            self.skip = nn.Sequential(_conv3d_bn(cin, cout, (1, 1, 1), act=False),
                                      nn.MaxPool3d((1, 2, 2)) if downsample else nn.Identity())
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.c(self.b(self.a(x))) + self.skip(x))


class Attention(nn.Module):
    """Multi-head self-attention from plain Linear/MatMul/Softmax (exports to any ONNX opset >= 13)."""

    def __init__(self, dim: int, heads: int, dim_head: int, dropout: float) -> None:
        super().__init__()
        inner = heads * dim_head
        self.heads, self.dim_head = heads, dim_head
        self.scale = dim_head ** -0.5
        self.qkv = nn.Linear(dim, 3 * inner, bias=False)
        self.out = nn.Sequential(nn.Linear(inner, dim), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, self.dim_head).permute(2, 0, 3, 1, 4).unbind(0)
        attn = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * self.scale, dim=-1)
        y = torch.matmul(attn, v).transpose(1, 2).reshape(b, n, self.heads * self.dim_head)
        return self.out(y)


class TransformerBlock(nn.Module):
    """Pre-norm transformer block: x + attn(LN x), then x + MLP(LN x)."""

    def __init__(self, dim: int, heads: int, dim_head: int, mlp_dim: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, dim_head, dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(mlp_dim, dim),
                                 nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TemporalTransformer(nn.Module):
    """Tokens = the time steps of a feature map averaged over space; class token + learned positions;
    `depth` blocks; LayerNorm + Linear on the class token gives the logit (FTCN's time transformer)."""

    def __init__(self, in_channels: int, tokens: int, dim: int = 128, depth: int = 1, heads: int = 4,
                 dim_head: int = 32, mlp_dim: int = 256, dropout: float = 0.1) -> None:
        super().__init__()
        self.proj = nn.Linear(in_channels, dim)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, tokens + 1, dim))
        nn.init.trunc_normal_(self.pos, std=0.02)
        nn.init.trunc_normal_(self.cls, std=0.02)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.Sequential(*[TransformerBlock(dim, heads, dim_head, mlp_dim, dropout) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 1)
        nn.init.normal_(self.head.weight, 0, 0.01)
        nn.init.zeros_(self.head.bias)

    def forward(self, fmap: torch.Tensor) -> torch.Tensor:
        tokens = self.proj(fmap.mean(dim=(3, 4)).transpose(1, 2))  # [N, C, T, H, W] -> [N, T, dim]
        x = torch.cat([self.cls.expand(tokens.shape[0], -1, -1), tokens], dim=1) + self.pos
        x = self.blocks(self.drop(x))
        return self.head(self.norm(x[:, 0]))


class FTCN(nn.Module):
    """Stem: (5,1,1) temporal conv, then spatial max-pooling by 4 (FTCN replaces the stem's stride-2 7x7
    conv by a pool and keeps the stem pool). Stages of TemporalBottlenecks; time is halved once after the
    first stage (as I3D's pool) when T >= 4. Then the temporal transformer."""

    def __init__(self, clip_len: int, stem: int = 16, stages: Sequence[Tuple[int, int, int]] = ((16, 64, 2), (32, 128, 2), (64, 256, 2)),
                 dim: int = 128, depth: int = 1) -> None:
        super().__init__()
        self.stem = nn.Sequential(_conv3d_bn(3, stem, (5, 1, 1)), nn.MaxPool3d((1, 2, 2)),
                                  nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)))
        layers: List[nn.Module] = []
        cin, t = stem, clip_len
        for si, (mid, cout, n) in enumerate(stages):
            for bi in range(n):
                layers.append(TemporalBottleneck(cin, mid, cout, 3, downsample=(si > 0 and bi == 0)))
                cin = cout
            if si == 0 and t >= 4:
                layers.append(nn.MaxPool3d((2, 1, 1)))
                t //= 2
        self.features = nn.Sequential(*layers)
        _init(self)
        for m in self.modules():  # residual branches start as identities
            if isinstance(m, TemporalBottleneck):
                nn.init.zeros_(m.c[1].weight)
        self.transformer = TemporalTransformer(cin, t, dim=dim, depth=depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.transformer(self.features(self.stem(x)))


@register_temporal("ftcn")
def ftcn(spec: ClipSpec) -> nn.Module:
    return FTCN(spec.clip_len)
