"""BatchNorm re-parameterisation for trunks ported from weights with the normalisation folded in.

A folded trunk (face-api's conv + scale layers, TF-Hub's MobileNetV2 with each BatchNorm folded into
its convolution) has no batch statistics. Loaded as conv + BatchNorm with running mean 0 and variance
1 - eps it computes the pretrained function exactly in eval mode, but in training mode each BatchNorm
would normalise by batch statistics the pretrained weights never saw and wreck the features at the
first step. So on the first training-mode batch every BatchNorm is re-parameterised from that batch's
statistics (mean m, variance v of each conv output, measured with the pretrained function):
gamma' = gamma * sqrt(v + eps) / sqrt(rv + eps), beta' = beta + gamma * (m - rm) / sqrt(rv + eps),
running stats = (m, v). Eval-mode output is unchanged, and training-mode output equals it on that
batch, so fine-tuning starts from the pretrained features.
"""
from __future__ import annotations

from typing import Callable, Dict, Tuple

import torch
from torch import nn


@torch.no_grad()
def calibrate_batchnorms(module: nn.Module, layers: Dict[str, nn.Module], run: Callable[[torch.Tensor], torch.Tensor],
                         x: torch.Tensor) -> None:
    """Re-parameterises the BatchNorm of every layer in `layers` (each has `.conv` and `.bn`) so that
    training mode on batches like `x` computes what eval mode computes now. `run(x)` is the trunk's
    forward pass without the calibration check; `module` is the trunk (put in eval mode meanwhile).
    Under DDP the statistics are averaged over ranks, so every rank gets the same parameters."""
    stats: Dict[str, Tuple[torch.Tensor, torch.Tensor]] = {}
    hooks = []
    for name, layer in layers.items():
        def hook(_m, _i, out, name=name):
            o = out.float()
            stats[name] = (o.mean((0, 2, 3)), o.pow(2).mean((0, 2, 3)))
        hooks.append(layer.conv.register_forward_hook(hook))
    was_training = module.training
    module.eval()
    try:
        with torch.autocast(device_type=x.device.type, enabled=False):
            run(x.float())
    finally:
        for h in hooks:
            h.remove()
        module.train(was_training)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        # Same parameters on every rank (DDP synchronised them before this first step).
        flat = torch.cat([torch.cat(stats[n]) for n in layers])
        torch.distributed.all_reduce(flat)
        flat /= torch.distributed.get_world_size()
        pos = 0
        for n, layer in layers.items():
            c = layer.bn.num_features
            stats[n] = (flat[pos:pos + c], flat[pos + c:pos + 2 * c])
            pos += 2 * c
    for n, layer in layers.items():
        mean, sq = stats[n]
        var = (sq - mean * mean).clamp_min(0)
        bn = layer.bn
        old_std = torch.sqrt(bn.running_var + bn.eps)
        bn.bias.add_(bn.weight * (mean - bn.running_mean) / old_std)
        bn.weight.mul_(torch.sqrt(var + bn.eps) / old_std)
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
