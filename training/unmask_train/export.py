"""Export a training run to ONNX plus the JSON manifest that `src/models/manifest.ts` validates.

The ONNX graph takes `input` [N, 3, S, S] float32 (RGB, (rgb/255 - mean)/std) and returns `logit`
[N, 1], the uncalibrated logit of FAKE, plus, for models with a features/GAP/linear head, a second
output with an explanation map [N, 1, h, w] (`cam`: Grad-CAM, or `attention` for attention models;
see explain.py) that the manifest names in `output.explanation`. The manifest carries mean/std, crop
policy, temperature and decision band. The export is checked with onnx.checker and by running the ONNX file with the
first available runtime (onnx reference evaluator, Python onnxruntime, or Node's onnxruntime-node
from the repository) against PyTorch.
"""
from __future__ import annotations

import datetime as _dt
import inspect
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from torch import nn

from .explain import ExplainedModel, explanation_kind
from .model import build_model, count_params, load_checkpoint

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_NOTE = ("Research-only training data (FaceForensics++, DFDC, CelebA, UTKFace: non-commercial research "
             "terms); the model file embeds none of it.")


class ExportError(RuntimeError):
    pass


def checkpoint_path(run_dir: Path, weights: str) -> Path:
    """`--weights` -> the run's checkpoint file: `best`, `last`, or `epoch:N` (epoch_NNN.pt, the
    weights after epoch N, as validated). A missing file is an ExportError naming it."""
    if weights in ("best", "last"):
        path = run_dir / f"{weights}.pt"
    else:
        m = re.fullmatch(r"epoch:(\d+)", weights)
        if not m:
            raise ExportError(f"--weights must be best, last or epoch:N, got {weights!r}")
        path = run_dir / f"epoch_{int(m.group(1)):03d}.pt"
    if not path.is_file():
        raise ExportError(f"no checkpoint {path}")
    return path


def load_run(run_dir: Path, weights: str = "best") -> Tuple[nn.Module, Dict, Dict]:
    """Model (eval mode, CPU) from the `weights` checkpoint (checkpoint_path), its metadata, and
    final.json (or {})."""
    ckpt = load_checkpoint(checkpoint_path(run_dir, weights))
    model = build_model(ckpt["arch"], ckpt["size"])
    model.load_state_dict(validated_weights(ckpt))
    model.eval()
    return model, ckpt, read_final(run_dir, ckpt.get("epoch"))


def validated_weights(ckpt: Dict) -> Dict:
    """The weights a checkpoint's epoch was validated with: last.pt keeps the raw weights for resuming
    beside the --ema average, which is what validation, best.pt and the epoch files hold."""
    return ckpt["ema"]["weights"] if ckpt.get("ema") else ckpt["model"]


def read_final(run_dir: Path, epoch: Optional[int]) -> Dict:
    """The run's final.json (or {}), as it applies to the weights of `epoch` (final_for_epoch)."""
    final_path = run_dir / "final.json"
    final = json.loads(final_path.read_text()) if final_path.is_file() else {}
    return final_for_epoch(run_dir, final, epoch)


def final_for_epoch(run_dir: Path, final: Dict, epoch: Optional[int]) -> Dict:
    """final.json describes the best epoch: its temperature was fitted on that epoch's validation
    logits and its metrics are that epoch's. For another epoch (`--weights last|epoch:N`) the manifest gets
    that epoch's validation metrics from log.jsonl and temperature 1 (uncalibrated), never the
    best epoch's figures."""
    best = final.get("best_epoch")
    if not final or epoch is None or best is None or int(epoch) == int(best):
        return final
    rows = []
    log = run_dir / "log.jsonl"
    if log.is_file():
        rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    row = next((r for r in rows if r.get("epoch") == epoch), {})
    metrics = {k[len("val_"):]: v for k, v in row.items() if k.startswith("val_")}
    print(f"note: exporting epoch {epoch}, not the best epoch {best}: the manifest gets epoch {epoch}'s validation "
          "metrics and temperature 1 (fit one with `unmask eval --fit-calibration`)", flush=True)
    return {**final, "best_epoch": int(epoch), "temperature": 1.0, "metrics": metrics}


