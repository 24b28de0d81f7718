"""Frame-model families of the seed systems: EfficientNet B0-B7 (DFDC winner, ICPR2020), ICPR2020's
EfficientNet-B4 with attention, and Xception (FaceForensics++ baseline).

Every model is a `model.Classifier` (features -> global average pool -> dropout -> one logit), so the
training loop, Grad-CAM export (`explain.py`), triplet training (`metric_learning.py`) and greedy
unfreezing (`layer_groups`) work the same for all of them. No pretrained weights are downloaded:
torchvision's EfficientNets are built with `weights=None` and trained from scratch (or from `--init`).
"""
from __future__ import annotations

from typing import List

import torch
from torch import nn

from .model import Classifier, register

# Input side per variant. B4 at 224 as ICPR2020 (Bonettini et al.), B7 at 380 as the DFDC winner
# (Seferbekov); the other variants use torchvision's native resolution. `--size` overrides.
EFFICIENTNET_SIZES = {0: 224, 1: 240, 2: 260, 3: 300, 4: 224, 5: 456, 6: 528, 7: 380}
# Index in torchvision's `features` after which ICPR2020 computes the attention map: the end of the
# stride-8 stage (56 channels for B4), i.e. their `att_block_idx = 9` (0-based MBConv block 9).
B4_ATT_AFTER = 3


def _torchvision_efficientnet(variant: int) -> nn.Module:
    from torchvision.models import efficientnet as tv_eff

    return getattr(tv_eff, f"efficientnet_b{variant}")(weights=None)


def _out_channels(seq: nn.Module, probe_side: int = 32) -> int:
    with torch.no_grad():
        was = seq.training
        seq.eval()
        c = int(seq(torch.zeros(1, 3, probe_side, probe_side)).shape[1])
        seq.train(was)
    return c


def zero_init_residual_branches(model: nn.Module) -> int:
    """Zeroes the last BatchNorm scale of every MBConv block with a skip connection, so each such block
    starts as an identity (Goyal et al. 2017's zero-gamma, as `model.BasicBlock` does for the ResNets).
    From scratch, the deep EfficientNets then start as shallow nets: measured, a 6-minute CPU run of B0
    left the 0.69 loss plateau at once instead of staying on it; but the shipped B0 recipe with it
    generalised worse, so it is an option (`--zero-gamma`), not the default (training/README.md).
    Returns the number of blocks zeroed."""
    n = 0
    for m in model.modules():
        if type(m).__name__ == "MBConv" and getattr(m, "use_res_connect", False):
            nn.init.zeros_(m.block[-1][1].weight)
            n += 1
    return n


def efficientnet(variant: int) -> Classifier:
    tv = _torchvision_efficientnet(variant)
    dropout = float(tv.classifier[0].p)  # 0.2 (B0) ... 0.5 (B7), as torchvision / the paper
    return Classifier(tv.features, int(tv.classifier[1].in_features), dropout)


def _register_efficientnet(variant: int) -> None:
    @register(f"efficientnet-b{variant}", default_size=EFFICIENTNET_SIZES[variant])
    def _build(size: int) -> nn.Module:
        return efficientnet(variant)

    _build.__doc__ = f"torchvision EfficientNet-B{variant} (weights=None) with a one-logit head."


for _v in range(8):
    _register_efficientnet(_v)


class AttentionFeatures(nn.Module):
    """`pre` -> attention map a = sigmoid(conv1x1(f)) -> f * a -> `post` (ICPR2020's EfficientNetAutoAtt).

    `forward_with_attention` also returns the map [N, 1, h, w] at the resolution of `pre`'s output
    (stride 8 for B4), which export adds as a second ONNX output.
    """

    def __init__(self, pre: nn.Sequential, post: nn.Sequential, channels: int) -> None:
        super().__init__()
        self.pre, self.post = pre, post
        self.attention = nn.Conv2d(channels, 1, kernel_size=1)

    def forward_with_attention(self, x: torch.Tensor):
        f = self.pre(x)
        att = torch.sigmoid(self.attention(f))
        return self.post(f * att), att

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_attention(x)[0]

    def groups(self) -> List[nn.Module]:
        """Bottom-to-top groups for greedy unfreezing: the attention conv goes with the stage it gates."""
        pre = list(self.pre.children())
        return pre[:-1] + [nn.ModuleList([pre[-1], self.attention])] + list(self.post.children())


