"""Exponential moving average of the weights (`--ema DECAY`).

Validation, `best.pt`, the per-epoch checkpoints and the export use the averaged weights; `last.pt`
keeps both, so a resumed run goes on with the same average. An average over the last few hundred
steps is flatter than any single step's weights, which tends to carry better to unseen data.
"""
from __future__ import annotations

import copy
from typing import Dict

import torch
from torch import nn


class WeightAverage:
    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"--ema must be in (0, 1), got {decay}")
        self.decay = decay
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """One step; the effective decay ramps up ((1 + n) / (10 + n)) so early weights do not dominate."""
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        src = model.state_dict()
        for name, avg in self.module.state_dict().items():
            cur = src[name].detach()
            if avg.dtype.is_floating_point:
                avg.mul_(d).add_(cur.to(avg.dtype), alpha=1 - d)
            else:  # BatchNorm's num_batches_tracked and the like
                avg.copy_(cur)

    def state_dict(self) -> Dict:
        return {"decay": self.decay, "updates": self.updates, "weights": self.module.state_dict()}

    def load_state_dict(self, state: Dict) -> None:
        self.updates = int(state["updates"])
        self.module.load_state_dict(state["weights"])