def export_onnx(model: nn.Module, size: int, path: Path, opset: int = 13,
                explain: bool = True) -> Optional[Tuple[str, str]]:
    """Writes the ONNX file; returns (map output name, method) when a map output was added."""
    kind = explanation_kind(model) if explain else None
    net = ExplainedModel(model) if kind else model
    outputs = ["logit"] + ([kind[0]] if kind else [])
    dummy = torch.zeros(2, 3, size, size)
    kwargs = dict(input_names=["input"], output_names=outputs, opset_version=opset, do_constant_folding=True,
                  dynamic_axes={"input": {0: "N"}, **{o: {0: "N"} for o in outputs}})
    # PyTorch >= 2.5 has a second (dynamo) exporter, the default in recent versions; keep the
    # TorchScript one, which handles dynamic_axes the same way on every version.
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    with torch.no_grad():
        torch.onnx.export(net, dummy, str(path), **kwargs)
    return kind


def check_graph(path: Path, size: int, outputs: Sequence[str] = ("logit",)) -> None:
    m = onnx.load(str(path))
    onnx.checker.check_model(m)
    inputs = [i for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}]
    if [i.name for i in inputs] != ["input"] or [o.name for o in m.graph.output] != list(outputs):
        raise ExportError(f"unexpected graph io: {[i.name for i in inputs]} -> {[o.name for o in m.graph.output]}")
    dims = inputs[0].type.tensor_type.shape.dim
    if not dims[0].dim_param or [d.dim_value for d in dims[1:]] != [3, size, size]:
        raise ExportError(f"input shape is not [N,3,{size},{size}]")


# Each runtime returns every graph output, in graph order.
def _run_reference(path: Path, x: np.ndarray) -> Optional[List[np.ndarray]]:
    try:
        from onnx.reference import ReferenceEvaluator  # onnx >= 1.13
    except ImportError:
        return None
    return [np.asarray(o) for o in ReferenceEvaluator(str(path)).run(None, {"input": x})]


def _run_onnxruntime_py(path: Path, x: np.ndarray) -> Optional[List[np.ndarray]]:
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return [np.asarray(o) for o in sess.run(None, {"input": x})]


_NODE_SCRIPT = r"""
const fs = require('fs');
const ort = require('onnxruntime-node');
const [model, inFile, shapeJson, outFile] = process.argv.slice(1);
(async () => {
  const buf = fs.readFileSync(inFile);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const sess = await ort.InferenceSession.create(model);
  const res = await sess.run({ input: new ort.Tensor('float32', data, JSON.parse(shapeJson)) });
  fs.writeFileSync(outFile, JSON.stringify(sess.outputNames.map((n) => ({ dims: res[n].dims, data: Array.from(res[n].data) }))));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def node_ort_env() -> Dict[str, str]:
    """The environment for a node process that runs onnxruntime-node: its telemetry off unless the
    user set ORT_DISABLE_TELEMETRY (as src/models/ort_runtime.ts does for the scan: since 1.29 the
    library leaves mat-debug-<pid>.log and .ses files in the temp folder and carries an uploader)."""
    env = dict(os.environ)
    env.setdefault("ORT_DISABLE_TELEMETRY", "1")
    return env


def _run_onnxruntime_node(path: Path, x: np.ndarray) -> Optional[List[np.ndarray]]:
    """Run with the repository's onnxruntime-node: the same runtime the TypeScript side uses."""
    node = shutil.which("node")
    if node is None or not (REPO_ROOT / "node_modules" / "onnxruntime-node").is_dir():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.f32", Path(tmp) / "out.json"
        inp.write_bytes(np.ascontiguousarray(x, dtype="<f4").tobytes())
        r = subprocess.run([node, "-e", _NODE_SCRIPT, str(path.resolve()), str(inp), json.dumps(list(x.shape)), str(out)],
                           cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env=node_ort_env())
        if r.returncode != 0:
            raise ExportError(f"onnxruntime-node failed: {r.stderr.strip()[-500:]}")
        return [np.asarray(o["data"], dtype=np.float32).reshape(o["dims"]) for o in json.loads(out.read_text())]


RUNTIMES = (("onnx.reference", _run_reference), ("onnxruntime", _run_onnxruntime_py),
            ("onnxruntime-node", _run_onnxruntime_node))


