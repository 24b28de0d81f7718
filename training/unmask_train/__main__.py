"""CLI: `python -m unmask_train train|export|ensemble|half-weights|quantize|import-mesonet ...` (run from training/)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Type

import torch


def _train(a: argparse.Namespace) -> int:
    import os

    from .ensemble_runs import plan_members, write_ensemble_manifest
    from .model import default_size, min_size
    from .models_temporal import is_temporal
    from .train import TrainConfig, command_line, train

    cfg = TrainConfig(
        crops=a.crops, out=a.out, arch=a.arch, size=a.size or default_size(a.arch), epochs=a.epochs,
        max_minutes=a.max_minutes, seed=a.seed,
        sbi_ratio=a.sbi_ratio, real_dirs=a.real_dirs, batch_size=a.batch_size, lr=a.lr, weight_decay=a.weight_decay,
        warmup_epochs=a.warmup_epochs, patience=a.patience, select=a.select, holdout_frac=a.holdout_frac,
        samples_per_epoch=a.samples_per_epoch, workers=a.workers, threads=a.threads, cache=not a.no_cache,
        resume=a.resume, augment=a.augment, sbi_style=a.sbi_style, ema=a.ema, command=command_line(),
        loss=a.loss, margin=a.margin, mining=a.mining, init=a.init, freeze_backbone=a.freeze_backbone,
        unfreeze=a.unfreeze, unfreeze_epochs=a.unfreeze_epochs, balance=a.balance,
        folds=a.folds, fold=a.fold or 0, bagging=a.bagging, bag=a.bag or 0, val_limit=a.val_limit,
        zero_gamma=a.zero_gamma, boundary_weight=a.boundary_weight, crop_margin=a.crop_margin, precrop=a.precrop,
        cross_blend=a.cross_blend, jpeg_scale=tuple(a.jpeg_scale),
    )
    if cfg.size < min_size(a.arch):  # before the crops are decoded
        raise SystemExit(f"error: --arch {a.arch} needs --size {min_size(a.arch)} or more (got {cfg.size})")
    if is_temporal(a.arch) and a.crop_margin is not None:
        raise SystemExit("error: --crop-margin applies to frame archs only (clips keep their crops' margin)")
    if is_temporal(a.arch) and a.precrop:
        raise SystemExit("error: --precrop applies to frame archs only")
    if is_temporal(a.arch) and a.cross_blend:
        raise SystemExit("error: --cross-blend applies to frame archs only")
    if is_temporal(a.arch) and tuple(a.jpeg_scale) != (1.0, 1.0):
        raise SystemExit("error: --jpeg-scale applies to frame archs only")
    if not 0 <= a.precrop <= 1:
        raise SystemExit(f"error: --precrop is a share of the training images, in [0, 1]; got {a.precrop}")
    if is_temporal(a.arch):  # clips of consecutive crops (clip_train.py)
        from .clip_train import clip_config, train_clips as train  # noqa: F811

        cfg = clip_config(cfg, clip_len=a.clip_len, clip_stride=a.clip_stride, rnn=a.rnn, backbone=a.backbone,
                          max_gap=a.max_gap, sbi_flicker=a.sbi_flicker, still_crops=a.still_crops)
    elif a.sbi_flicker or a.still_crops:
        raise SystemExit("error: --sbi-flicker and --still-crops apply to temporal archs (c3d, rnn, ftcn) only")
    members = plan_members(cfg, all_folds=a.fold is None, all_bags=a.bag is None, seeds=a.seeds)
    if len(members) > 1 and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise SystemExit("under torchrun, train one member per invocation (--fold I, --bag I, one --seeds value), "
                         "then join them with `python -m unmask_train ensemble`")
    name = a.name or f"unmask-{a.arch}"
    manifests = []
    for m in members:
        if m.suffix:
            print(f"=== member {m.suffix}: {m.cfg.out}", flush=True)
        summary = train(m.cfg)
        if summary is not None and a.export:
            from .export import export_run

            onnx_path, man_path, check = export_run(Path(m.cfg.out), Path(a.export),
                                                    f"{name}-{m.suffix}" if m.suffix else name,
                                                    explain=not a.no_explain)
            manifests.append(man_path)
            print(json.dumps({"onnx": str(onnx_path), "manifest": str(man_path), **check}))
    if len(manifests) > 1:
        ens = write_ensemble_manifest(Path(a.export) / f"{name}.ensemble.json", name, manifests,
                                      f"{len(manifests)} members ({', '.join(m.suffix for m in members)}); {command_line()}")
        print(json.dumps({"ensemble": str(ens)}))
    return 0


def _ensemble(a: argparse.Namespace) -> int:
    from .ensemble_runs import write_ensemble_manifest

    out = write_ensemble_manifest(Path(a.out), a.name, [Path(m) for m in a.manifests], a.notes)
    print(json.dumps({"ensemble": str(out)}))
    return 0


def _report(write: Callable[[], Tuple[Path, Path, Dict]], refusal: Tuple[Type[Exception], ...] | Type[Exception] = ()) -> int:
    """Runs a command that writes an ONNX file and its manifest: prints both paths and its checks as
    one JSON line (exit 0), or a `refusal` as one error line (exit 1)."""
    try:
        onnx_path, man_path, check = write()
    except refusal as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"onnx": str(onnx_path), "manifest": str(man_path), **check}))
    return 0


def _export(a: argparse.Namespace) -> int:
    from .export import export_run

    return _report(lambda: export_run(Path(a.run), Path(a.out), a.name, a.version, a.weights, a.opset,
                                      explain=not a.no_explain))


def _half_weights(a: argparse.Namespace) -> int:
    from .half_weights import HalfWeightsError, convert_export

    return _report(lambda: convert_export(Path(a.manifest), Path(a.out), a.name), HalfWeightsError)


def _quantize(a: argparse.Namespace) -> int:
    from .quantize import QuantizeError, convert_export

    return _report(lambda: convert_export(Path(a.manifest), Path(a.crops), Path(a.out), a.name,
                                          calib=a.calib, check=a.check, seed=a.seed), QuantizeError)


def _sharpness(a: argparse.Namespace) -> int:
    from .data import CropDataError
    from .sharpness import SharpnessError, export_sharpness

    return _report(lambda: export_sharpness(Path(a.crops), Path(a.out), a.name, a.middle),
                   (SharpnessError, CropDataError, FileNotFoundError))


def _landmarks(a: argparse.Namespace) -> int:
    from .faceapi_landmarks import LANDMARKS_FILE, write_crop_landmarks

    counts = write_crop_landmarks(Path(a.crops), only_real=not a.all_faces)
    print(json.dumps({"landmarks": str(Path(a.crops) / LANDMARKS_FILE), **counts}))
    return 0


def _import_mesonet(a: argparse.Namespace) -> int:
    from .peer_mesonet import import_mesonet

    return _report(lambda: import_mesonet(Path(a.weights), Path(a.out), a.name, a.positive, a.margin))


def parser() -> argparse.ArgumentParser:
    from .augment import AUGMENT_PRESETS
    from .model import arch_names
    from .sbi import SBI_PRESETS
    from .sharpness import MIDDLE
    from .models_temporal import temporal_arch_names
    from .train import SELECT_COLUMNS

    p = argparse.ArgumentParser(prog="python -m unmask_train")
    sub = p.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("train", help="train a frame classifier on `unmask extract` crops")
    t.add_argument("--crops", nargs="+", required=True, help="crops dir(s) written by `unmask extract`")
    t.add_argument("--out", required=True, help="run dir, e.g. runs/sbi-small (checkpoints, log.jsonl, loss.png)")
    t.add_argument("--arch", default="resnet_s", choices=arch_names() + temporal_arch_names(),
                   help="frame model, or a temporal (clip) model: c3d, rnn, ftcn")
    t.add_argument("--size", type=int, default=None,
                   help="model input side in pixels (default per arch: 128; efficientnet-bN 224-528, xception 299)")
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
    t.add_argument("--select", default="auc", choices=list(SELECT_COLUMNS),
                   help="validation criterion for best.pt and early stopping: frame AUC, raw frame log loss, "
                        "or the same per video (each video counts once, however many frames it has)")
    t.add_argument("--holdout-frac", type=float, default=0.0, help="train faces held out by identity component")
    t.add_argument("--samples-per-epoch", type=int, default=None, help="default: number of training faces")
    t.add_argument("--workers", type=int, default=1, help="DataLoader worker processes")
    t.add_argument("--threads", type=int, default=2, help="torch intra-op threads per process")
    t.add_argument("--no-cache", action="store_true", help="decode crops on the fly instead of preloading them")
    t.add_argument("--augment", default="light", choices=[*AUGMENT_PRESETS, "none"],
                   help="augmentation preset: light (default), strong (DFDC-winner strength, long runs), none")
    t.add_argument("--sbi-style", default="basic", choices=list(SBI_PRESETS),
                   help="self-blending: basic = the pasted face altered; sta = the paper's source-target "
                        "augmentation (either side altered, blocky downscales too); colour = colour change "
                        "and movement only, never a sharpness change; parts = basic, but half the masks "
                        "cover only the inner or the lower face (where re-enactment edits); landmarks = basic, "
                        "the mask the hull of the jaw line and brows (face-api's 68 landmarks, see the "
                        "`landmarks` command) as in the SBI paper")
    t.add_argument("--ema", type=float, default=0.0,
                   help="> 0: validate, keep and export a moving average of the weights with this decay (e.g. 0.99)")
    t.add_argument("--resume", action="store_true", help="continue from <out>/last.pt")
    t.add_argument("--zero-gamma", action="store_true",
                   help="efficientnet archs from scratch: zero the last BatchNorm scale of every skip block, so "
                        "each starts as an identity (on 2 CPU cores B0/B4 leave the loss plateau in minutes)")
    t.add_argument("--boundary-weight", type=float, default=0.0,
                   help="> 0: frame archs also learn to locate each self-blend's blending boundary (Face X-ray), "
                        "a training-only head on a mid-level feature map; this weight times its per-pixel BCE "
                        "joins the loss (e.g. 1)")
    t.add_argument("--loss", default="bce", choices=["bce", "triplet"],
                   help="triplet: train the embedding with triplet margin loss (+ a linear probe), then --init a bce run")
    t.add_argument("--margin", type=float, default=0.3, help="triplet margin (L2-normalised embeddings)")
    t.add_argument("--mining", default="batch-hard", choices=["batch-hard", "random"], help="triplets from each batch")
    t.add_argument("--init", default=None, help="start from this run dir (best.pt) or checkpoint of the same --arch; "
                   "`faceapi` (--arch faceres or faceres-local): face-api.js's face-recognition weights from node_modules; "
                   "`nsfwjs` (--arch mobilenetv2, mobilenetv2-140 or inceptionv3): the ImageNet-derived MobileNetV2s (width 1.0 / 1.4) and InceptionV3 that the npm package nsfwjs ships")
    t.add_argument("--freeze-backbone", action="store_true", help="train only the head (e.g. after a triplet run)")
    t.add_argument("--unfreeze", default="none", choices=["none", "greedy"],
                   help="greedy: train the head first, then unfreeze one layer group per --unfreeze-epochs, top down")
    t.add_argument("--unfreeze-epochs", type=int, default=1, help="epochs per greedy unfreezing stage")
    t.add_argument("--balance", default="pairs", choices=["pairs", "sampler", "none"],
                   help="pairs: REAL/FAKE pairs (default); sampler: class-balanced draws; none: natural class ratio")
    t.add_argument("--folds", type=int, default=0, help="k folds by identity; the held-out fold gives holdout_* metrics")
    t.add_argument("--fold", type=int, default=None, help="train this fold only (default with --folds: every fold)")
    t.add_argument("--bagging", type=int, default=0,
                   help="K balanced bags: all minority faces + 1/K of the majority each; one model per bag")
    t.add_argument("--bag", type=int, default=None, help="train this bag only (default with --bagging: every bag)")
    t.add_argument("--seeds", type=int, nargs="+", default=None, help="one run per seed (an ensemble with --export)")
    t.add_argument("--val-limit", type=int, default=0,
                   help="evaluate on about this many val (and test) faces (whole videos, half FAKE); short CPU runs")
    t.add_argument("--crop-margin", type=float, default=None,
                   help="crop margin the network sees (default: the crops'); a tighter one trains on the centred "
                        "part of each crop, and scans cut faces with it (e.g. 0.15 of crops written with 0.3)")
    t.add_argument("--precrop", type=float, default=0.0,
                   help="share of training images (REAL and FAKE alike) shown as a face picture cut tight around "
                        "the face: black beyond 0.9-1.3 face boxes, as a scan pads such a picture (default 0)")
    t.add_argument("--jpeg-scale", type=float, nargs=2, default=[1.0, 1.0], metavar=("LO", "HI"),
                   help="side, a multiple of the training image's, drawn from [LO, HI] for each JPEG round trip of "
                        "the augmentation: enlarged, compressed, shrunk back, so its 8x8 blocks land finer, as in faces "
                        "scanned from small compressed pictures (e.g. 2 3; default 1 1: at the image's own side)")
    t.add_argument("--cross-blend", type=float, default=0.0,
                   help="share of the synthetic fakes that paste another person's face (of the nearest landmark "
                        "shape, warped and colour-matched: Face X-ray's blended images) instead of the face's "
                        "own; needs the `landmarks` command's output (default 0: self-blends only)")
    t.add_argument("--no-explain", action="store_true", help="export without the explanation-map output")
    c = t.add_argument_group("temporal archs (c3d, rnn, ftcn): clips of consecutive crops (`unmask extract --sample clip:N`)")
    c.add_argument("--clip-len", type=int, default=16, help="frames per clip (T)")
    c.add_argument("--clip-stride", type=int, default=None, help="validation/scan window stride (default T/2)")
    c.add_argument("--rnn", default="gru", choices=["gru", "lstm"], help="rnn: bidirectional GRU or LSTM")
    c.add_argument("--backbone", default="resnet_xs", choices=arch_names(),
                   help="rnn: frame arch embedding each frame (--init a run of it to start from its weights)")
    c.add_argument("--max-gap", type=int, default=0, help="cut a track where it misses more sampled frames than this")
    c.add_argument("--sbi-flicker", type=float, default=0.0,
                   help="self-blended clips: each frame's pasted face wobbles around the clip's draw with this "
                        "strength (1 = shift 2%% of the side, scale 2%%, blend ratio 0.1, tone 0.02), the "
                        "frame-to-frame incoherence of frame-by-frame swaps; 0 = one draw per clip")
    c.add_argument("--still-crops", nargs="+", default=[],
                   help="crops dirs of still pictures whose REAL `train` faces join training as clips with "
                        "synthetic camera motion (a drift plus face-box jitter), for identity diversity")
    t.add_argument("--export", default=None, help="after training, export ONNX + manifest to this dir")
    t.add_argument("--name", default=None, help="model name for --export (default unmask-<arch>)")
    t.set_defaults(func=_train)

    e = sub.add_parser("export", help="export a run to <out>/<name>.onnx + <name>.manifest.json")
    e.add_argument("--run", required=True, help="run dir with best.pt and final.json")
    e.add_argument("--out", required=True)
    e.add_argument("--name", required=True)
    e.add_argument("--version", default="0.1.0")
    e.add_argument("--weights", default="best",
                   help="best (default), last, or epoch:N (the weights after epoch N, from epoch_NNN.pt); a "
                        "non-best epoch gets its own validation metrics and temperature 1")
    e.add_argument("--opset", type=int, default=13)
    e.add_argument("--threads", type=int, default=2)
    e.add_argument("--no-explain", action="store_true", help="no explanation-map output (Grad-CAM / attention)")
    e.set_defaults(func=_export)

    n = sub.add_parser("ensemble", help="write an ensemble manifest (unmask.ensemble/1) listing member manifests")
    n.add_argument("manifests", nargs="+", help="member model manifests (*.manifest.json)")
    n.add_argument("--out", required=True, help="ensemble manifest path, e.g. ../models/x.ensemble.json")
    n.add_argument("--name", required=True)
    n.add_argument("--notes", default="")
    n.add_argument("--threads", type=int, default=2)
    n.set_defaults(func=_ensemble)

    def copy_parser(name: str, help: str, default_name: str) -> argparse.ArgumentParser:
        """A converter of one exported frame model into a copy beside it (half-weights, quantize)."""
        c = sub.add_parser(name, help=help)
        c.add_argument("manifest", help="the exported model's *.manifest.json")
        c.add_argument("--out", required=True, help="folder for <name>.onnx + <name>.manifest.json")
        c.add_argument("--name", default=None, help=f"model name of the copy (default: {default_name})")
        c.add_argument("--threads", type=int, default=2)
        return c

    copy_parser("half-weights", "copy an exported frame model with its weights stored as float16 (half the file; "
                "computation stays float32; logits checked against the original)", "the source's").set_defaults(func=_half_weights)

    q = copy_parser("quantize", "copy an exported frame model with int8 convolutions (QDQ, calibrated on training-split "
                    "crops; about half the CPU per face for plain conv nets; logits checked against the original)",
                    "the source's name + -int8")
    q.add_argument("--crops", required=True, help="crops folder written by `unmask extract` (its train split calibrates)")
    q.add_argument("--calib", type=int, default=256, help="training crops whose activation ranges set the scales")
    q.add_argument("--check", type=int, default=256, help="other training crops on which the copy is compared with the original")
    q.add_argument("--seed", type=int, default=0)
    q.set_defaults(func=_quantize)

    sh = sub.add_parser("sharpness", help="write the hand-made sharpness cue (no training: log mean |Laplacian| of the "
                        "crop's middle, centred on the REAL training faces) as ONNX + manifest, a stack member")
    sh.add_argument("--crops", required=True, help="crops folder written by `unmask extract` (its train split's REAL faces set the centre)")
    sh.add_argument("--out", required=True, help="folder for <name>.onnx + <name>.manifest.json")
    sh.add_argument("--name", required=True)
    sh.add_argument("--middle", type=float, default=MIDDLE, help="side of the measured middle square, as a share of the crop side")
    sh.add_argument("--threads", type=int, default=2)
    sh.set_defaults(func=_sharpness)

    lm = sub.add_parser("landmarks", help="put face-api's 68 landmarks on the REAL crops of `unmask extract` "
                        "(<crops>/landmarks68.json), for `train --sbi-style landmarks`")
    lm.add_argument("--crops", required=True, help="directory written by `unmask extract`")
    lm.add_argument("--all-faces", action="store_true", help="FAKE crops too (self-blending uses REAL ones only)")
    lm.add_argument("--threads", type=int, default=2)
    lm.set_defaults(func=_landmarks)

    m = sub.add_parser("import-mesonet", help="convert a published MesoNet Keras .h5 (Meso4 or MesoInception4) to "
                       "ONNX + manifest, to measure that peer with `unmask eval` (never shipped)")
    m.add_argument("weights", help="the authors' Keras weight file, e.g. Meso4_DF.h5")
    m.add_argument("--out", required=True, help="folder for <name>.onnx + <name>.manifest.json")
    m.add_argument("--name", required=True)
    m.add_argument("--positive", default="real", choices=["real", "fake"],
                   help="which class the file's sigmoid output stands for (the authors' folders sort REAL "
                        "second, so real); the export's output is always the logit of FAKE")
    m.add_argument("--margin", type=float, default=0.3, help="crop margin the scan cuts faces with")
    m.add_argument("--threads", type=int, default=2)
    m.set_defaults(func=_import_mesonet)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    a = parser().parse_args(argv)
    torch.set_num_threads(a.threads)
    from .export import ExportError

    try:
        return a.func(a)
    except (ValueError, FileNotFoundError, ExportError) as e:
        # Bad options or inputs (CropDataError is a ValueError): one line, no stack trace.
        print(f"unmask_train: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
