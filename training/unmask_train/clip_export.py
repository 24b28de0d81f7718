"""Export of a temporal (clip) run: ONNX `input` [N, 3, T, S, S] (NCTHW, dynamic N, fixed T) -> `logit` [N, 1],
and a manifest of kind `clip` (src/models/manifest.ts) that tells the scanner the clip length, the window
stride, the track-gap rule and the frames to sample. Checked like frame exports (export.py): onnx.checker,
then ONNX vs PyTorch on a random batch with the first runtime available, within 1e-4.
"""
from __future__ import annotations

import inspect
import json
import time
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import onnx
import torch
from torch import nn

from .export import (DATA_NOTE, RUNTIMES, ExportError, build_manifest, check_manifest, checkpoint_path, read_final,
                     validated_weights)
from .model import count_params, load_checkpoint
from .models_temporal import ClipSpec, build_clip_model


def is_clip_checkpoint(ckpt: Dict) -> bool:
    return ckpt.get("kind") == "clip"


def spec_of(ckpt: Dict) -> ClipSpec:
    return ClipSpec(size=int(ckpt["size"]), clip_len=int(ckpt["clip_len"]), rnn=ckpt.get("rnn", "gru"),
                    backbone=ckpt.get("backbone", "resnet_xs"))


def load_clip_run(run_dir: Path, weights: str = "best") -> Tuple[nn.Module, Dict, Dict]:
    ckpt = load_checkpoint(checkpoint_path(run_dir, weights))
    if not is_clip_checkpoint(ckpt):
        raise ExportError(f"{checkpoint_path(run_dir, weights)} is not a clip run")
    model = build_clip_model(ckpt["arch"], spec_of(ckpt))
    model.load_state_dict(validated_weights(ckpt))
    model.eval()
    return model, ckpt, read_final(run_dir, ckpt.get("epoch"))


def clip_shape(spec: ClipSpec) -> Tuple[int, int, int, int]:
    """One sample's shape: (C, T, H, W)."""
    return (3, spec.clip_len, spec.size, spec.size)


def export_clip_onnx(model: nn.Module, spec: ClipSpec, path: Path, opset: int = 13) -> None:
    kwargs = dict(input_names=["input"], output_names=["logit"], opset_version=opset, do_constant_folding=True,
                  dynamic_axes={"input": {0: "N"}, "logit": {0: "N"}})
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:  # keep the TorchScript exporter (export.py)
        kwargs["dynamo"] = False
    with torch.no_grad():
        torch.onnx.export(model, torch.zeros(2, *clip_shape(spec)), str(path), **kwargs)


def check_clip_graph(path: Path, spec: ClipSpec) -> None:
    m = onnx.load(str(path))
    onnx.checker.check_model(m)
    inputs = [i for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}]
    if [i.name for i in inputs] != ["input"] or [o.name for o in m.graph.output] != ["logit"]:
        raise ExportError(f"unexpected graph io: {[i.name for i in inputs]} -> {[o.name for o in m.graph.output]}")
    dims = inputs[0].type.tensor_type.shape.dim
    if not dims[0].dim_param or tuple(d.dim_value for d in dims[1:]) != clip_shape(spec):
        raise ExportError(f"input shape is not [N,{','.join(map(str, clip_shape(spec)))}]")


