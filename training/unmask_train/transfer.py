"""Starting from an earlier run (`--init`) and which layers train (`--freeze-backbone`, `--unfreeze greedy`).

`--init` takes a run directory (its best.pt) or a checkpoint file of the same `--arch`; the input side
may differ (convolutions do not depend on it). It loads every weight, head included: after a triplet
run the head is that run's linear probe, a sensible start for fine-tuning.

Greedy layer-wise unfreezing (`--unfreeze greedy`): layer groups are [head, last feature block, ...,
stem] (`models_frame.layer_groups`). Stage s trains groups 0..s; the stage advances every
`--unfreeze-epochs` epochs (default 1), so with G groups the whole network trains from epoch
(G - 1) * unfreeze_epochs on: EfficientNet has 10 groups (head, 9 feature stages), Xception 15
(head, exit convs, 12 blocks, stem), resnet_s 8. `--freeze-backbone` trains the head alone for the
whole run (ICPR2020's ST second stage). Frozen groups get no gradient and keep their BatchNorm
statistics (their BN layers stay in eval mode).
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from torch import nn

from .model import load_checkpoint
from .models_frame import layer_groups

UNFREEZE_MODES = ("none", "greedy")


def init_checkpoint_path(init: str) -> Path:
    p = Path(init)
    if p.is_dir():
        p = p / "best.pt"
    if not p.is_file():
        raise FileNotFoundError(f"--init: {p} not found (give a run directory with best.pt, or a .pt checkpoint)")
    return p


def load_init(model: nn.Module, init: str, arch: str, map_location="cpu") -> str:
    """Loads the weights of `init` into `model`; returns a one-line description."""
    if init == "faceapi":  # face-api.js's face-recognition weights from node_modules (pretrained_faceapi.py)
        from .pretrained_faceapi import init_from_faceapi

        return init_from_faceapi(model, arch)
    if init == "nsfwjs":  # nsfwjs's ImageNet-derived nets from node_modules (pretrained_nsfwjs*.py)
        if arch == "inceptionv3":
            from .pretrained_nsfwjs_inception import init_from_nsfwjs_inception

            return init_from_nsfwjs_inception(model, arch)
        if arch == "mobilenetv2-140":
            from .pretrained_nsfwjs_mid import init_from_nsfwjs_mid

            return init_from_nsfwjs_mid(model, arch)
        from .pretrained_nsfwjs import init_from_nsfwjs

        return init_from_nsfwjs(model, arch)
    path = init_checkpoint_path(init)
    ckpt = load_checkpoint(path, map_location)
    if ckpt.get("arch") != arch:
        raise ValueError(f"--init {path} is a {ckpt.get('arch')} checkpoint; this run is --arch {arch}")
    model.load_state_dict(ckpt["model"])
    loss = ckpt.get("config", {}).get("loss", "bce")
    return f"initialised from {path} ({arch}@{ckpt.get('size')}, {loss} run, epoch {ckpt.get('epoch')})"


class LayerSchedule:
    """Which layer groups train at a given epoch; applies it with requires_grad and BN eval mode."""

    def __init__(self, model: nn.Module, freeze_backbone: bool, unfreeze: str, epochs_per_stage: int) -> None:
        if unfreeze not in UNFREEZE_MODES:
            raise ValueError(f"--unfreeze must be one of {', '.join(UNFREEZE_MODES)}")
        if freeze_backbone and unfreeze != "none":
            raise ValueError("--freeze-backbone and --unfreeze greedy exclude each other")
        if epochs_per_stage < 1:
            raise ValueError("--unfreeze-epochs must be >= 1")
        self.active = freeze_backbone or unfreeze == "greedy"
        self.groups: List[nn.Module] = layer_groups(model) if self.active else []
        self.freeze_backbone, self.greedy, self.per_stage = freeze_backbone, unfreeze == "greedy", epochs_per_stage
        self.current: Optional[int] = None

    def trainable_groups(self, epoch: int) -> int:
        """Number of leading groups that train in (0-based) `epoch`."""
        if self.freeze_backbone:
            return 1
        return min(len(self.groups), 1 + epoch // self.per_stage)

    def apply(self, epoch: int) -> bool:
        """Sets requires_grad for `epoch`; True when the set of trainable parameters changed."""
        if not self.active:
            return False
        k = self.trainable_groups(epoch)
        for i, g in enumerate(self.groups):
            for p in g.parameters():
                p.requires_grad_(i < k)
        changed, self.current = self.current != k, k
        return changed

    def freeze_bn(self) -> None:
        """After model.train(): BatchNorm layers of frozen groups back to eval (keep their statistics)."""
        if not self.active or self.current is None:
            return
        for g in self.groups[self.current:]:
            for m in g.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
