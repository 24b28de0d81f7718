"""Training loop: AdamW + warmup/cosine, BCE on the FAKE logit, early stopping on validation log loss.

Run directory (`--out`, under training/runs/ by convention, gitignored):
    log.jsonl      one JSON object per epoch (train loss, throughput, val/holdout metrics, lr)
    loss.png       curves, when matplotlib is importable
    last.pt        full state for --resume (model, optimiser, scaler, counters)
    best.pt        weights of the best validation epoch (highest frame AUC by default; see --select)
    epoch_NNN.pt   weights after each epoch
    final.json     best epoch, calibration (temperature, band) and calibrated metrics
"""
from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import math
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from . import dist as D
from . import metrics as M
from .augment import AUGMENT_PRESETS, AugmentConfig
from .boundary import BoundaryModule, boundary_loss
from .cross_blend import donor_table
from .data import (DEFAULT_CROP_MARGIN, BoundaryTrainSet, CropDataError, EvalSet, Face, ImageStore, PairSampler,
                   TrainSet, centre_box, holdout_by_components, load_crop_set, margin_fraction, tighter_faces)
from .ema import WeightAverage
from .metric_learning import MINING, TripletModule, triplet_step_loss
from .model import build_model, count_params, load_checkpoint
from .models_frame import zero_init_residual_branches
from .sbi import SBI_PRESETS
from .splits import (BALANCE_MODES, ClassBalancedSampler, NaturalSampler, bag_subset, describe_classes, fold_split,
                     subsample_by_key)
from .transfer import LayerSchedule, load_init

# Folds and bags are drawn with this fixed seed, not --seed: fold i / bag i is the same set of
# identities / videos for every seed of an ensemble.
PARTITION_SEED = 0
LOSSES = ("bce", "triplet")


@dataclass
class TrainConfig:
    crops: List[str]
    out: str
    arch: str = "resnet_s"
    size: int = 128
    epochs: int = 30
    max_minutes: Optional[float] = None
    seed: int = 0
    sbi_ratio: float = 0.5  # share of the FAKE half of each batch that is self-blended
    real_dirs: List[str] = field(default_factory=list)  # extra crop dirs; their REAL faces join training
    batch_size: int = 32  # per process; even, so REAL/FAKE pairs stay together
    lr: float = 2e-3
    weight_decay: float = 0.02
    warmup_epochs: float = 1.0
    patience: int = 5
    select: str = "auc"  # checkpoint/early-stopping criterion on validation: a key of SELECT_COLUMNS
    holdout_frac: float = 0.0  # share of train faces held out by identity component (in-domain check)
    samples_per_epoch: Optional[int] = None  # default: number of training faces
    workers: int = 1
    threads: int = 2
    cache: bool = True
    resume: bool = False
    augment: str = "light"  # a key of AUGMENT_PRESETS, or "none" (diagnostics)
    sbi_style: str = "basic"  # a key of SBI_PRESETS (sbi.py)
    ema: float = 0.0  # > 0: validate, select and export an exponential moving average of the weights (ema.py)
    loss: str = "bce"  # "bce", or "triplet": embedding + linear probe (metric_learning.py)
    margin: float = 0.3  # triplet margin on L2-normalised embeddings
    mining: str = "batch-hard"  # triplet mining in the batch: "batch-hard" or "random"
    init: Optional[str] = None  # run dir (its best.pt) or checkpoint whose weights start this run
    zero_gamma: bool = False  # EfficientNets from scratch: skip blocks start as identities (models_frame.py)
    boundary_weight: float = 0.0  # > 0: Face X-ray style blending-boundary target beside the BCE (boundary.py)
    freeze_backbone: bool = False  # train the head only (transfer.py)
    unfreeze: str = "none"  # "greedy": layer-wise unfreezing, head first (transfer.py)
    unfreeze_epochs: int = 1  # epochs per greedy stage
    balance: str = "pairs"  # "pairs" (PairSampler), "sampler" (class-balanced draws), "none" (splits.py)
    folds: int = 0  # >= 2: k folds by identity; fold `fold` is held out (holdout_* metrics)
    fold: int = 0
    bagging: int = 0  # >= 2: train on bag `bag`: all minority-class faces + a 1/K share of the majority
    bag: int = 0
    val_limit: int = 0  # > 0: evaluate on about this many val (and test) faces (whole videos, half FAKE): short runs
    # crop margin the network sees, at most the crops' own (None: theirs); a tighter one uses the centred
    # part of each crop, and the exported manifest tells `unmask scan` to cut faces with it
    crop_margin: Optional[float] = None
    # share of training images (REAL and FAKE alike) blacked out beyond a tight square around the face,
    # as a scan pads a face picture that was cut tight before it reached unmask (augment.precrop)
    precrop: float = 0.0
    # range of the side (a multiple of the image's) at which the augmentation's JPEG round trip happens
    # (AugmentConfig.jpeg_scale); (1, 1): at the image's own side
    jpeg_scale: Tuple[float, float] = (1.0, 1.0)
    # share of the synthetic fakes pasting another person's face (nearest landmark shape) instead of the
    # face's own: Face X-ray's blended images beside self-blends (cross_blend.py); needs landmarks
    cross_blend: float = 0.0
    mean: Tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: Tuple[float, float, float] = (0.5, 0.5, 0.5)
    command: str = ""