def verify_clip_onnx(model: nn.Module, path: Path, spec: ClipSpec, atol: float = 1e-4,
                     batch: int = 3) -> Tuple[Optional[str], float]:
    """(runtime, max |torch - onnx|) on a random batch (of another size than the export's dummy batch)."""
    x = torch.rand(batch, *clip_shape(spec), generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        ref = model(x).numpy()
    for name, run in RUNTIMES:
        got = run(path, x.numpy())
        if got is None:
            continue
        got = np.asarray(got[0] if isinstance(got, (list, tuple)) else got)  # runtimes may return every output
        if got.shape != ref.shape:
            raise ExportError(f"{name}: output shape {got.shape}, torch {ref.shape}")
        err = float(np.abs(got - ref).max())
        if err > atol:
            raise ExportError(f"{name}: ONNX and PyTorch differ by {err:.3g} > {atol}")
        return name, err
    return None, float("nan")


def torch_cpu_ms_per_clip(model: nn.Module, spec: ClipSpec, batch: int = 8, repeats: int = 5) -> float:
    x = torch.rand(batch, *clip_shape(spec))
    with torch.no_grad():
        model(x)
        t = time.perf_counter()
        for _ in range(repeats):
            model(x)
    return (time.perf_counter() - t) / repeats / batch * 1000


def scan_sampling(ckpt: Dict) -> str:
    """The `--sample` policy scan should use: the longest `clip:N` run the training records were extracted
    with (records of stills carry other policies, which do not matter); else clip:max(32, 2T)."""
    t = int(ckpt["clip_len"])
    counts = [int(p["count"]) for p in ckpt.get("sampling") or [] if isinstance(p, dict) and p.get("kind") == "clip"]
    return f"clip:{max(max(counts), t)}" if counts else f"clip:{max(32, 2 * t)}"


def build_clip_manifest(name: str, version: str, ckpt: Dict, final: Dict, notes: str) -> Dict:
    m = build_manifest(name, version, ckpt, final, notes)
    m["kind"] = "clip"
    m["input"].update(layout="NCTHW", clipLength=int(ckpt["clip_len"]), clipStride=int(ckpt["clip_stride"]),
                      clipMaxGap=int(ckpt.get("max_gap", 0)), sampling=scan_sampling(ckpt))
    m["output"] = {"meaning": "logit_fake"}
    arch = str(ckpt["arch"])
    if arch == "rnn":
        arch = f"rnn ({ckpt.get('rnn')} over {ckpt.get('backbone')})"
    m["training"]["arch"] = arch
    return m


def check_clip_manifest(m: Dict) -> None:
    def need(cond: bool, what: str) -> None:
        if not cond:
            raise ExportError(f"manifest: {what}")

    need(m.get("kind") == "clip" and m["input"]["layout"] == "NCTHW", "kind/layout")
    t = m["input"].get("clipLength")
    need(isinstance(t, int) and t >= 1, "input.clipLength")
    need(isinstance(m["input"].get("clipStride"), int) and 1 <= m["input"]["clipStride"] <= t, "input.clipStride")
    need(isinstance(m["input"].get("clipMaxGap"), int) and m["input"]["clipMaxGap"] >= 0, "input.clipMaxGap")
    # Everything else is what a frame manifest must satisfy too.
    check_manifest({**m, "kind": "frame", "input": {**m["input"], "layout": "NCHW"}})


def export_clip_run(run_dir: Path, out_dir: Path, name: str, version: str = "0.1.0", weights: str = "best",
                    opset: int = 13) -> Tuple[Path, Path, Dict]:
    model, ckpt, final = load_clip_run(run_dir, weights)
    spec = spec_of(ckpt)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{name}.onnx"
    export_clip_onnx(model, spec, onnx_path, opset)
    check_clip_graph(onnx_path, spec)
    runtime, err = verify_clip_onnx(model, onnx_path, spec)
    if runtime is None:
        print("warning: no ONNX runtime available; ONNX output not compared with PyTorch", flush=True)
    ms = torch_cpu_ms_per_clip(model, spec)
    sbi = ckpt.get("config", {}).get("sbi_ratio")
    notes = (f"{DATA_NOTE} {count_params(model) / 1e6:.2f} M params; self-blended share of FAKE clips {sbi}; "
             f"clips of {spec.clip_len} consecutive "
             f"{spec.size} px crops (NCTHW); windows of stride {ckpt['clip_stride']} per track, short tracks padded by "
             f"reflection, frame logit = mean of the clips covering it; temperature fitted on the validation frame "
             f"logits (calibrated log loss is optimistic); PyTorch CPU {ms:.1f} ms/clip at batch 8 with "
             f"{torch.get_num_threads()} threads.")
    manifest = build_clip_manifest(name, version, ckpt, final, notes)
    check_clip_manifest(manifest)
    man_path = out_dir / f"{name}.manifest.json"
    man_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return onnx_path, man_path, {"runtime": runtime, "max_abs_diff": err, "torch_cpu_ms_per_clip": ms}


def maybe_export_clip_run(run_dir: Path, out_dir: Path, name: str, version: str, weights: str,
                          opset: int) -> Optional[Tuple[Path, Path, Dict]]:
    """export_clip_run when the `weights` checkpoint is a clip run, else None (export.export_run's hook,
    which reports a bad or missing checkpoint)."""
    try:
        path = checkpoint_path(run_dir, weights)
    except ExportError:
        return None
    if not is_clip_checkpoint(load_checkpoint(path)):
        return None
    return export_clip_run(run_dir, out_dir, name, version, weights, opset)


__all__: Sequence[str] = ("export_clip_run", "maybe_export_clip_run", "is_clip_checkpoint", "load_clip_run")