@register("efficientnet-b4-att", default_size=EFFICIENTNET_SIZES[4])
def efficientnet_b4_att(size: int) -> nn.Module:
    """EfficientNet-B4 whose stride-8 features are gated by a learnt attention map (ICPR2020 B4Att)."""
    tv = _torchvision_efficientnet(4)
    pre, post = tv.features[: B4_ATT_AFTER + 1], tv.features[B4_ATT_AFTER + 1:]
    feats = AttentionFeatures(pre, post, _out_channels(pre))
    model = Classifier(feats, int(tv.classifier[1].in_features), float(tv.classifier[0].p))
    # Start with the gate open (sigmoid(2) ~ 0.88 everywhere), so early training sees the plain B4.
    nn.init.zeros_(feats.attention.weight)
    nn.init.constant_(feats.attention.bias, 2.0)
    return model


# --- Xception (Chollet 2017), as used by FaceForensics++ (Rössler et al. 2019) --------------------


class SeparableConv(nn.Sequential):
    """Depthwise 3x3 then pointwise 1x1, no bias (the BN after it has one)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(nn.Conv2d(cin, cin, 3, 1, 1, groups=cin, bias=False), nn.Conv2d(cin, cout, 1, bias=False))


class XceptionBlock(nn.Module):
    """`reps` x (ReLU, separable conv, BN), optional stride-2 max-pool, plus a (1x1 conv) residual."""

    def __init__(self, cin: int, cout: int, reps: int, stride: int = 1, start_with_relu: bool = True,
                 grow_first: bool = True) -> None:
        super().__init__()
        chans = [cin] + [cout if grow_first else cin] * (reps - 1) + [cout]
        layers: List[nn.Module] = []
        for i in range(reps):
            # Not in place: the block input is also the residual branch's input.
            layers += [nn.ReLU(inplace=i > 0), SeparableConv(chans[i], chans[i + 1]), nn.BatchNorm2d(chans[i + 1])]
        if not start_with_relu:
            layers = layers[1:]
        if stride != 1:
            layers.append(nn.MaxPool2d(3, stride, 1))
        self.body = nn.Sequential(*layers)
        self.skip = (nn.Identity() if cin == cout and stride == 1 else
                     nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.skip(x)


def _conv_bn_relu(cin: int, cout: int, stride: int, padding: int) -> List[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, stride, padding, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def xception_features() -> nn.Sequential:
    """Entry flow (stem + 3 downsampling blocks), middle flow (8 x 728-channel blocks), exit flow."""
    entry = [
        nn.Sequential(*_conv_bn_relu(3, 32, 2, 0), *_conv_bn_relu(32, 64, 1, 0)),
        XceptionBlock(64, 128, 2, 2, start_with_relu=False),
        XceptionBlock(128, 256, 2, 2),
        XceptionBlock(256, 728, 2, 2),
    ]
    middle = [XceptionBlock(728, 728, 3, 1) for _ in range(8)]
    exit_flow = [
        XceptionBlock(728, 1024, 2, 2, grow_first=False),
        nn.Sequential(SeparableConv(1024, 1536), nn.BatchNorm2d(1536), nn.ReLU(inplace=True),
                      SeparableConv(1536, 2048), nn.BatchNorm2d(2048), nn.ReLU(inplace=True)),
    ]
    return nn.Sequential(*entry, *middle, *exit_flow)


@register("xception", default_size=299)
def xception(size: int) -> nn.Module:
    """Xception (20.8 M params) at 299 px as FaceForensics++; dropout 0.5 before the logit as their head."""
    return Classifier(xception_features(), 2048, dropout=0.5)


# --- layer groups (greedy unfreezing, frozen backbone) ---------------------------------------------


def layer_groups(model: nn.Module) -> List[nn.Module]:
    """Top-to-bottom groups of a Classifier: [head, last feature block, ..., stem].

    Greedy layer-wise unfreezing trains group 0 (the head) first and adds one group per stage.
    """
    if not isinstance(model, Classifier):
        raise ValueError(f"{type(model).__name__} is not a features/pool/head Classifier; cannot split into layer groups")
    feats = model.features
    blocks = feats.groups() if hasattr(feats, "groups") else list(feats.children())
    return [model.head] + list(reversed(blocks))
