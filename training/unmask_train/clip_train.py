"""Training of the temporal families (`--arch c3d|rnn|ftcn`) on clips of consecutive crops (clips.py).

The loop is train.py's Trainer (AdamW, warmup/cosine, time budget, checkpoints, resume, early stopping,
DDP): ClipTrainer only replaces the data (balanced REAL/FAKE clip windows instead of face pairs),
model building (with `--init` from a frame run into the rnn's backbone) and validation, which scores
every validation track with the scanner's windows and reports per-frame and per-video metrics.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from torch import nn
from torch.utils.data import DataLoader

from . import dist as D
from . import metrics as M
from .augment import AUGMENT_PRESETS
from .camera_motion import MotionConfig
from .clips import (BalancedClipSampler, ClipEvalSet, ClipSet, ClipTrainSet, Segment, add_still_segments,
                    load_clip_set, plan_clips, segment_frame_scores)
from .data import CropDataError, ImageStore, holdout_by_components
from .model import count_params, load_checkpoint
from .models_temporal import RNN_CELLS, ClipSpec, build_clip_model, is_temporal
from .sbi import SBI_PRESETS
from .train import TrainConfig, Trainer, check_common, log, predict, run_training, unwrap


@dataclass
class ClipTrainConfig(TrainConfig):
    clip_len: int = 16  # T, frames per clip
    clip_stride: Optional[int] = None  # validation/scan window stride; default T // 2
    rnn: str = "gru"  # rnn family: gru | lstm
    backbone: str = "resnet_xs"  # rnn family: frame arch embedding each frame
    max_gap: int = 0  # a track is cut where it misses more than this many sampled frames
    sbi_flicker: float = 0.0  # per-frame jitter of self-blended clips (clips.clip_tensor); 0 = one draw per clip
    still_crops: List[str] = field(default_factory=list)  # crops dirs whose REAL train stills join as moving clips

    @property
    def stride(self) -> int:
        return self.clip_stride or max(1, self.clip_len // 2)

    def spec(self) -> ClipSpec:
        return ClipSpec(size=self.size, clip_len=self.clip_len, rnn=self.rnn, backbone=self.backbone)


def clip_config(cfg: TrainConfig, **clip: object) -> ClipTrainConfig:
    """A ClipTrainConfig with every field of `cfg` plus the clip options."""
    return ClipTrainConfig(**{**asdict(cfg), **clip})


def check_clip_config(cfg: ClipTrainConfig) -> None:
    """Options of frame training that the clip trainer does not implement are refused, not ignored."""
    if not is_temporal(cfg.arch):
        raise ValueError(f"{cfg.arch} is not a temporal arch")
    unsupported = [name for name, on in (
        ("--loss triplet", cfg.loss != "bce"), ("--unfreeze greedy", cfg.unfreeze != "none"),
        ("--balance", cfg.balance != "pairs"), ("--folds", bool(cfg.folds)), ("--bagging", bool(cfg.bagging)),
        ("--real-dirs", bool(cfg.real_dirs)), ("--boundary-weight", cfg.boundary_weight > 0)) if on]
    if unsupported:
        raise ValueError(f"{', '.join(unsupported)}: not supported for temporal archs ({cfg.arch})")
    if cfg.freeze_backbone and cfg.arch != "rnn":
        raise ValueError("--freeze-backbone applies to --arch rnn only (its frame backbone)")
    if cfg.clip_len < 1 or not 1 <= cfg.stride <= cfg.clip_len:
        raise ValueError(f"--clip-len must be >= 1 and 1 <= --clip-stride <= --clip-len (got {cfg.clip_len}, {cfg.stride})")
    if cfg.rnn not in RNN_CELLS:
        raise ValueError(f"--rnn must be one of {', '.join(RNN_CELLS)}")
    if cfg.max_gap < 0:
        raise ValueError("--max-gap must be >= 0")
    if not 0 <= cfg.sbi_flicker <= 5:
        raise ValueError(f"--sbi-flicker must be in [0, 5] (got {cfg.sbi_flicker})")
    check_common(cfg)


class BackboneFreeze:
    """The rnn's frame backbone frozen (`--freeze-backbone`, e.g. after `--init` from a frame run): the
    same interface as transfer.LayerSchedule, which Trainer.train_epoch calls."""

    def __init__(self, model: nn.Module, frozen: bool) -> None:
        self.backbone = getattr(model, "backbone", None) if frozen else None
        # groups as LayerSchedule logs them: [the rest (trains), the backbone (frozen)]
        self.groups: List[nn.Module] = ([nn.ModuleList([m for n, m in model.named_children() if n != "backbone"]),
                                         self.backbone] if self.backbone is not None else [])
        self.current: Optional[int] = None

    def apply(self, epoch: int) -> bool:
        if self.backbone is None or self.current is not None:
            return False
        for p in self.backbone.parameters():
            p.requires_grad_(False)
        self.current = 1
        return True

    def freeze_bn(self) -> None:
        if self.backbone is not None:
            for m in self.backbone.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()


def load_clip_init(model: nn.Module, cfg: ClipTrainConfig) -> str:
    """`--init`: a run of the same temporal arch (all weights), or, for rnn, a frame run of the backbone's
    arch (its weights except the final `head` go into the backbone)."""
    from .transfer import init_checkpoint_path

    path = init_checkpoint_path(cfg.init or "")
    ckpt = load_checkpoint(path)
    arch = ckpt.get("arch")
    if arch == cfg.arch:
        if ckpt.get("clip_len") != cfg.clip_len:
            raise ValueError(f"--init {path}: clip length {ckpt.get('clip_len')}, this run --clip-len {cfg.clip_len}")
        model.load_state_dict(ckpt["model"])
        return f"initialised from {path} ({arch}, epoch {ckpt.get('epoch')})"
    if cfg.arch == "rnn" and arch == cfg.backbone:
        weights = {k: v for k, v in ckpt["model"].items() if not k.startswith("head.")}
        missing, unexpected = model.backbone.load_state_dict(weights, strict=False)  # type: ignore[union-attr]
        if unexpected or any(not k.startswith("head.") for k in missing):
            raise ValueError(f"--init {path}: weights do not fit the {cfg.backbone} backbone")
        return f"rnn backbone initialised from frame run {path} ({arch}@{ckpt.get('size')}, epoch {ckpt.get('epoch')})"
    want = f"{cfg.arch}" + (f" or a {cfg.backbone} frame run" if cfg.arch == "rnn" else "")
    raise ValueError(f"--init {path} is a {arch} checkpoint; this run needs {want}")


@dataclass
class ClipSplits:
    train: List[Segment]
    val: List[Segment]
    holdout: List[Segment]
    test: List[Segment]
    clips: ClipSet


def load_clip_splits(cfg: ClipTrainConfig) -> ClipSplits:
    cs = load_clip_set(cfg.crops, cfg.max_gap)
    by = {name: [s for s in cs.segments if s.split == name] for name in ("train", "val", "test")}
    train, holdout = holdout_by_components(by["train"], cfg.holdout_frac, cfg.seed)  # type: ignore[arg-type]
    if cfg.still_crops:  # after the holdout split: stills train, they are never held out
        stills = add_still_segments(cs, cfg.still_crops)
        if not stills:
            raise CropDataError(f"--still-crops {' '.join(cfg.still_crops)}: no REAL training stills with a face")
        train = list(train) + stills
    if not train:
        raise CropDataError("no training tracks (split == 'train')")
    return ClipSplits(train, by["val"], holdout, by["test"], cs)  # type: ignore[arg-type]


def describe(segs: Sequence[Segment]) -> str:
    frames = sum(len(s.frames) for s in segs)
    fake = sum(len(s.frames) for s in segs if s.label == 1)
    return f"{len(segs)} segments / {len({s.key for s in segs})} videos / {frames} frames ({fake} fake)"


class ClipTrainer(Trainer):
    # Trainer.__init__ loads faces; this one loads clips and sets the same attributes fit() uses.
    def __init__(self, cfg: ClipTrainConfig, env: D.DistEnv) -> None:  # noqa: super-init-not-called
        check_clip_config(cfg)
        self.cfg, self.env = cfg, env
        self.run = Path(cfg.out)
        self.splits = load_clip_splits(cfg)  # type: ignore[assignment]
        s = self.splits
        log(env, f"clips (T={cfg.clip_len}, stride {cfg.stride}): train {describe(s.train)}; val {describe(s.val)}; "
                 f"holdout {describe(s.holdout)}; test {describe(s.test)}")
        # Images of the training segments (all ranks) and of the evaluation segments (rank 0) only.
        t0 = time.time()
        needed = {i for seg in s.train for i in seg.images}
        if env.is_main:
            needed |= {i for seg in s.val + s.holdout for i in seg.images}
        self.store = ImageStore(s.clips.paths, cfg.size, cache=False)
        if cfg.cache:
            self.store = _SparseCache(s.clips.paths, sorted(needed), cfg.size, cfg.threads)
            log(env, f"decoded {len(needed)} images in {time.time() - t0:.1f}s")

        net = build_clip_model(cfg.arch, cfg.spec())
        if cfg.init:
            log(env, load_clip_init(net, cfg))
        self.layers = BackboneFreeze(net, cfg.freeze_backbone)
        self.model = net.to(env.device)
        self.loss_parts: Dict[str, float] = {}
        log(env, f"arch {cfg.arch}: {count_params(net) / 1e6:.2f} M params, device {env.device}, world {env.world_size}")
        self.wrap_ddp()
        self.init_optimisation()

        frames = sum(len(seg.frames) for seg in s.train)
        pairs = (cfg.samples_per_epoch or max(cfg.batch_size, frames // cfg.clip_len)) // 2
        self.sampler = BalancedClipSampler(s.train, cfg.clip_len, pairs, cfg.seed, cfg.sbi_ratio, env.rank, env.world_size)
        self.train_loader = DataLoader(
            ClipTrainSet(s.train, self.store, cfg.clip_len, cfg.mean, cfg.std, AUGMENT_PRESETS.get(cfg.augment),
                         SBI_PRESETS[cfg.sbi_style], cfg.sbi_flicker,
                         MotionConfig() if cfg.still_crops else None),
            batch_size=cfg.batch_size, sampler=self.sampler, num_workers=cfg.workers, drop_last=True,
            pin_memory=self.amp)
        self.steps_per_epoch = max(1, len(self.sampler) // cfg.batch_size)
        log(env, f"{self.steps_per_epoch} steps/epoch of {cfg.batch_size} clips; self-blended share of FAKE clips "
                 f"{self.sampler.sbi_ratio:.2f} ({len(self.sampler.pools['sbi'][0])} REAL segments usable)")
        self.epoch = 0
        self.step = 0
        self.total_steps = cfg.epochs * self.steps_per_epoch
        self.best_loss = math.inf
        self.best_epoch = 0
        self.bad_epochs = 0
        self.history: List[Dict] = []
        self.elapsed = 0.0

    def meta(self) -> Dict:
        cfg = self.cfg
        return {"config": asdict(cfg), "arch": cfg.arch, "size": cfg.size, "mean": list(cfg.mean), "std": list(cfg.std),
                "margin": self.splits.clips.margin, "crop_size": self.splits.clips.crop_size,
                "kind": "clip", "clip_len": cfg.clip_len, "clip_stride": cfg.stride, "rnn": cfg.rnn,
                "backbone": cfg.backbone, "max_gap": cfg.max_gap, "sampling": self.splits.clips.sampling}

    def score(self, model: nn.Module, segs: Sequence[Segment]) -> Tuple[List[str], List[int], np.ndarray]:
        """Per-frame (key, label, logit) of the segments, scored as `unmask scan` does."""
        clips = plan_clips(segs, self.cfg.clip_len, self.cfg.stride)
        loader = DataLoader(ClipEvalSet(segs, clips, self.store, self.cfg.mean, self.cfg.std), batch_size=16,
                            num_workers=self.cfg.workers, pin_memory=self.amp)
        return segment_frame_scores(segs, clips, predict(model, loader, self.env.device))

    def validate(self) -> Dict[str, Optional[float]]:
        out: Dict[str, Optional[float]] = {}
        for name, segs in (("val", self.splits.val), ("holdout", self.splits.holdout)):
            if segs:
                keys, labels, logits = self.score(self.eval_model(), segs)
                out.update({f"{name}_{k}": v for k, v in M.evaluate(keys, labels, logits).items()})
        return out


class _SparseCache(ImageStore):
    """ImageStore over all paths that decodes only the images some split needs, up front."""

    def __init__(self, paths: Sequence[str], needed: Sequence[int], size: int, threads: int) -> None:
        inner = ImageStore([paths[i] for i in needed], size, cache=True, threads=threads)
        super().__init__(paths, size, cache=False)
        self.slot = {p: k for k, p in enumerate(needed)}
        self.inner = inner

    def get(self, i: int):  # type: ignore[override]
        k = self.slot.get(i)
        return self.inner.get(k) if k is not None else super().get(i)


def calibrate_clips(trainer: ClipTrainer, band: M.DecisionBand = M.DecisionBand()) -> Dict:
    """Best weights -> temperature on the validation frame logits (mean of covering clips) -> final.json."""
    best = load_checkpoint(trainer.run / "best.pt", trainer.env.device)
    model = unwrap(trainer.model)
    model.load_state_dict(best["model"])
    s = trainer.splits
    metrics: Dict[str, Optional[float]] = {}
    temperature = 1.0
    if s.val:
        keys, labels, logits = trainer.score(model, s.val)
        metrics.update(M.evaluate(keys, labels, logits))
        temperature = M.fit_temperature(labels, logits)
        vy, vz = M.group_mean(keys, labels, logits)
        metrics["frame_logloss_calibrated"] = M.log_loss(labels, logits, temperature)
        metrics["video_logloss_calibrated"] = M.log_loss(vy, vz, temperature)
        metrics.update({f"frame_{k}": v for k, v in M.band_stats(labels, logits, temperature, band).items()})
        # Validation sets of different nature (video tracks, still images as 1-frame clips) also apart.
        dataset_of = {g.key: g.dataset for g in s.val}
        datasets = sorted(set(dataset_of.values()))
        for ds in datasets if len(datasets) > 1 else []:
            pick = [i for i, k in enumerate(keys) if dataset_of[k] == ds]
            part = M.evaluate([keys[i] for i in pick], [labels[i] for i in pick], logits[pick])
            metrics.update({f"{ds}_{k}": v for k, v in part.items()})
    if s.holdout:
        metrics.update({f"holdout_{k}": v for k, v in M.evaluate(*trainer.score(model, s.holdout)).items()})
    if s.test:
        metrics.update({f"test_{k}": v for k, v in M.evaluate(*trainer.score(model, s.test)).items()})
    summary = {
        "best_epoch": best["epoch"], "epochs_run": trainer.epoch, "temperature": temperature,
        "decision": {"realBelow": band.real_below, "fakeAbove": band.fake_above}, "metrics": metrics,
        "data": sorted({f"{g.dataset}:{g.split}" for g in s.train + s.val + s.holdout + s.test}),
        "train_tracks": len(s.train), "val_tracks": len(s.val), "holdout_tracks": len(s.holdout),
        "test_tracks": len(s.test),
    }
    (trainer.run / "final.json").write_text(json.dumps(summary, indent=2))
    return summary


def train_clips(cfg: ClipTrainConfig) -> Optional[Dict]:
    """As train.train, for a temporal arch."""
    return run_training(cfg, ClipTrainer, calibrate_clips)
