"""`mobilenetv2`: Keras's MobileNetV2 (width 1.0) as a frame classifier, optionally starting from the
ImageNet-derived weights that ship inside the npm package `nsfwjs` (MIT).

Why: every other pretrained start here is a face-recognition net (`faceres`), trained to ignore
exactly the texture and blending traces a deepfake detector needs. The SBI paper's detectors start
from ImageNet; no ImageNet weights can be downloaded here, but nsfwjs 4 ships its `mobilenet_v2`
model inside the package: Keras's `MobileNetV2(alpha=1.0, 224)` whose layers up to block 10 were
frozen (the ImageNet weights, unchanged) while blocks 11-16, the last 1x1 conv and a small dense
head (5 classes: Drawing, Hentai, Neutral, Porn, Sexy) were fine-tuned. Weights are uint8-quantized
per tensor (tfjs), which is fine as a start for fine-tuning.

- Files: `node_modules/nsfwjs/dist/models/mobilenet_v2/model.min.js` (a browserify bundle exporting
  `{modelTopology, weightsManifest}`) and `group1-shard1of1.min.js` (exporting the weights as one
  base64 string). Node reads both (`require`), so no JavaScript is parsed here.
- Network (Keras `MobileNetV2`): Conv1 3x3/2 (32) -> `expanded_conv` (depthwise 3x3 + 1x1 project
  to 16, no expansion) -> `block_1` .. `block_16` (1x1 expand x6, depthwise 3x3, 1x1 linear project;
  stride 2 in blocks 1, 3, 6, 13; a residual add where stride 1 and the channels match) -> Conv_1 1x1
  (1280). BatchNorm eps 1e-3, ReLU6. Stride-2 convolutions are 'valid' after Keras's `correct_pad`
  zero padding (bottom/right only on even sides), which this module reproduces exactly.
- Input: Keras's ImageNet MobileNetV2 takes `rgb / 127.5 - 1`, which is the project's normalisation
  ((rgb/255 - 0.5) / 0.5), so no affine is needed. (nsfwjs itself feeds `rgb / 255`; the port check
  does the same.)

As a classifier (`--arch mobilenetv2`, default `--size` 224) the trunk becomes `model.Classifier`'s
features (GAP -> dropout -> one logit); `--init nsfwjs` (transfer.py) loads the package weights into
it (the head stays random). Unlike face-api's port the BatchNorms carry real running statistics, so
fine-tuning needs no re-parameterisation.
"""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .model import Classifier, register
from .tfjs_weights import decode_groups, torch_filter

REPO_ROOT = Path(__file__).resolve().parents[2]
NSFWJS_MODEL_DIR = REPO_ROOT / "node_modules" / "nsfwjs" / "dist" / "models" / "mobilenet_v2"
NSFWJS_INIT = "nsfwjs"  # the `--init` value that loads these weights
NSFW_CLASSES = ("Drawing", "Hentai", "Neutral", "Porn", "Sexy")  # nsfwjs's output order
BN_EPS = 1e-3  # Keras's BatchNormalization default
# (expansion, output channels, repeats, first stride): Keras/paper MobileNetV2 at width 1.0.
STAGES: Tuple[Tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)
LAST_CHANNELS = 1280


class NsfwjsWeightsError(FileNotFoundError):
    """The package's weights are missing or do not fit this network (one-line message; the CLI
    prints FileNotFoundError messages without a stack trace)."""


def _correct_pad(x: torch.Tensor) -> torch.Tensor:
    """Keras `correct_pad` for a 3x3 stride-2 'valid' conv: one zero row/column at the bottom/right
    of an even side, one on each side of an odd one (sizes are Python ints: constants in ONNX)."""
    h, w = int(x.shape[-2]), int(x.shape[-1])
    top, left = h % 2, w % 2
    return F.pad(x, (left, 1, top, 1))