@dataclass
class Splits:
    train: List[Face]
    val: List[Face]
    holdout: List[Face]
    test: List[Face]  # split == "test": reported once after training, never used for any choice
    margin: Optional[float]
    crop_size: Optional[int]  # side the crops were cut at, before resizing to --size
    fraction: float = 1.0  # centred part of each crop used (--crop-margin tighter than the crops')


def log(env: D.DistEnv, msg: str) -> None:
    if env.is_main:
        print(msg, flush=True)


def load_splits(cfg: TrainConfig) -> Splits:
    """train/val/test by the `split` column (other values, e.g. `excluded`, are unused); REAL faces of
    --real-dirs join train; optional identity holdout."""
    train: List[Face] = []
    val: List[Face] = []
    test: List[Face] = []
    margin: Optional[float] = None
    crop_size: Optional[int] = None
    for d in cfg.crops:
        cs = load_crop_set(d)
        margin = margin if margin is not None else cs.margin
        crop_size = crop_size if crop_size is not None else cs.crop_size
        train += [f for f in cs.faces if f.split == "train"]
        val += [f for f in cs.faces if f.split == "val"]
        test += [f for f in cs.faces if f.split == "test"]
    for d in cfg.real_dirs:
        cs = load_crop_set(d)
        train += [f for f in cs.faces if f.label == 0]
    train, holdout = holdout_by_components(train, cfg.holdout_frac, cfg.seed)
    if cfg.folds:
        train, held = fold_split(train, cfg.folds, cfg.fold, PARTITION_SEED)
        holdout += held
    if cfg.bagging:
        train = bag_subset(train, cfg.bagging, cfg.bag, PARTITION_SEED)
    if cfg.val_limit:
        val = subsample_by_key(val, cfg.val_limit, PARTITION_SEED) if len(val) > cfg.val_limit else val
        test = subsample_by_key(test, cfg.val_limit, PARTITION_SEED) if len(test) > cfg.val_limit else test
    if not train:
        raise CropDataError("no training faces (split == 'train')")
    if cfg.crop_margin is None or margin is None or cfg.crop_margin == margin:
        return Splits(train, val, holdout, test, margin, crop_size)
    # a tighter crop: the centred part of every crop, keypoints and landmarks moved into it
    fraction = margin_fraction(margin, cfg.crop_margin)
    train, val, holdout, test = (tighter_faces(x, fraction) for x in (train, val, holdout, test))
    side = centre_box(crop_size, fraction)[1] if crop_size else None
    return Splits(train, val, holdout, test, cfg.crop_margin, side, fraction)


def param_groups(model: nn.Module, weight_decay: float) -> List[Dict]:
    """No weight decay on BatchNorm parameters and biases (decaying them only hurts)."""
    decay, no_decay = [], []
    for p in model.parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def lr_at(step: int, total: int, warmup: int, base: float) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * t)))


@torch.no_grad()
def predict(model: nn.Module, loader: DataLoader, device: torch.device) -> np.ndarray:
    model.eval()
    out = []
    for x, _, _ in loader:
        out.append(model(x.to(device, non_blocking=True)).float().flatten().cpu())
    return torch.cat(out).numpy() if out else np.zeros(0)


