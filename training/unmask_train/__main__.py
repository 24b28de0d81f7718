"""CLI: `python -m unmask_train train ...` and `python -m unmask_train export ...` (run from training/)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

import torch


def _train(a: argparse.Namespace) -> int:
    from .train import TrainConfig, command_line, train

    cfg = TrainConfig(
        crops=a.crops, out=a.out, arch=a.arch, size=a.size, epochs=a.epochs, max_minutes=a.max_minutes, seed=a.seed,
        sbi_ratio=a.sbi_ratio, real_dirs=a.real_dirs, batch_size=a.batch_size, lr=a.lr, weight_decay=a.weight_decay,
        warmup_epochs=a.warmup_epochs, patience=a.patience, select=a.select, holdout_frac=a.holdout_frac,
        samples_per_epoch=a.samples_per_epoch, workers=a.workers, threads=a.threads, cache=not a.no_cache,
        resume=a.resume, augment=a.augment, command=command_line(),
    )
    summary = train(cfg)
    if summary is not None and a.export:
        from .export import export_run

        onnx_path, man_path, check = export_run(Path(a.out), Path(a.export), a.name or f"unmask-{a.arch}")
        print(json.dumps({"onnx": str(onnx_path), "manifest": str(man_path), **check}))
    return 0


def _export(a: argparse.Namespace) -> int:
    from .export import export_run

    onnx_path, man_path, check = export_run(Path(a.run), Path(a.out), a.name, a.version, a.weights, a.opset)
    print(json.dumps({"onnx": str(onnx_path), "manifest": str(man_path), **check}))
    return 0


def parser() -> argparse.ArgumentParser:
    from .model import arch_names

    p = argparse.ArgumentParser(prog="python -m unmask_train")
    sub = p.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("train", help="train a frame classifier on `unmask extract` crops")
    t.add_argument("--crops", nargs="+", required=True, help="crops dir(s) written by `unmask extract`")
    t.add_argument("--out", required=True, help="run dir, e.g. runs/sbi-small (checkpoints, log.jsonl, loss.png)")
    t.add_argument("--arch", default="resnet_s", choices=arch_names())
    t.add_argument("--size", type=int, default=128, help="model input side in pixels")
    t.add_argument("--epochs", type=int, default=30)
    t.add_argument("--max-minutes", type=float, default=None, help="wall-clock training budget (cosine LR fits into it)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--sbi-ratio", type=float, default=0.5, help="share of FAKE samples that are self-blended")
    t.add_argument("--real-dirs", nargs="*", default=[], help="extra crops dirs whose REAL faces join training")
    t.add_argument("--batch-size", type=int, default=32, help="per process, even")
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--weight-decay", type=float, default=0.02)
    t.add_argument("--warmup-epochs", type=float, default=1.0)
    t.add_argument("--patience", type=int, default=5, help="early stopping: epochs without validation gain")
    t.add_argument("--select", default="auc", choices=["auc", "logloss"],
                   help="validation criterion for best.pt and early stopping (frame AUC, or raw log loss)")
    t.add_argument("--holdout-frac", type=float, default=0.0, help="train faces held out by identity component")
    t.add_argument("--samples-per-epoch", type=int, default=None, help="default: number of training faces")
    t.add_argument("--workers", type=int, default=1, help="DataLoader worker processes")
    t.add_argument("--threads", type=int, default=2, help="torch intra-op threads per process")
    t.add_argument("--no-cache", action="store_true", help="decode crops on the fly instead of preloading them")
    t.add_argument("--augment", default="light", choices=["light", "strong", "none"],
                   help="augmentation preset: light (default), strong (DFDC-winner strength, long runs), none")
    t.add_argument("--resume", action="store_true", help="continue from <out>/last.pt")
    t.add_argument("--export", default=None, help="after training, export ONNX + manifest to this dir")
    t.add_argument("--name", default=None, help="model name for --export (default unmask-<arch>)")
    t.set_defaults(func=_train)

    e = sub.add_parser("export", help="export a run to <out>/<name>.onnx + <name>.manifest.json")
    e.add_argument("--run", required=True, help="run dir with best.pt and final.json")
    e.add_argument("--out", required=True)
    e.add_argument("--name", required=True)
    e.add_argument("--version", default="0.1.0")
    e.add_argument("--weights", default="best", choices=["best", "last"])
    e.add_argument("--opset", type=int, default=13)
    e.add_argument("--threads", type=int, default=2)
    e.set_defaults(func=_export)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    a = parser().parse_args(argv)
    torch.set_num_threads(a.threads)
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
