"""`faceres`: face-api.js's faceRecognitionNet (dlib's ResNet-34-like face embedder) as a frame classifier,
optionally starting from the weights that ship inside the installed npm package @vladmandic/face-api.

No weights can be downloaded here, but `node_modules/@vladmandic/face-api/model/face_recognition_model.bin`
(+ `-weights_manifest.json`, the tfjs weights format) holds a network trained on millions of faces.
This module reads that file, rebuilds the network in PyTorch and loads it:

- tfjs weights format: the manifest lists tensors (name, shape, dtype, optional quantization
  `{dtype: uint8|uint16, scale, min}` or `{dtype: float16}`), stored back to back in manifest order in
  the group's files; a quantized value is `q * scale + min`. Conv filters are [kh, kw, in, out] (NHWC).
- Network (face-api's FaceRecognitionNet.ts): input 150x150 RGB, `(rgb - mean_rgb) / 255`;
  `conv32_down` = 7x7 stride-2 conv with 'valid' padding, then 3x3 stride-2 max pool ('valid');
  residual blocks (3x3 'same' convs) conv32_1..3, conv64_down, conv64_1..3, conv128_down,
  conv128_1..2, conv256_down, conv256_1..2, conv256_down_out; every conv is conv + bias, then a
  per-channel affine "scale" layer (dlib's batch norm folded), then ReLU (not after a block's second
  conv, where the skip is added first). A `_down` block's first conv has stride 2 and 'valid'
  padding; its skip is a 2x2 average pool with the new channels zero, and when the conv output is
  one row/column short of the pooled map it is zero-padded at the bottom/right. Global average pool
  and a 256x128 matrix give the embedding (`FaceEmbeddingNet`, used only to check the port).

As a classifier (`--arch faceres`, default `--size` 150, 128 also fine) the trunk becomes
`model.Classifier`'s features (GAP -> dropout -> one logit), with each conv + scale written as a
conv without bias + BatchNorm, so the pretrained and the random-init variants are the same network
and train the same way. The project's input normalisation ((rgb/255 - 0.5) / 0.5) is turned back
into face-api's by a fixed per-channel affine inside the trunk, so the manifest's mean/std stay the
project's.

Initialisation: random by default; `--init faceapi` (transfer.py) loads the package weights. A
folded scale layer has no batch statistics, so the weights are loaded as BatchNorms with running
mean 0 / variance 1 (the exact pretrained function in eval mode) and re-parameterised from the first
training batch's statistics (`bn_reparam.py`), so fine-tuning starts from the face features. The
pending flag is a buffer in the state dict, so a resumed run does not re-calibrate.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .bn_reparam import calibrate_batchnorms
from .model import Classifier, register
from .tfjs_weights import decode_groups, torch_filter

REPO_ROOT = Path(__file__).resolve().parents[2]
FACEAPI_MODEL_DIR = REPO_ROOT / "node_modules" / "@vladmandic" / "face-api" / "model"
MANIFEST_NAME = "face_recognition_model-weights_manifest.json"
FACEAPI_INIT = "faceapi"  # the `--init` value that loads these weights
MEAN_RGB = (122.782, 117.001, 104.298)  # face-api's FaceRecognitionNet input mean, 0-255 scale
# The training/export normalisation the trunk undoes (TrainConfig.mean / .std, the manifest's).
PROJECT_MEAN = 0.5
PROJECT_STD = 0.5
EMBEDDING_DIM = 128

# (name, in channels, out channels, downsampling): the residual blocks after the stem, in order.
BLOCKS: Tuple[Tuple[str, int, int, bool], ...] = (
    ("conv32_1", 32, 32, False), ("conv32_2", 32, 32, False), ("conv32_3", 32, 32, False),
    ("conv64_down", 32, 64, True), ("conv64_1", 64, 64, False), ("conv64_2", 64, 64, False),
    ("conv64_3", 64, 64, False),
    ("conv128_down", 64, 128, True), ("conv128_1", 128, 128, False), ("conv128_2", 128, 128, False),
    ("conv256_down", 128, 256, True), ("conv256_1", 256, 256, False), ("conv256_2", 256, 256, False),
    ("conv256_down_out", 256, 256, True),
)


class FaceApiWeightsError(FileNotFoundError):
    """The package's weights are missing or do not fit this network (one-line message; the CLI
    prints FileNotFoundError messages without a stack trace)."""


def faceapi_model_dir(model_dir: Optional[Path] = None, manifest_name: str = MANIFEST_NAME) -> Path:
    d = Path(model_dir) if model_dir is not None else FACEAPI_MODEL_DIR
    if not (d / manifest_name).is_file():
        raise FaceApiWeightsError(f"face-api weights not found: {d / manifest_name} (npm package @vladmandic/face-api "
                                  "is not installed; run `npm ci` in the repository)")
    return d


def read_tfjs_weights(model_dir: Optional[Path] = None, manifest_name: str = MANIFEST_NAME) -> Dict[str, np.ndarray]:
    """Every tensor of one of the package's models (default: the face recognition model), dequantized to
    float32, by manifest name."""
    d = faceapi_model_dir(model_dir, manifest_name)
    groups = json.loads((d / manifest_name).read_text())

    def group_bytes(g: dict) -> bytes:
        files = [d / p for p in g["paths"]]
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise FaceApiWeightsError(f"face-api weights file missing: {missing[0]}")
        return b"".join(f.read_bytes() for f in files)

    return decode_groups(groups, group_bytes, FaceApiWeightsError, f"face-api weights ({manifest_name})")


class ConvScale(nn.Module):
    """conv (no bias) -> BatchNorm -> optional ReLU. Stride 1: 'same' padding; stride 2: 'valid'
    (TensorFlow's 'same' for odd kernels at stride 1 is symmetric, so plain padding matches)."""

    def __init__(self, cin: int, cout: int, k: int, stride: int, relu: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2 if stride == 1 else 0, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return F.relu(x) if self.relu else x


def _pad_to(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Zero-pads x at the bottom/right to at least h x w (sizes are Python ints: constants in ONNX)."""
    ph, pw = max(0, h - int(x.shape[-2])), max(0, w - int(x.shape[-1]))
    return F.pad(x, (0, pw, 0, ph)) if ph or pw else x


class Residual(nn.Module):
    def __init__(self, cin: int, cout: int, down: bool) -> None:
        super().__init__()
        self.down, self.extra = down, cout - cin
        self.conv1 = ConvScale(cin, cout, 3, 2 if down else 1, relu=True)
        self.conv2 = ConvScale(cout, cout, 3, 1, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.down:
            return F.relu(self.conv2(self.conv1(x)) + x)
        # Only inputs far below 103 px reach a down block smaller than its 3x3 kernel; pad them so
        # tiny test sizes still build (never triggers at 128/150, where the pretrained net runs).
        x = _pad_to(x, 3, 3)
        out = self.conv2(self.conv1(x))
        skip = F.avg_pool2d(x, 2, 2)
        if self.extra:
            skip = F.pad(skip, (0, 0, 0, 0, 0, self.extra))  # new channels are zero
        out = _pad_to(out, int(skip.shape[-2]), int(skip.shape[-1]))  # face-api: one zero row/column
        return F.relu(out + skip)


class FaceRecTrunk(nn.Module):
    """faceRecognitionNet up to (excluding) the global average pool: [N,3,S,S] -> [N,256,h,w].
    Input in the project's normalisation ((rgb/255 - 0.5) / 0.5)."""

    def __init__(self, depth: int = len(BLOCKS)) -> None:
        """`depth`: how many of BLOCKS to keep (fewer: a truncated trunk, see `faceres-local`)."""
        super().__init__()
        if not 1 <= depth <= len(BLOCKS):
            raise ValueError(f"FaceRecTrunk depth must be 1..{len(BLOCKS)}, got {depth}")
        self.depth = depth
        # x_faceapi = (rgb - mean) / 255 = x * std + mean_project - mean_rgb / 255
        self.register_buffer("in_scale", torch.full((1, 3, 1, 1), PROJECT_STD))
        self.register_buffer("in_shift", torch.tensor([PROJECT_MEAN - m / 255.0 for m in MEAN_RGB]).view(1, 3, 1, 1))
        # 1 after `load_faceapi_trunk` until the first training-mode batch re-parameterises the BNs.
        self.register_buffer("bn_calibration_pending", torch.zeros((), dtype=torch.uint8))
        self.conv32_down = ConvScale(3, 32, 7, 2, relu=True)
        self.pool = nn.MaxPool2d(3, 2)
        for name, cin, cout, down in BLOCKS[:depth]:
            setattr(self, name, Residual(cin, cout, down))

    @property
    def out_channels(self) -> int:
        return BLOCKS[self.depth - 1][2]

    def blocks(self) -> List[Residual]:
        return [getattr(self, name) for name, *_ in BLOCKS[:self.depth]]

    def groups(self) -> List[nn.Module]:
        """Bottom-to-top layer groups (stem, then one per residual block) for greedy unfreezing."""
        return [self.conv32_down, *self.blocks()]

    def conv_layers(self) -> Iterator[Tuple[str, ConvScale]]:
        """(face-api name, layer) for every conv + scale, e.g. ("conv64_down/conv1", ...)."""
        yield "conv32_down", self.conv32_down
        for name, *_ in BLOCKS[:self.depth]:
            block = getattr(self, name)
            yield f"{name}/conv1", block.conv1
            yield f"{name}/conv2", block.conv2

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        x = x * self.in_scale + self.in_shift
        x = self.pool(self.conv32_down(x))
        for b in self.blocks():
            x = b(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and bool(self.bn_calibration_pending):
            self.calibrate_bn(x)
        return self._features(x)

    def calibrate_bn(self, x: torch.Tensor) -> None:
        """Re-parameterises every BatchNorm so that training mode on batches like `x` computes what
        eval mode computes now (bn_reparam.py)."""
        calibrate_batchnorms(self, dict(self.conv_layers()), self._features, x)
        self.bn_calibration_pending.zero_()


def load_faceapi_trunk(trunk: FaceRecTrunk, weights: Optional[Dict[str, np.ndarray]] = None) -> None:
    """Loads face-api's weights into `trunk` (exact pretrained function in eval mode) and marks its
    BatchNorms for re-parameterisation on the first training batch."""
    w = weights if weights is not None else read_tfjs_weights()
    used = set()
    with torch.no_grad():
        for name, layer in trunk.conv_layers():
            keys = [f"{name}/conv/filters", f"{name}/conv/bias", f"{name}/scale/weights", f"{name}/scale/biases"]
            absent = [k for k in keys if k not in w]
            if absent:
                raise FaceApiWeightsError(f"face-api weights: tensor {absent[0]} missing")
            filt = torch_filter(w[keys[0]])
            if tuple(filt.shape) != tuple(layer.conv.weight.shape):
                raise FaceApiWeightsError(f"face-api weights: {keys[0]} is {tuple(w[keys[0]].shape)}, "
                                          f"expected {tuple(layer.conv.weight.permute(2, 3, 1, 0).shape)}")
            bias, scale, shift = (torch.from_numpy(w[k]) for k in keys[1:])
            layer.conv.weight.copy_(filt)
            bn = layer.bn
            # conv + b, then * scale + shift  ==  BN(conv) with mean 0, var 1 - eps (sqrt(var + eps) = 1)
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
            bn.weight.copy_(scale)
            bn.bias.copy_(scale * bias + shift)
            used.update(keys)
        trunk.bn_calibration_pending.fill_(1)
    # A truncated trunk leaves the deeper blocks' tensors (and fc) unused on purpose.
    dropped = {f"{name}/" for name, *_ in BLOCKS[trunk.depth:]}
    left = sorted(k for k in set(w) - used - {"fc"} if not any(k.startswith(d) for d in dropped))
    if left:
        raise FaceApiWeightsError(f"face-api weights: unused tensor {left[0]} (not the faceRecognitionNet layout)")


class FaceEmbeddingNet(nn.Module):
    """The whole faceRecognitionNet: trunk -> global average pool -> fc -> 128-d descriptor (face-api
    compares descriptors by Euclidean distance). Used to check the port; eval mode."""

    def __init__(self) -> None:
        super().__init__()
        self.trunk = FaceRecTrunk()
        self.fc = nn.Linear(256, EMBEDDING_DIM, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.trunk(x).mean((2, 3)))


def pretrained_embedding_net(model_dir: Optional[Path] = None) -> FaceEmbeddingNet:
    w = read_tfjs_weights(model_dir)
    net = FaceEmbeddingNet()
    load_faceapi_trunk(net.trunk, w)
    net.trunk.bn_calibration_pending.zero_()  # inference only
    with torch.no_grad():
        net.fc.weight.copy_(torch.from_numpy(w["fc"]).t())  # [256,128] (x @ fc) -> Linear [128,256]
    return net.eval()


def to_input(rgb: np.ndarray) -> torch.Tensor:
    """HxWx3 uint8 RGB (already at the model side) -> [1,3,H,W] in the project's normalisation."""
    x = torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1).float() / 255.0
    return ((x - PROJECT_MEAN) / PROJECT_STD).unsqueeze(0)


@register("faceres", default_size=150)
def faceres(size: int) -> nn.Module:
    """face-api.js faceRecognitionNet trunk (5.5 M params) + one-logit head; random init, or
    `--init faceapi` for the face-recognition weights shipped in @vladmandic/face-api. 150 px native."""
    return _faceres_classifier(FaceRecTrunk())


def _faceres_classifier(trunk: FaceRecTrunk) -> Classifier:
    model = Classifier(trunk, trunk.out_channels, dropout=0.2)
    # Random init (Classifier's Kaiming): start identity residual blocks as identities, as the
    # project's ResNets do. Not the down blocks: their new skip channels are zero, and a zero branch
    # there would leave those channels dead behind the ReLU.
    for b in trunk.blocks():
        if not b.down:
            nn.init.zeros_(b.conv2.bn.weight)
    return model


# faceres-local keeps the stem and the blocks up to the 128-channel stage (stride 16: a 9x9 map at
# 150 px, 1.2 M params): features of face parts, not of the whole face, whose deepest layers encode
# identity (what a face-recognition trunk is for). Local features generalise better across
# manipulation methods (Chai et al., ECCV 2020, patch forensics; Dong et al., CVPR 2023, implicit
# identity leakage).
LOCAL_DEPTH = 10


@register("faceres-local", default_size=150)
def faceres_local(size: int) -> nn.Module:
    """faceres truncated after block conv128_2 (128 channels) + one-logit head; `--init faceapi`
    loads face-api's weights for the blocks it keeps."""
    return _faceres_classifier(FaceRecTrunk(LOCAL_DEPTH))


def init_from_faceapi(model: nn.Module, arch: str) -> str:
    """`--init faceapi`: loads the package's weights into a `faceres` model's trunk (the head stays
    random); returns a one-line description."""
    if arch not in ("faceres", "faceres-local") or not isinstance(getattr(model, "features", None), FaceRecTrunk):
        raise ValueError(f"--init {FACEAPI_INIT} needs --arch faceres or faceres-local (got {arch})")
    d = faceapi_model_dir()
    load_faceapi_trunk(model.features, read_tfjs_weights(d))
    n = sum(p.numel() for p in model.features.parameters())
    return (f"initialised the faceres trunk from face-api's faceRecognitionNet ({d / MANIFEST_NAME}, "
            f"{n / 1e6:.2f} M params); BatchNorms re-parameterised on the first training batch")