def eval_metrics(faces: Sequence[Face], logits: np.ndarray) -> Dict[str, Optional[float]]:
    return M.evaluate([f.key for f in faces], [f.label for f in faces], logits)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def unwrap(model: nn.Module) -> nn.Module:
    """The classifier inside DDP and/or the triplet or boundary wrapper (what checkpoints and validation use)."""
    m = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
    return m.net if isinstance(m, (TripletModule, BoundaryModule)) else m


def save_plot(history: List[Dict], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    ep = [h["epoch"] for h in history]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(ep, [h["train_loss"] for h in history], label="train loss")
    for k in ("val_frame_logloss", "val_video_logloss", "holdout_frame_logloss"):
        if any(h.get(k) is not None for h in history):
            a.plot(ep, [h.get(k) for h in history], label=k)
    a.set_xlabel("epoch"), a.set_ylabel("log loss"), a.legend()
    for k in ("val_frame_auc", "val_video_auc", "holdout_frame_auc"):
        if any(h.get(k) is not None for h in history):
            b.plot(ep, [h.get(k) for h in history], label=k)
    b.set_xlabel("epoch"), b.set_ylabel("AUC"), b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def make_grad_scaler(enabled: bool):
    """torch.amp.GradScaler on PyTorch 2.x, torch.cuda.amp.GradScaler on 1.x (same behaviour)."""
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler("cuda", enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)


class Trainer:
    # The training-only boundary head (--boundary-weight), checkpointed beside the classifier; subclasses
    # that never set one (the clip trainer) keep None.
    boundary: Optional[BoundaryModule] = None

    def __init__(self, cfg: TrainConfig, env: D.DistEnv) -> None:
        check_common(cfg)
        for name, value, allowed in (("--loss", cfg.loss, LOSSES), ("--balance", cfg.balance, BALANCE_MODES),
                                     ("--mining", cfg.mining, MINING)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}")
        self.cfg, self.env = cfg, env
        self.run = Path(cfg.out)
        self.splits = load_splits(cfg)
        s = self.splits
        log(env, f"faces: train {len(s.train)} (fake {sum(f.label for f in s.train)}), "
                 f"val {len(s.val)} (fake {sum(f.label for f in s.val)}), holdout {len(s.holdout)}, test {len(s.test)}")
        t0 = time.time()
        self.train_store = ImageStore([f.image for f in s.train], cfg.size, cfg.cache, cfg.threads, s.fraction)
        # Only rank 0 evaluates; other ranks skip loading the evaluation images.
        eval_cache = cfg.cache and env.is_main
        self.val_store = ImageStore([f.image for f in s.val], cfg.size, eval_cache, cfg.threads, s.fraction) if env.is_main else None
        self.hold_store = ImageStore([f.image for f in s.holdout], cfg.size, eval_cache, cfg.threads, s.fraction) if env.is_main else None
        if cfg.cache:
            log(env, f"decoded images in {time.time() - t0:.1f}s")

        net = build_model(cfg.arch, cfg.size)
        if cfg.zero_gamma:
            log(env, f"zero-gamma: {zero_init_residual_branches(net)} skip blocks start as identities")
        if cfg.init:
            log(env, load_init(net, cfg.init, cfg.arch))
        self.layers = LayerSchedule(net, cfg.freeze_backbone, cfg.unfreeze, cfg.unfreeze_epochs)
        if cfg.loss == "triplet":
            wrapped: nn.Module = TripletModule(net)
        elif cfg.boundary_weight > 0:
            wrapped = BoundaryModule(net, cfg.size)
            log(env, f"boundary target: weight {cfg.boundary_weight}, {wrapped.grid}x{wrapped.grid} grid")
        else:
            wrapped = net
        self.model = wrapped.to(env.device)
        self.boundary = wrapped if isinstance(wrapped, BoundaryModule) else None
        log(env, f"arch {cfg.arch}: {count_params(net) / 1e6:.2f} M params, device {env.device}, world {env.world_size}, "
                 f"loss {cfg.loss}, train classes {describe_classes(s.train)}")
        self.wrap_ddp()
        self.init_optimisation()

        samples = cfg.samples_per_epoch or len(s.train)
        if cfg.balance == "pairs":
            self.sampler = PairSampler(s.train, cfg.sbi_ratio, samples // 2, cfg.seed, rank=env.rank, world_size=env.world_size)
        elif cfg.balance == "sampler":
            self.sampler = ClassBalancedSampler(s.train, cfg.sbi_ratio, samples, cfg.seed, env.rank, env.world_size)
        else:
            self.sampler = NaturalSampler(s.train, samples, cfg.seed, env.rank, env.world_size)
        train_set_args = (s.train, self.train_store, cfg.mean, cfg.std, augment_config(cfg),
                          SBI_PRESETS[cfg.sbi_style], cfg.precrop, s.margin if s.margin is not None else DEFAULT_CROP_MARGIN)
        cross = dict(p_cross=cfg.cross_blend, donors=self.cross_blend_donors(s.train)) if cfg.cross_blend > 0 else {}
        self.train_loader = DataLoader(
            BoundaryTrainSet(*train_set_args, grid=self.boundary.grid, **cross) if self.boundary
            else TrainSet(*train_set_args, **cross),
            batch_size=cfg.batch_size, sampler=self.sampler,
            num_workers=cfg.workers, drop_last=True, pin_memory=self.amp)
        self.steps_per_epoch = max(1, len(self.sampler) // cfg.batch_size)
        log(env, f"sbi ratio {self.sampler.sbi_ratio:.2f}, {len(self.sampler.sbi_sources)} SBI sources, "
                 f"{self.steps_per_epoch} steps/epoch")
        if SBI_PRESETS[cfg.sbi_style].landmark_mask:
            with_lm = sum(1 for i in self.sampler.sbi_sources if s.train[i].landmarks is not None)
            if not with_lm:
                raise ValueError(f"--sbi-style {cfg.sbi_style} needs landmarks: run `python -m unmask_train landmarks "
                                 f"--crops {' '.join(map(str, cfg.crops))}` first")
            log(env, f"landmark masks for {with_lm} of {len(self.sampler.sbi_sources)} SBI sources (the rest: keypoints)")

        self.epoch = 0
        self.step = 0
        self.total_steps = cfg.epochs * self.steps_per_epoch
        self.best_loss = math.inf
        self.best_epoch = 0
        self.bad_epochs = 0
        self.history: List[Dict] = []
        self.elapsed = 0.0  # training seconds over all sessions (for --max-minutes across resumes)
        self.loss_parts: Dict[str, float] = {}  # per-epoch means of the loss terms (triplet runs)

    def cross_blend_donors(self, faces: List[Face]) -> Dict[int, np.ndarray]:
        """Donor faces for each SBI source with landmarks (cross_blend.donor_table), or ValueError."""
        donors = donor_table(faces, self.sampler.sbi_sources)
        if not donors:
            raise ValueError("--cross-blend needs face-api landmarks on the REAL faces of two identities or more: run "
                             f"`python -m unmask_train landmarks --crops {' '.join(map(str, self.cfg.crops))}` first")
        log(self.env, f"cross blends: share {self.cfg.cross_blend:.2f} of the synthetic fakes of {len(donors)} of "
                      f"{len(self.sampler.sbi_sources)} SBI sources paste another identity's face")
        return donors

    def wrap_ddp(self) -> None:
        """(Re)wraps the model in DDP, which registers the trainable parameters once: called again
        whenever greedy unfreezing changes them."""
        if not self.env.distributed:
            return
        inner = self.model.module if isinstance(self.model, nn.parallel.DistributedDataParallel) else self.model
        self.model = nn.parallel.DistributedDataParallel(
            inner, device_ids=[self.env.local_rank] if self.env.device.type == "cuda" else None)

    def init_optimisation(self) -> None:
        """AdamW, mixed precision on CUDA, and the weight average with --ema: set up once self.model exists."""
        cfg = self.cfg
        self.opt = torch.optim.AdamW(param_groups(self.model, cfg.weight_decay), lr=cfg.lr)
        self.amp = self.env.device.type == "cuda"
        self.scaler = make_grad_scaler(self.amp)
        self.ema = WeightAverage(unwrap(self.model), cfg.ema) if cfg.ema > 0 else None

    def eval_loader(self, faces: List[Face], store: ImageStore) -> DataLoader:
        return DataLoader(EvalSet(faces, store, self.cfg.mean, self.cfg.std), batch_size=64,
                          num_workers=self.cfg.workers, pin_memory=self.amp)

    # --- checkpoints -------------------------------------------------------------------------

    def meta(self) -> Dict:
        return {"config": asdict(self.cfg), "arch": self.cfg.arch, "size": self.cfg.size, "mean": list(self.cfg.mean),
                "std": list(self.cfg.std), "margin": self.splits.margin, "crop_size": self.splits.crop_size}

    def eval_model(self) -> nn.Module:
        """The weights that are validated, kept as best.pt and exported: the moving average with --ema."""
        return self.ema.module if self.ema is not None else unwrap(self.model)

    def save(self) -> None:
        weights = self.eval_model().state_dict()
        state = {**self.meta(), "model": unwrap(self.model).state_dict(), "optimizer": self.opt.state_dict(), "scaler": self.scaler.state_dict(),
                 "epoch": self.epoch, "step": self.step, "total_steps": self.total_steps, "best_loss": self.best_loss,
                 "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs, "history": self.history,
                 "elapsed": self.elapsed, "ema": self.ema.state_dict() if self.ema is not None else None,
                 "boundary_head": self.boundary.head.state_dict() if self.boundary else None}
        tmp = self.run / "last.pt.tmp"
        torch.save(state, tmp)
        tmp.replace(self.run / "last.pt")  # atomic: a crash mid-save leaves the previous last.pt
        torch.save({**self.meta(), "model": weights, "epoch": self.epoch}, self.run / f"epoch_{self.epoch:03d}.pt")

    def resume(self) -> None:
        path = self.run / "last.pt"
        if not path.is_file():
            log(self.env, f"--resume: no {path}, starting fresh")
            return
        st = load_checkpoint(path, self.env.device)
        if st["arch"] != self.cfg.arch or st["size"] != self.cfg.size:
            raise ValueError(f"{path} is a {st['arch']}@{st['size']} run; asked for {self.cfg.arch}@{self.cfg.size}")
        unwrap(self.model).load_state_dict(st["model"])
        if self.boundary is not None:
            if not st.get("boundary_head"):
                raise ValueError(f"{path} was trained without --boundary-weight; resume it without the option")
            self.boundary.head.load_state_dict(st["boundary_head"])
        elif st.get("boundary_head"):
            raise ValueError(f"{path} was trained with --boundary-weight; resume it with the option")
        self.opt.load_state_dict(st["optimizer"])
        self.scaler.load_state_dict(st["scaler"])
        if self.ema is not None:
            if st.get("ema"):
                self.ema.load_state_dict(st["ema"])
            else:  # a run started without --ema: the average starts from the resumed weights
                self.ema = WeightAverage(unwrap(self.model), self.cfg.ema)
        for k in ("epoch", "step", "best_loss", "best_epoch", "bad_epochs", "history", "elapsed"):
            setattr(self, k, st[k])
        # The schedule horizon follows this invocation's --epochs (and --max-minutes), not the saved one.
        if self.history:
            self.reschedule(self.history[-1]["seconds"], time.time())
        log(self.env, f"resumed after epoch {self.epoch} (best val log loss {self.best_loss:.4f} at epoch {self.best_epoch})")

    # --- loop --------------------------------------------------------------------------------

    def budget_left(self, started: float) -> float:
        if self.cfg.max_minutes is None:
            return math.inf
        return self.cfg.max_minutes * 60 - self.elapsed - (time.time() - started)

    def train_epoch(self, started: float) -> Tuple[float, int, bool]:
        """Mean loss, images seen, and whether the time budget cut the epoch short."""
        if self.layers.apply(self.epoch):
            self.wrap_ddp()
            log(self.env, f"epoch {self.epoch + 1}: {self.layers.current} of {len(self.layers.groups)} layer groups train")
        self.model.train()
        self.layers.freeze_bn()
        self.sampler.set_epoch(self.epoch)
        torch.manual_seed(self.cfg.seed * 100003 + self.epoch)  # DataLoader worker seeds per epoch, resumable
        warmup = int(self.cfg.warmup_epochs * self.steps_per_epoch)
        total_loss, seen = 0.0, 0
        # per-epoch loss terms of the two-term losses (triplet and --boundary-weight exclude each other)
        if self.cfg.loss == "triplet":
            parts = {"train_triplet": 0.0, "train_probe_bce": 0.0}
        elif self.boundary is not None:
            parts = {"train_bce": 0.0, "train_boundary": 0.0}
        else:
            parts = {}
        for x, y, _, *boundary in self.train_loader:
            # Single process: stop mid-epoch when the budget runs out. Under DDP every rank must take
            # the same number of steps, so the budget is only checked by rank 0 between epochs.
            if not self.env.distributed and self.budget_left(started) <= 0:
                return total_loss / max(1, seen), seen, True
            for g in self.opt.param_groups:
                g["lr"] = lr_at(self.step, self.total_steps, warmup, self.cfg.lr)
            x = x.to(self.env.device, non_blocking=True)
            y = y.float().to(self.env.device, non_blocking=True)
            with torch.autocast(device_type="cuda", dtype=torch.float16) if self.amp else contextlib.nullcontext():
                out = self.model(x)
            if self.cfg.loss == "triplet":
                loss, t_part, b_part = triplet_step_loss(out, y, self.cfg.margin, self.cfg.mining)
                parts["train_triplet"] += t_part * len(y)
                parts["train_probe_bce"] += b_part * len(y)
            elif boundary:
                logit, pred = out
                target, weight = (t.to(self.env.device, non_blocking=True) for t in boundary)
                bce = F.binary_cross_entropy_with_logits(logit.flatten().float(), y)
                b_loss = boundary_loss(pred, target, weight)
                loss = bce + self.cfg.boundary_weight * b_loss
                parts["train_bce"] += float(bce) * len(y)
                parts["train_boundary"] += float(b_loss) * len(y)
            else:
                loss = F.binary_cross_entropy_with_logits(out.flatten().float(), y)
            self.opt.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.step(self.opt)
            self.scaler.update()
            if self.ema is not None:
                self.ema.update(unwrap(self.model))
            self.step += 1
            total_loss += float(loss) * len(y)
            seen += len(y)
            if parts:
                self.loss_parts = {k: v / seen for k, v in parts.items()}
        return total_loss / max(1, seen), seen, False

    def validate(self) -> Dict[str, Optional[float]]:
        out: Dict[str, Optional[float]] = {}
        for name, faces, store in (("val", self.splits.val, self.val_store), ("holdout", self.splits.holdout, self.hold_store)):
            if faces and store is not None:
                logits = predict(self.eval_model(), self.eval_loader(faces, store), self.env.device)
                out.update({f"{name}_{k}": v for k, v in eval_metrics(faces, logits).items()})
        return out

    def fit(self) -> None:
        cfg, env = self.cfg, self.env
        if env.is_main:
            self.run.mkdir(parents=True, exist_ok=True)
        D.barrier(env)
        if cfg.resume:
            self.resume()
        started = time.time()
        while self.epoch < cfg.epochs:
            t0 = time.time()
            train_loss, seen, cut = self.train_epoch(started)
            train_s = time.time() - t0
            self.epoch += 1
            stop = cut
            if env.is_main:
                row = {"epoch": self.epoch, "step": self.step, "lr": self.opt.param_groups[0]["lr"],
                       "train_loss": train_loss, **self.loss_parts,
                       "train_img_per_s": seen * env.world_size / max(train_s, 1e-9),
                       **self.validate()}
                row["seconds"] = time.time() - t0
                self.history.append(row)
                vloss = selection_loss(row, cfg.select)
                # Without validation data, the latest epoch counts as the best.
                if vloss is None or vloss < self.best_loss - 1e-4:
                    self.best_loss = vloss if vloss is not None else self.best_loss
                    self.best_epoch, self.bad_epochs = self.epoch, 0
                    torch.save({**self.meta(), "model": self.eval_model().state_dict(), "epoch": self.epoch,
                                "metrics": row}, self.run / "best.pt")
                else:
                    self.bad_epochs += 1
                if self.bad_epochs >= cfg.patience:
                    log(env, f"early stop: no val {cfg.select} gain for {cfg.patience} epochs")
                    stop = True
                self.reschedule(row["seconds"], started)
                self.elapsed += time.time() - started
                started = time.time()
                self.save()
                with (self.run / "log.jsonl").open("a") as fh:
                    fh.write(json.dumps(row) + "\n")
                save_plot(self.history, self.run / "loss.png")
                log(env, " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
                if self.budget_left(started) <= 0:
                    stop = True
            if D.broadcast_flag(env, stop):
                break
            # Keep every rank's schedule horizon equal to rank 0's.
            self.total_steps = self.broadcast_int(self.total_steps)

    def broadcast_int(self, v: int) -> int:
        if not self.env.distributed:
            return v
        t = torch.tensor([v], device=self.env.device)
        torch.distributed.broadcast(t, src=0)
        return int(t.item())

    def reschedule(self, epoch_seconds: float, started: float) -> None:
        """With a time budget, shorten the cosine horizon to the epochs that fit, so the LR still anneals."""
        left = self.budget_left(started)
        if math.isinf(left) or epoch_seconds <= 0:
            return
        fit = self.epoch + max(0, int(left // epoch_seconds))
        self.total_steps = min(self.cfg.epochs, max(fit, self.epoch + 1)) * self.steps_per_epoch


# --select: the validation column each criterion reads. Frame level counts every frame of a multi-frame
# video (e.g. a face-track clip) once per frame, video level each video once.
SELECT_COLUMNS = {"auc": "val_frame_auc", "logloss": "val_frame_logloss",
                  "video-auc": "val_video_auc", "video-logloss": "val_video_logloss"}


def selection_loss(row: Dict, select: str) -> Optional[float]:
    """Lower is better: a validation log loss, or minus an AUC; None without validation data. Raw log
    loss punishes the over-confidence that temperature calibration removes afterwards, so `auc` is the
    default."""
    metric = row.get(SELECT_COLUMNS[select])
    if metric is None:
        return None
    return -metric if select.endswith("auc") else metric


def augment_config(cfg: TrainConfig) -> Optional[AugmentConfig]:
    """The augmentation preset `--augment` names (None for `none`), with `--jpeg-scale` applied."""
    preset = AUGMENT_PRESETS.get(cfg.augment)
    return dataclasses.replace(preset, jpeg_scale=tuple(cfg.jpeg_scale)) if preset is not None and tuple(cfg.jpeg_scale) != (1.0, 1.0) else preset


def check_common(cfg: TrainConfig) -> None:
    """Options shared by frame and clip training."""
    if cfg.batch_size % 2:
        raise ValueError("--batch-size must be even (REAL/FAKE pairs)")
    if cfg.augment not in (*AUGMENT_PRESETS, "none"):
        raise ValueError(f"--augment must be one of {', '.join(AUGMENT_PRESETS)}, none")
    lo, hi = cfg.jpeg_scale
    if not 1.0 <= lo <= hi:
        raise ValueError(f"--jpeg-scale is a range of sides (multiples of the image's), 1 <= LO <= HI; got {lo:g} {hi:g}")
    if (lo, hi) != (1.0, 1.0) and cfg.augment == "none":
        raise ValueError("--jpeg-scale changes the augmentation's JPEG step: it needs --augment light or strong")
    if cfg.sbi_style not in SBI_PRESETS:
        raise ValueError(f"--sbi-style must be one of {', '.join(SBI_PRESETS)}")
    if cfg.select not in SELECT_COLUMNS:
        raise ValueError(f"--select must be one of {', '.join(SELECT_COLUMNS)}")
    if not 0.0 <= cfg.ema < 1.0:
        raise ValueError(f"--ema must be in [0, 1), got {cfg.ema}")
    if cfg.zero_gamma and not cfg.arch.startswith("efficientnet-"):
        raise ValueError(f"--zero-gamma applies to the efficientnet archs (the {cfg.arch} blocks need no option)")
    if cfg.zero_gamma and cfg.init:
        raise ValueError("--zero-gamma initialises a network trained from scratch; --init replaces those weights")
    if cfg.boundary_weight < 0:
        raise ValueError(f"--boundary-weight must be >= 0, got {cfg.boundary_weight}")
    if cfg.boundary_weight > 0 and cfg.loss != "bce":
        raise ValueError("--boundary-weight is an auxiliary target beside the BCE loss; not with --loss triplet")
    if cfg.boundary_weight > 0 and cfg.sbi_ratio <= 0:
        raise ValueError("--boundary-weight needs self-blended fakes (--sbi-ratio > 0): only they have a known boundary")
    if not 0.0 <= cfg.cross_blend <= 1.0:
        raise ValueError(f"--cross-blend is a share of the synthetic fakes, in [0, 1]; got {cfg.cross_blend}")
    if cfg.cross_blend > 0 and cfg.sbi_ratio <= 0:
        raise ValueError("--cross-blend replaces some self-blends: it needs --sbi-ratio > 0")


def calibrate(trainer: Trainer, band: M.DecisionBand = M.DecisionBand()) -> Dict:
    """Reload the best weights, fit the temperature on validation logits, and report final metrics."""
    run = trainer.run
    best = load_checkpoint(run / "best.pt", trainer.env.device)
    model = unwrap(trainer.model)
    model.load_state_dict(best["model"])
    s = trainer.splits
    metrics: Dict[str, Optional[float]] = {}
    temperature = 1.0
    if s.val and trainer.val_store is not None:
        logits = predict(model, trainer.eval_loader(s.val, trainer.val_store), trainer.env.device)
        labels = [f.label for f in s.val]
        metrics.update(eval_metrics(s.val, logits))
        temperature = M.fit_temperature(labels, logits)
        vy, vz = M.group_mean([f.key for f in s.val], labels, logits)
        metrics["frame_logloss_calibrated"] = M.log_loss(labels, logits, temperature)
        metrics["video_logloss_calibrated"] = M.log_loss(vy, vz, temperature)
        metrics.update({f"frame_{k}": v for k, v in M.band_stats(labels, logits, temperature, band).items()})
    if s.holdout and trainer.hold_store is not None:
        logits = predict(model, trainer.eval_loader(s.holdout, trainer.hold_store), trainer.env.device)
        metrics.update({f"holdout_{k}": v for k, v in eval_metrics(s.holdout, logits).items()})
    if s.test:
        store = ImageStore([f.image for f in s.test], trainer.cfg.size, cache=False, fraction=s.fraction)
        logits = predict(model, trainer.eval_loader(s.test, store), trainer.env.device)
        metrics.update({f"test_{k}": v for k, v in eval_metrics(s.test, logits).items()})
    summary = {
        "best_epoch": best["epoch"], "epochs_run": trainer.epoch, "temperature": temperature,
        "decision": {"realBelow": band.real_below, "fakeAbove": band.fake_above},
        "metrics": metrics,
        "data": sorted({f"{f.dataset}:{f.split}" for f in s.train + s.val + s.holdout + s.test}),
        "train_faces": len(s.train), "val_faces": len(s.val), "holdout_faces": len(s.holdout),
        "test_faces": len(s.test),
    }
    (run / "final.json").write_text(json.dumps(summary, indent=2))
    return summary


def run_training(cfg, make_trainer, calibrate_fn) -> Optional[Dict]:
    """Process set-up, fit, calibration and tear-down shared by frame (`train`) and clip training
    (`clip_train.train_clips`): `make_trainer(cfg, env)` builds the trainer, `calibrate_fn(trainer)`
    returns the run's summary (on the main rank)."""
    env = D.setup()
    try:
        torch.set_num_threads(cfg.threads)
        # Denormal floats (tiny activations/gradients) are very slow on x86 CPUs: measured
        # 171 -> 273 img/s for resnet_s on 2 cores with flushing. No effect on GPUs.
        np.finfo(np.float32), np.finfo(np.float64)  # cache numpy's limits before flushing (avoids a warning)
        torch.set_flush_denormal(True)
        seed_everything(cfg.seed + env.rank)
        if env.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        trainer = make_trainer(cfg, env)
        trainer.fit()
        summary = calibrate_fn(trainer) if env.is_main else None
        if summary:
            log(env, json.dumps(summary["metrics"]) + f" T={summary['temperature']:.3f}")
        # Free the DDP model (its reducer holds the process group) while every rank is still here:
        # freed after the other rank had exited, gloo's teardown hung now and then (tests/test_ddp.py)
        del trainer
        gc.collect()
        D.barrier(env)
        return summary
    finally:
        torch.set_flush_denormal(False)
        D.teardown(env)


def train(cfg: TrainConfig) -> Optional[Dict]:
    return run_training(cfg, Trainer, calibrate)


def command_line() -> str:
    return " ".join(["python -m unmask_train", *sys.argv[1:]])