def run_onnx(path: Path, x: np.ndarray) -> Optional[Tuple[str, List[np.ndarray]]]:
    """(runtime name, outputs) from the first available runtime of RUNTIMES; None when there is none."""
    for name, run in RUNTIMES:
        got = run(path, x)
        if got is not None:
            return name, got
    return None


def verify_onnx(model: nn.Module, path: Path, size: int, atol: float = 1e-4, batch: int = 3) -> Tuple[Optional[str], float]:
    """(runtime used, max |torch - onnx| over every output) on a random batch; (None, nan) when no
    runtime is available. `model` returns a tensor or a tuple of tensors (the graph's outputs, in order).

    The batch differs from the export's dummy batch, which also checks the dynamic batch axis. Inputs
    are image-like: 8x8 uniform noise in [-1, 1] upsampled bilinearly. On per-pixel noise a trained
    deep network can give logits of ~100, where float32 rounding (ONNX Runtime folds BatchNorm into the
    convolutions) differs by ~2e-4 relatively (measured: 0.027 on a logit of 134 for EfficientNet-B4),
    while on real crops and smooth inputs the same export agrees to ~1e-7. An output agrees when
    max |torch - onnx| <= atol * max(1, max |torch|).
    """
    noise = torch.rand(batch, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    x = F.interpolate(noise, size=(size, size), mode="bilinear", align_corners=False)
    with torch.no_grad():
        out = model(x)
    refs = [r.numpy() for r in (out if isinstance(out, (tuple, list)) else (out,))]
    ran = run_onnx(path, x.numpy())
    if ran is None:
        return None, float("nan")
    name, got = ran
    if [g.shape for g in got] != [r.shape for r in refs]:
        raise ExportError(f"{name}: output shapes {[g.shape for g in got]}, torch {[r.shape for r in refs]}")
    err = 0.0
    for i, (g, r) in enumerate(zip(got, refs)):
        e, scale = float(np.abs(g - r).max()), max(1.0, float(np.abs(r).max()))
        if e > atol * scale:
            raise ExportError(f"{name}: output {i}: ONNX and PyTorch differ by {e:.3g} > {atol} x {scale:.3g}")
        err = max(err, e)
    return name, err


def torch_cpu_ms_per_face(model: nn.Module, size: int, batch: int = 8, repeats: int = 20) -> float:
    """Proxy for ONNX inference cost: PyTorch CPU latency per face at `batch` (current thread count)."""
    x = torch.rand(batch, 3, size, size)
    with torch.no_grad():
        for _ in range(3):
            model(x)
        t = time.perf_counter()
        for _ in range(repeats):
            model(x)
    return (time.perf_counter() - t) / repeats / batch * 1000


def build_manifest(name: str, version: str, ckpt: Dict, final: Dict, notes: str,
                   explanation: Optional[Tuple[str, str]] = None) -> Dict:
    cfg = ckpt.get("config", {})
    if ckpt.get("margin") is None:
        raise ExportError("the run does not record the crop margin of its training crops")
    metrics = {k: (float(v) if v is not None else None) for k, v in final.get("metrics", {}).items()
               if v is None or isinstance(v, (int, float))}
    decision = final.get("decision", {"realBelow": 0.35, "fakeAbove": 0.65})
    crop: Dict = {"policy": "margin", "margin": float(ckpt["margin"])}
    if ckpt.get("crop_size"):  # runs from before crop_size was recorded leave it to the reader's default
        crop["size"] = int(ckpt["crop_size"])
    return {
        "name": name,
        "version": version,
        "kind": "frame",
        "file": f"{name}.onnx",
        "input": {"size": int(ckpt["size"]), "layout": "NCHW", "mean": [float(v) for v in ckpt["mean"]],
                  "std": [float(v) for v in ckpt["std"]]},
        "crop": crop,
        "output": {"meaning": "logit_fake",
                   **({"explanation": {"output": explanation[0], "method": explanation[1]}} if explanation else {})},
        "calibration": {"temperature": float(final.get("temperature", 1.0))},
        "decision": {"realBelow": float(decision["realBelow"]), "fakeAbove": float(decision["fakeAbove"])},
        "training": {
            "data": list(final.get("data", [])),
            "command": cfg.get("command") or "",
            "seed": int(cfg.get("seed", 0)),
            "epochs": int(final.get("epochs_run", ckpt.get("epoch", 0))),
            "arch": str(ckpt["arch"]),
            "notes": notes,
        },
        "metrics": metrics,
        "createdAt": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


def check_manifest(m: Dict) -> None:
    """The constraints of ModelManifestSchema (src/models/manifest.ts) that Python can get wrong."""
    def need(cond: bool, what: str) -> None:
        if not cond:
            raise ExportError(f"manifest: {what}")

    need(isinstance(m.get("name"), str) and m["name"] != "", "name")
    need(m.get("kind") == "frame" and m["input"]["layout"] == "NCHW", "kind/layout")
    need(isinstance(m["input"]["size"], int) and m["input"]["size"] > 0, "input.size")
    need(len(m["input"]["mean"]) == 3 and len(m["input"]["std"]) == 3, "mean/std")
    need(0 <= m["crop"]["margin"] <= 2, "crop.margin")
    need(m["calibration"]["temperature"] > 0, "temperature")
    d = m["decision"]
    need(0 <= d["realBelow"] <= d["fakeAbove"] <= 1, "decision band")
    need(all(v is None or isinstance(v, float) for v in m["metrics"].values()), "metrics are numbers")


def write_frame_model(model: nn.Module, size: int, out_dir: Path, name: str, manifest: Dict,
                      error: type = ExportError) -> Tuple[Path, Path, Dict]:
    """A frame model that is not a training run (a converted peer, a hand-made cue): <out>/<name>.onnx
    without an explanation map, checked against PyTorch, and `manifest` (its `file` set here) checked and
    written beside it. A manifest that fails check_manifest raises `error`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{name}.onnx"
    export_onnx(model, size, onnx_path, explain=False)
    check_graph(onnx_path, size)
    runtime, err = verify_onnx(model, onnx_path, size)
    if runtime is None:
        print("warning: no ONNX runtime available; ONNX output not compared with PyTorch", flush=True)
    # "file" right after "kind", where export_run's manifests have it (a merge keeps each key's first place)
    head = {k: manifest[k] for k in ("name", "version", "kind")}
    manifest = {**head, "file": onnx_path.name, **manifest}
    try:
        check_manifest(manifest)
    except ExportError as e:
        raise error(str(e)) from e
    man_path = out_dir / f"{name}.manifest.json"
    man_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return onnx_path, man_path, {"runtime": runtime, "max_abs_diff": err}


def export_run(run_dir: Path, out_dir: Path, name: str, version: str = "0.1.0", weights: str = "best",
               opset: int = 13, explain: bool = True) -> Tuple[Path, Path, Dict]:
    from .clip_export import maybe_export_clip_run  # temporal runs export NCTHW clips (no explanation map)

    clip = maybe_export_clip_run(run_dir, out_dir, name, version, weights, opset)
    if clip is not None:
        return clip
    model, ckpt, final = load_run(run_dir, weights)
    size = int(ckpt["size"])
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{name}.onnx"
    kind = export_onnx(model, size, onnx_path, opset, explain)
    check_graph(onnx_path, size, ["logit"] + ([kind[0]] if kind else []))
    runtime, err = verify_onnx(ExplainedModel(model) if kind else model, onnx_path, size)
    if runtime is None:
        print("warning: no ONNX runtime available (onnx.reference, onnxruntime, onnxruntime-node); "
              "ONNX output not compared with PyTorch", flush=True)
    ms = torch_cpu_ms_per_face(model, size)
    notes = (f"{DATA_NOTE} {count_params(model) / 1e6:.2f} M params; input {size} px; "
             f"self-blended fakes ratio {ckpt.get('config', {}).get('sbi_ratio')}; "
             f"validation = DFDC (cross-dataset), temperature fitted on the same validation logits, so "
             f"calibrated log loss is optimistic; decision band is fixed on calibrated probability; "
             f"PyTorch CPU {ms:.2f} ms/face at batch 8 with {torch.get_num_threads()} threads.")
    manifest = build_manifest(name, version, ckpt, final, notes, kind)
    check_manifest(manifest)
    man_path = out_dir / f"{name}.manifest.json"
    man_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return onnx_path, man_path, {"runtime": runtime, "max_abs_diff": err, "torch_cpu_ms_per_face": ms}