class ConvBN(nn.Module):
    """conv (no bias) -> BatchNorm (eps 1e-3) -> optional ReLU6. 3x3 stride 2: Keras's asymmetric
    padding; otherwise 'same'. `groups=cin` makes it depthwise."""

    def __init__(self, cin: int, cout: int, k: int, stride: int, relu6: bool, groups: int = 1) -> None:
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv2d(cin, cout, k, stride, 0 if stride == 2 else k // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.relu6 = relu6

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 2:
            x = _correct_pad(x)
        x = self.bn(self.conv(x))
        return F.relu6(x) if self.relu6 else x


class InvertedResidual(nn.Module):
    """1x1 expand (absent when the expansion is 1) -> depthwise 3x3 -> 1x1 linear project (+ skip)."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.expand = ConvBN(cin, mid, 1, 1, relu6=True) if expand != 1 else None
        self.depthwise = ConvBN(mid, mid, 3, stride, relu6=True, groups=mid)
        self.project = ConvBN(mid, cout, 1, 1, relu6=False)
        self.use_res = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.depthwise(y))
        return x + y if self.use_res else y


def _keras_block_names() -> List[str]:
    n = sum(r for _, _, r, _ in STAGES)
    return ["expanded_conv"] + [f"block_{i}" for i in range(1, n)]


def _divisible(v: float, divisor: int = 8) -> int:
    """TF-slim's `_make_divisible`: channels scaled by the width, rounded to a multiple of 8, never
    more than 10% below the scaled value (width 1.4: 32 -> 48, 24 -> 32, 64 -> 88, 1280 -> 1792)."""
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


class MobileNetV2Trunk(nn.Module):
    """Keras / TF-slim MobileNetV2 up to (excluding) the pooling: [N,3,S,S] -> [N,C,S/32,S/32], with
    C = 1280 at width 1.0 and 1792 at 1.4 (the last conv widens only above 1.0)."""

    def __init__(self, width: float = 1.0) -> None:
        super().__init__()
        cin = _divisible(32 * width)
        self.stem = ConvBN(3, cin, 3, 2, relu6=True)
        blocks: List[nn.Module] = []
        for t, c, n, s in STAGES:
            for i in range(n):
                cout = _divisible(c * width)
                blocks.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.out_channels = LAST_CHANNELS if width <= 1.0 else _divisible(LAST_CHANNELS * width)
        self.last = ConvBN(cin, self.out_channels, 1, 1, relu6=True)

    def groups(self) -> List[nn.Module]:
        """Bottom-to-top layer groups (stem, each block, last conv) for greedy unfreezing."""
        return [self.stem, *self.blocks, self.last]

    def conv_layers(self) -> Iterator[Tuple[str, str, ConvBN]]:
        """(Keras conv name, Keras BN name, layer) for every conv + BN."""
        yield "Conv1", "bn_Conv1", self.stem
        for name, block in zip(_keras_block_names(), self.blocks):
            if block.expand is not None:
                yield f"{name}_expand", f"{name}_expand_BN", block.expand
            yield f"{name}_depthwise", f"{name}_depthwise_BN", block.depthwise
            yield f"{name}_project", f"{name}_project_BN", block.project
        yield "Conv_1", "Conv_1_bn", self.last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.last(self.blocks(self.stem(x)))


def nsfwjs_model_dir(model_dir: Optional[Path] = None) -> Path:
    d = Path(model_dir) if model_dir is not None else NSFWJS_MODEL_DIR
    if not (d / "model.min.js").is_file():
        raise NsfwjsWeightsError(f"nsfwjs weights not found: {d / 'model.min.js'} (npm package nsfwjs is not "
                                 "installed; run `npm ci` in the repository)")
    return d


_NODE_READ = r"""
const [dir, out] = process.argv.slice(1);
const model = require(dir + '/model.min.js');
const shards = {};
for (const g of model.weightsManifest) for (const p of g.paths) shards[p] = require(dir + '/' + p + '.min.js');
require('fs').writeFileSync(out, JSON.stringify({ topology: model.modelTopology, manifest: model.weightsManifest, shards }));
"""


def read_nsfwjs(model_dir: Optional[Path] = None) -> Tuple[dict, Dict[str, np.ndarray]]:
    """(Keras model topology, every tensor dequantized to float32 by name) of nsfwjs's mobilenet_v2."""
    d = nsfwjs_model_dir(model_dir)
    node = shutil.which("node")
    if node is None:
        raise NsfwjsWeightsError("nsfwjs weights: `node` not found on PATH (it reads the package's .min.js files)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "nsfwjs.json"
        r = subprocess.run([node, "-e", _NODE_READ, str(d.resolve()), str(out)], capture_output=True, text=True)
        if r.returncode != 0:
            last = (r.stderr.strip().splitlines() or ["no output"])[-1]
            raise NsfwjsWeightsError(f"nsfwjs weights: node could not read {d}: {last}")
        data = json.loads(out.read_text())

    def group_bytes(g: dict) -> bytes:
        shards = [data["shards"].get(p) for p in g["paths"]]
        if any(not isinstance(s, str) for s in shards):
            raise NsfwjsWeightsError(f"nsfwjs weights: a shard of {g['paths']} is not a base64 string")
        return b"".join(base64.b64decode(s) for s in shards)

    return data["topology"], decode_groups(data["manifest"], group_bytes, NsfwjsWeightsError, "nsfwjs weights")


def load_nsfwjs_trunk(trunk: MobileNetV2Trunk, weights: Dict[str, np.ndarray]) -> set:
    """Loads the package's convolution and BatchNorm tensors into `trunk`; returns the names used."""
    used = set()
    with torch.no_grad():
        for conv_name, bn_name, layer in trunk.conv_layers():
            key = f"{conv_name}/depthwise_kernel" if layer.conv.groups > 1 else f"{conv_name}/kernel"
            keys = [key] + [f"{bn_name}/{p}" for p in ("gamma", "beta", "moving_mean", "moving_variance")]
            absent = [k for k in keys if k not in weights]
            if absent:
                raise NsfwjsWeightsError(f"nsfwjs weights: tensor {absent[0]} missing")
            filt = torch_filter(weights[key], depthwise=layer.conv.groups > 1)
            if tuple(filt.shape) != tuple(layer.conv.weight.shape):
                raise NsfwjsWeightsError(f"nsfwjs weights: {key} is {tuple(weights[key].shape)}, which does not fit "
                                         f"{tuple(layer.conv.weight.shape)} (not Keras's MobileNetV2 at width 1.0)")
            layer.conv.weight.copy_(filt)
            for p, k in zip((layer.bn.weight, layer.bn.bias, layer.bn.running_mean, layer.bn.running_var), keys[1:]):
                p.copy_(torch.from_numpy(weights[k]))
            used.update(keys)
    return used


class NsfwNet(nn.Module):
    """nsfwjs's whole mobilenet_v2: trunk -> 7x7 average pool (global at 224 px) -> dense 256 ReLU ->
    dense 128 ReLU -> dense 5 (logits; nsfwjs applies softmax). Input rgb/255 at 224 px. Used only to
    check the port; eval mode."""

    def __init__(self) -> None:
        super().__init__()
        self.trunk = MobileNetV2Trunk()
        self.dense = nn.ModuleList([nn.Linear(LAST_CHANNELS, 256), nn.Linear(256, 128), nn.Linear(128, len(NSFW_CLASSES))])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x).mean((2, 3))
        h = F.relu(self.dense[0](h))
        h = F.relu(self.dense[1](h))
        return self.dense[2](h)


def pretrained_nsfw_net(model_dir: Optional[Path] = None) -> NsfwNet:
    _, w = read_nsfwjs(model_dir)
    net = NsfwNet()
    used = load_nsfwjs_trunk(net.trunk, w)
    with torch.no_grad():
        for i, layer in enumerate(net.dense, start=1):
            layer.weight.copy_(torch.from_numpy(w[f"dense_{i}/kernel"]).t())
            layer.bias.copy_(torch.from_numpy(w[f"dense_{i}/bias"]))
            used.update({f"dense_{i}/kernel", f"dense_{i}/bias"})
    left = sorted(set(w) - used)
    if left:
        raise NsfwjsWeightsError(f"nsfwjs weights: unused tensor {left[0]} (not the mobilenet_v2 layout)")
    return net.eval()


@register("mobilenetv2", default_size=224)
def mobilenetv2(size: int) -> nn.Module:
    """Keras MobileNetV2 at width 1.0 (2.2 M params) + one-logit head; random init, or `--init nsfwjs`
    for the ImageNet-derived weights shipped in the npm package nsfwjs. 224 px native."""
    return Classifier(MobileNetV2Trunk(), LAST_CHANNELS, dropout=0.2)


def init_from_nsfwjs(model: nn.Module, arch: str) -> str:
    """`--init nsfwjs`: loads the package's weights into a `mobilenetv2` model's trunk (the head stays
    random); returns a one-line description."""
    if arch != "mobilenetv2" or not isinstance(getattr(model, "features", None), MobileNetV2Trunk):
        raise ValueError(f"--init {NSFWJS_INIT} needs --arch mobilenetv2, mobilenetv2-140 or inceptionv3 (got {arch})")
    d = nsfwjs_model_dir()
    _, w = read_nsfwjs(d)
    load_nsfwjs_trunk(model.features, w)
    n = sum(p.numel() for p in model.features.parameters())
    return f"initialised the mobilenetv2 trunk from nsfwjs's mobilenet_v2 ({d}, {n / 1e6:.2f} M params)"
