"""Training-set partitions and class-balancing samplers beyond the default REAL/FAKE pairs.

- `fold_split`: k folds by identity component (faces sharing any identity id, through the `+`-joined
  `group` column, are in one fold), so no identity is both trained on and held out.
- `bag_subset`: bagging into balanced chunks (Kumar et al. on DFDC's 7:1 FAKE:REAL): bag i keeps every
  face of the minority class plus the i-th of K disjoint shares of the majority class (shares are
  whole videos, i.e. record keys). Train one model per bag and average them (soft voting).
- `ClassBalancedSampler` (`--balance sampler`): each draw picks REAL or FAKE with probability 1/2, then
  a face of that class uniformly (inverse-class-frequency weighting, as a WeightedRandomSampler); a
  FAKE draw is a self-blended fake with probability `sbi_ratio`. Unlike `PairSampler` there is no
  REAL/FAKE pairing, so batches are balanced only on average and the data set is not matched.
- `NaturalSampler` (`--balance none`): faces drawn uniformly, at the data's own class ratio; no SBI.
"""
from __future__ import annotations

import random
from collections import Counter
from typing import Dict, Iterator, List, Sequence, Tuple

from torch.utils.data import Sampler

from .data import CropDataError, Face, group_components
from .sbi import keypoints_usable


def fold_split(faces: Sequence[Face], folds: int, fold: int, seed: int) -> Tuple[List[Face], List[Face]]:
    """(train = the other folds, held out = fold `fold`). Components are dealt, largest first, to the
    fold with the fewest faces so far (ties broken by a seeded shuffle), which keeps folds near equal."""
    if folds < 2:
        raise ValueError("--folds must be >= 2")
    if not 0 <= fold < folds:
        raise ValueError(f"--fold must be in 0..{folds - 1}")
    assign = fold_of_components([f.group for f in faces], folds, seed)
    comps = group_components([f.group for f in faces])
    train = [f for f, c in zip(faces, comps) if assign[c] != fold]
    held = [f for f, c in zip(faces, comps) if assign[c] == fold]
    return train, held


def fold_of_components(groups: Sequence[str], folds: int, seed: int) -> Dict[str, int]:
    comps = group_components(groups)
    sizes = Counter(comps)
    order = sorted(sizes)
    random.Random(seed).shuffle(order)
    order.sort(key=lambda c: -sizes[c])  # stable: the shuffle breaks ties between equal sizes
    load = [0] * folds
    assign: Dict[str, int] = {}
    for c in order:
        k = min(range(folds), key=lambda i: (load[i], i))
        assign[c] = k
        load[k] += sizes[c]
    return assign


def bag_subset(faces: Sequence[Face], bags: int, bag: int, seed: int) -> List[Face]:
    """All minority-class faces + share `bag` of `bags` disjoint majority shares (by record key)."""
    if bags < 2:
        raise ValueError("--bagging must be >= 2")
    if not 0 <= bag < bags:
        raise ValueError(f"--bag must be in 0..{bags - 1}")
    counts = Counter(f.label for f in faces)
    if len(counts) < 2:
        raise CropDataError("bagging needs REAL and FAKE training faces")
    minority = min(counts, key=lambda k: (counts[k], k))
    share = majority_shares(faces, minority, bags, seed)
    return [f for f in faces if f.label == minority or share[f.key] == bag]


def majority_shares(faces: Sequence[Face], minority: int, bags: int, seed: int) -> Dict[str, int]:
    """Share index of each majority-class record key; keys dealt like folds (largest first, emptiest share)."""
    sizes = Counter(f.key for f in faces if f.label != minority)
    order = sorted(sizes)
    random.Random(seed).shuffle(order)
    order.sort(key=lambda k: -sizes[k])
    load = [0] * bags
    share: Dict[str, int] = {}
    for k in order:
        i = min(range(bags), key=lambda j: (load[j], j))
        share[k] = i
        load[i] += sizes[k]
    return share


class _EpochSampler(Sampler[int]):
    """Common part: a seeded stream per (seed, epoch, rank) of TrainSet codes (i: face i, n + i: SBI of i)."""

    def __init__(self, faces: Sequence[Face], samples_per_epoch: int, seed: int, rank: int = 0, world_size: int = 1) -> None:
        self.n = len(faces)
        self.fakes = [i for i, f in enumerate(faces) if f.label == 1]
        self.reals = [i for i, f in enumerate(faces) if f.label == 0]
        self.samples = max(1, samples_per_epoch // world_size)
        self.seed, self.rank, self.epoch = seed, rank, 0
        self.sbi_sources: List[int] = []
        self.sbi_ratio = 0.0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.samples

    def rng(self) -> random.Random:
        return random.Random(f"{type(self).__name__}/{self.seed}/{self.epoch}/{self.rank}")


class ClassBalancedSampler(_EpochSampler):
    def __init__(self, faces: Sequence[Face], sbi_ratio: float, samples_per_epoch: int, seed: int,
                 rank: int = 0, world_size: int = 1) -> None:
        super().__init__(faces, samples_per_epoch, seed, rank, world_size)
        self.sbi_sources = [i for i in self.reals if keypoints_usable(faces[i].keypoints, faces[i].crop_size)]
        if not self.reals:
            raise CropDataError("no REAL training faces")
        if not self.fakes and not self.sbi_sources:
            raise CropDataError("no FAKE training faces and no REAL faces usable for SBI")
        self.sbi_ratio = 1.0 if not self.fakes else (0.0 if not self.sbi_sources else sbi_ratio)

    def __iter__(self) -> Iterator[int]:
        rng = self.rng()
        for _ in range(self.samples):
            if rng.random() < 0.5:
                yield rng.choice(self.reals)
            elif rng.random() < self.sbi_ratio:
                yield self.n + rng.choice(self.sbi_sources)
            else:
                yield rng.choice(self.fakes)


class NaturalSampler(_EpochSampler):
    def __init__(self, faces: Sequence[Face], samples_per_epoch: int, seed: int, rank: int = 0, world_size: int = 1) -> None:
        super().__init__(faces, samples_per_epoch, seed, rank, world_size)
        if not self.fakes or not self.reals:
            raise CropDataError("--balance none needs REAL and FAKE training faces (no self-blended fakes are made)")

    def __iter__(self) -> Iterator[int]:
        rng = self.rng()
        for _ in range(self.samples):
            yield rng.randrange(self.n)


BALANCE_MODES = ("pairs", "sampler", "none")


def describe_classes(faces: Sequence[Face]) -> str:
    c = Counter(f.label for f in faces)
    return f"REAL {c.get(0, 0)} / FAKE {c.get(1, 0)}"


def subsample_by_key(faces: Sequence[Face], limit: int, seed: int) -> List[Face]:
    """At most about `limit` faces, half REAL and half FAKE where possible, taking whole record keys
    (all frames of a video) in a seeded random order. For quick validation in short CPU runs."""
    by_label: Dict[int, Dict[str, List[Face]]] = {0: {}, 1: {}}
    for f in faces:
        by_label[f.label].setdefault(f.key, []).append(f)
    rng = random.Random(seed)
    out: List[Face] = []
    for label, groups in by_label.items():
        keys = sorted(groups)
        rng.shuffle(keys)
        budget = limit // 2 if by_label[1 - label] else limit
        taken = 0
        for k in keys:
            if taken >= budget:
                break
            out += groups[k]
            taken += len(groups[k])
    keep = {id(f) for f in out}
    return [f for f in faces if id(f) in keep]  # original order
