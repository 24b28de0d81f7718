"""Several runs as one model: k folds, bags and seeds -> member runs -> an ensemble manifest.

`plan_members` expands one training config into its member runs: every fold when `--folds K` is given
without `--fold`, every bag when `--bagging K` is given without `--bag`, every seed of `--seeds`. Each
member trains in `<out>/<suffix>` (e.g. `fold2-seed1`) and exports as `<name>-<suffix>`.

An ensemble manifest (schema `unmask.ensemble/1`, read by src/models/ensemble_manifest.ts) lists member
model manifests by path relative to itself; `unmask scan --model x.ensemble.json` loads every member
and averages their calibrated logits (soft voting), exactly as `--model a --model b ...`.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass, replace
from itertools import product
from pathlib import Path
from typing import List, Optional, Sequence

from .train import TrainConfig

ENSEMBLE_SCHEMA = "unmask.ensemble/1"


@dataclass
class Member:
    suffix: str  # "" when the plan has one member
    cfg: TrainConfig


def plan_members(cfg: TrainConfig, all_folds: bool, all_bags: bool, seeds: Optional[Sequence[int]]) -> List[Member]:
    folds: List[Optional[int]] = list(range(cfg.folds)) if (cfg.folds and all_folds) else [None]
    bags: List[Optional[int]] = list(range(cfg.bagging)) if (cfg.bagging and all_bags) else [None]
    seed_list: List[Optional[int]] = list(seeds) if seeds and len(seeds) > 1 else [None]
    base = replace(cfg, seed=seeds[0]) if seeds and len(seeds) == 1 else cfg
    combos = list(product(folds, bags, seed_list))
    if len(combos) == 1:
        return [Member("", base)]
    members = []
    for fold, bag, seed in combos:
        parts = ([f"fold{fold}"] if fold is not None else []) + ([f"bag{bag}"] if bag is not None else []) + \
                ([f"seed{seed}"] if seed is not None else [])
        suffix = "-".join(parts)
        members.append(Member(suffix, replace(
            base, out=str(Path(cfg.out) / suffix),
            fold=base.fold if fold is None else fold, bag=base.bag if bag is None else bag,
            seed=base.seed if seed is None else seed)))
    return members


def write_ensemble_manifest(path: Path, name: str, member_manifests: Sequence[Path], notes: str = "") -> Path:
    """Writes `path` listing the member manifests (relative to `path`'s folder); each must be a frame manifest."""
    if not member_manifests:
        raise ValueError("an ensemble needs at least one member manifest")
    rel = []
    for m in member_manifests:
        m = Path(m)
        try:
            kind = json.loads(m.read_text()).get("kind")
        except (OSError, ValueError) as e:
            raise ValueError(f"{m}: not a readable model manifest ({e})") from None
        if kind != "frame":
            raise ValueError(f"{m}: kind {kind!r}; ensemble members must be frame model manifests")
        rel.append(os.path.relpath(m.resolve(), path.parent.resolve()))
    doc = {
        "schema": ENSEMBLE_SCHEMA,
        "name": name,
        "members": rel,
        "combine": "mean-calibrated-logit",
        "notes": notes,
        "createdAt": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path
