"""`mobilenetv2-140`: MobileNetV2 at width 1.4 as a frame classifier, optionally starting from the
ImageNet-derived weights of the `mobilenet_v2_mid` model that the npm package `nsfwjs` (MIT) ships.

Why: `mobilenetv2` (width 1.0, pretrained_nsfwjs.py) is the project's one general-purpose pretrained
trunk; this is the same network family with 1.4x the channels (4.3 M trunk parameters against 2.2 M),
the larger ImageNet start that fits a CPU-sized run.

- Files: `node_modules/nsfwjs/dist/models/mobilenet_v2_mid/model.min.js` (`{modelTopology,
  weightsManifest}`, a TensorFlow *graph* model) and two weight shards (`group1-shard{1,2}of2.min.js`,
  base64 strings). Node reads them (pretrained_nsfwjs.read_nsfwjs).
- Network: TF-Hub's `imagenet/mobilenet_v2_140_224/feature_vector` (TF-slim names `MobilenetV2/Conv`,
  `expanded_conv`, `expanded_conv_1` .. `_16` with `expand` / `depthwise` / `project`, `Conv_1`), the
  Keras layout at width 1.4: stem 48, blocks 24, 32, 48, 88, 136, 224, 448 channels, last conv 1792.
  Stride-2 convolutions use TF's 'SAME' padding, which for a 3x3 kernel is Keras's `correct_pad`
  (one zero row/column at the bottom/right of an even side), so pretrained_nsfwjs.ConvBN fits. The
  converter folded every BatchNorm into its convolution: each conv is `<name>/Conv2D_weights` (or
  `depthwise_weights`) plus a per-channel `_bn_offset`, all uint8-quantized per tensor. nsfwjs put a
  dense layer (1792 -> 5) on top; whether it also fine-tuned the hub trunk is not recorded.
- Input: the hub graph takes rgb / 255 and maps it to [-1, 1] itself (`hub_input`: x * 2 - 1), which
  is the project's normalisation, so the trunk takes the project's input as it is.
- BatchNorm: the folded weights have no batch statistics, so they load as BatchNorms with running
  mean 0 / variance 1 - eps (the exact pretrained function in eval mode) and are re-parameterised from
  the first training batch (bn_reparam.py), as face-api's port is. The pending flag is a buffer in the
  state dict, so a resumed run does not re-calibrate.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

import numpy as np
import torch
from torch import nn

from .bn_reparam import calibrate_batchnorms
from .model import Classifier, register
from .pretrained_nsfwjs import NSFW_CLASSES, ConvBN, MobileNetV2Trunk, NsfwjsWeightsError, nsfwjs_model_dir, read_nsfwjs
from .tfjs_weights import torch_filter

MID_MODEL_DIR = Path(__file__).resolve().parents[2] / "node_modules" / "nsfwjs" / "dist" / "models" / "mobilenet_v2_mid"
WIDTH = 1.4
HEAD_KERNEL, HEAD_BIAS = "Func/StatefulPartitionedCall/input/_262", "Func/StatefulPartitionedCall/input/_263"
HUB_SCALE, HUB_SHIFT = "hub_input/Mul/y", "hub_input/Sub/y"


def short_name(name: str) -> str:
    """A graph tensor's name without the Keras/TF-Hub wrapper scopes ("MobilenetV2/Conv/Conv2D_weights")."""
    return name.split("/predict/", 1)[1] if "/predict/" in name else name


class HubMobileNetV2Trunk(MobileNetV2Trunk):
    """MobileNetV2 at width 1.4 with TF-slim layer names and BatchNorm re-parameterisation on the first
    training batch after `load_mid_trunk`."""

    def __init__(self) -> None:
        super().__init__(WIDTH)
        # 1 after `load_mid_trunk` until the first training-mode batch re-parameterises the BNs.
        self.register_buffer("bn_calibration_pending", torch.zeros((), dtype=torch.uint8))

    def hub_layers(self) -> Iterator[Tuple[str, ConvBN]]:
        """(TF-slim scope, layer) for every conv + BN, e.g. ("MobilenetV2/expanded_conv_3/depthwise", ...)."""
        yield "MobilenetV2/Conv", self.stem
        for i, block in enumerate(self.blocks):
            scope = "MobilenetV2/expanded_conv" + (f"_{i}" if i else "")
            if block.expand is not None:
                yield f"{scope}/expand", block.expand
            yield f"{scope}/depthwise", block.depthwise
            yield f"{scope}/project", block.project
        yield "MobilenetV2/Conv_1", self.last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and bool(self.bn_calibration_pending):
            self.calibrate_bn(x)
        return super().forward(x)

    def calibrate_bn(self, x: torch.Tensor) -> None:
        """Re-parameterises every BatchNorm so that training mode on batches like `x` computes what
        eval mode computes now (bn_reparam.py)."""
        calibrate_batchnorms(self, dict(self.hub_layers()), super().forward, x)
        self.bn_calibration_pending.zero_()


