"""Triplet training of a frame model's embedding (ICPR2020's B4ST/B4AttST; Kumar et al.).

`--loss triplet` trains the backbone on the triplet margin loss
    max(0, d(a, p) - d(a, n) + margin)
over L2-normalised embeddings (the globally pooled last feature map), with anchor/positive of one
class (REAL or FAKE) and the negative of the other. Triplets are mined inside each batch:
- `batch-hard` (default; Hermans et al. 2017): for every anchor, its farthest positive and nearest
  negative in the batch;
- `random`: for every anchor, a random positive and a random negative from the batch.
The default PairSampler gives every batch half REAL, half FAKE, so each anchor has both.

At the same time a linear probe, the model's own head, is fitted with BCE on the *detached* embedding:
the backbone is moved by the triplet loss alone, while the checkpoints stay ordinary classifiers whose
validation AUC/log loss track how separable the embedding is. The second stage is a normal BCE run with
`--init <triplet run>` (optionally `--freeze-backbone`, which trains only the head as ICPR2020's
ST models).
"""
from __future__ import annotations

from typing import Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .model import Classifier

MINING = ("batch-hard", "random")


class TripletModule(nn.Module):
    """Wraps a Classifier for triplet training: forward(x) -> (pooled embedding [N, C], probe logit [N, 1])."""

    def __init__(self, net: Classifier) -> None:
        super().__init__()
        if not isinstance(net, Classifier):
            raise ValueError(f"--loss triplet needs a features/pool/head model; {type(net).__name__} is not one")
        self.net = net

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        emb = self.net.pool(self.net.features(x)).flatten(1)
        return emb, self.net.head(emb.detach())


def pairwise_distances(e: torch.Tensor) -> torch.Tensor:
    """Euclidean distances [N, N]; the clamp keeps the gradient finite where a distance is 0."""
    sq = (e * e).sum(1)
    d2 = sq[:, None] + sq[None, :] - 2 * e @ e.t()
    return d2.clamp_min(1e-12).sqrt()


def triplet_loss(emb: torch.Tensor, labels: torch.Tensor, margin: float, mining: str = "batch-hard",
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Mean triplet margin loss over the anchors that have a positive and a negative in the batch."""
    if mining not in MINING:
        raise ValueError(f"--mining must be one of {', '.join(MINING)}")
    e = F.normalize(emb.float(), dim=1)
    d = pairwise_distances(e)
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=e.device)
    pos_mask, neg_mask = same & ~eye, ~same
    valid = pos_mask.any(1) & neg_mask.any(1)
    if not bool(valid.any()):
        return e.sum() * 0.0  # no usable triplet in this batch (keeps the graph for DDP)
    if mining == "batch-hard":
        d_ap = d.masked_fill(~pos_mask, float("-inf")).max(1).values
        d_an = d.masked_fill(~neg_mask, float("inf")).min(1).values
    else:
        # A uniformly random positive/negative per anchor: argmax of random scores over the mask.
        r = torch.rand(d.shape, generator=generator, device="cpu").to(d.device)
        p_idx = r.masked_fill(~pos_mask, -1.0).argmax(1)
        n_idx = r.masked_fill(~neg_mask, -1.0).argmax(1)
        ar = torch.arange(len(labels), device=d.device)
        d_ap, d_an = d[ar, p_idx], d[ar, n_idx]
    return F.relu(d_ap - d_an + margin)[valid].mean()


def triplet_step_loss(out: Tuple[torch.Tensor, torch.Tensor], y: torch.Tensor, margin: float,
                      mining: str) -> Tuple[torch.Tensor, float, float]:
    """(total loss, triplet part, probe BCE part) for one batch of TripletModule output."""
    emb, probe = out
    t = triplet_loss(emb, y, margin, mining)
    b = F.binary_cross_entropy_with_logits(probe.float().flatten(), y.float())
    return t + b, float(t), float(b)