def read_mid(model_dir: Optional[Path] = None) -> Dict[str, np.ndarray]:
    """Every tensor of nsfwjs's mobilenet_v2_mid, dequantized to float32, by short name."""
    d = nsfwjs_model_dir(model_dir if model_dir is not None else MID_MODEL_DIR)
    _, weights = read_nsfwjs(d)
    return {short_name(k): v for k, v in weights.items()}


def load_mid_trunk(trunk: HubMobileNetV2Trunk, weights: Dict[str, np.ndarray]) -> set:
    """Loads the folded convolutions into `trunk` (exact pretrained function in eval mode), marks its
    BatchNorms for re-parameterisation; returns the tensor names used."""
    used = set()
    with torch.no_grad():
        for scope, layer in trunk.hub_layers():
            depthwise = layer.conv.groups > 1
            op = "depthwise" if depthwise else "Conv2D"  # e.g. ".../expanded_conv_3/depthwise/depthwise_weights"
            key, offset = f"{scope}/{op}_weights", f"{scope}/{op}_bn_offset"
            for k in (key, offset):
                if k not in weights:
                    raise NsfwjsWeightsError(f"nsfwjs mobilenet_v2_mid weights: tensor {k} missing")
            filt = torch_filter(weights[key], depthwise)
            if tuple(filt.shape) != tuple(layer.conv.weight.shape):
                raise NsfwjsWeightsError(f"nsfwjs mobilenet_v2_mid weights: {key} is {tuple(weights[key].shape)}, which "
                                         f"does not fit {tuple(layer.conv.weight.shape)} (not MobileNetV2 at width 1.4)")
            layer.conv.weight.copy_(filt)
            bn = layer.bn
            # conv + offset == BN(conv) with mean 0, var 1 - eps (sqrt(var + eps) = 1), gamma 1, beta offset
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.from_numpy(weights[offset]))
            used.update((key, offset))
        trunk.bn_calibration_pending.fill_(1)
    return used


class NsfwMidNet(nn.Module):
    """nsfwjs's whole mobilenet_v2_mid: rgb / 255 -> hub's [-1, 1] -> trunk -> global average pool ->
    dense 5 (logits; nsfwjs applies softmax). Used only to check the port; eval mode."""

    def __init__(self, scale: float, shift: float) -> None:
        super().__init__()
        self.scale, self.shift = scale, shift
        self.trunk = HubMobileNetV2Trunk()
        self.dense = nn.Linear(self.trunk.out_channels, len(NSFW_CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense(self.trunk(x * self.scale - self.shift).mean((2, 3)))


def pretrained_nsfw_mid_net(model_dir: Optional[Path] = None) -> NsfwMidNet:
    w = read_mid(model_dir)
    for k in (HUB_SCALE, HUB_SHIFT, HEAD_KERNEL, HEAD_BIAS):
        if k not in w:
            raise NsfwjsWeightsError(f"nsfwjs mobilenet_v2_mid weights: tensor {k} missing")
    net = NsfwMidNet(float(w[HUB_SCALE]), float(w[HUB_SHIFT]))
    used = load_mid_trunk(net.trunk, w) | {HUB_SCALE, HUB_SHIFT, HEAD_KERNEL, HEAD_BIAS}
    with torch.no_grad():
        net.dense.weight.copy_(torch.from_numpy(w[HEAD_KERNEL]).t())
        net.dense.bias.copy_(torch.from_numpy(w[HEAD_BIAS]))
    left = sorted(set(w) - used)
    if left:
        raise NsfwjsWeightsError(f"nsfwjs mobilenet_v2_mid weights: unused tensor {left[0]} (not the expected layout)")
    net.trunk.bn_calibration_pending.zero_()  # inference only
    return net.eval()


@register("mobilenetv2-140", default_size=224)
def mobilenetv2_140(size: int) -> nn.Module:
    """MobileNetV2 at width 1.4 (4.3 M params) + one-logit head; random init, or `--init nsfwjs` for the
    ImageNet-derived weights of nsfwjs's mobilenet_v2_mid. 224 px native."""
    trunk = HubMobileNetV2Trunk()
    return Classifier(trunk, trunk.out_channels, dropout=0.2)


def init_from_nsfwjs_mid(model: nn.Module, arch: str) -> str:
    """`--init nsfwjs` for `mobilenetv2-140`: loads the package's mobilenet_v2_mid trunk (the head stays
    random); returns a one-line description."""
    if arch != "mobilenetv2-140" or not isinstance(getattr(model, "features", None), HubMobileNetV2Trunk):
        raise ValueError(f"--init nsfwjs needs --arch mobilenetv2, mobilenetv2-140 or inceptionv3 (got {arch})")
    load_mid_trunk(model.features, read_mid())
    n = sum(p.numel() for p in model.features.parameters())
    return (f"initialised the mobilenetv2-140 trunk from nsfwjs's mobilenet_v2_mid ({MID_MODEL_DIR}, {n / 1e6:.2f} M "
            "params); BatchNorms re-parameterised on the first training batch")
