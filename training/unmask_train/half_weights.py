"""Store an exported model's weights as float16 to halve the ONNX file, computing in float32 as before.

Each large float32 initializer W becomes a float16 initializer plus a `Cast(to=FLOAT)` node that
outputs W, so every operator still sees float32 and no operator changes. onnxruntime folds those
casts into float32 constants when it opens the session (graph optimisation), so inference speed is
unchanged; only rounding of the weights to 11 significant bits differs (checked against the float32
file by `convert_export`). Used for the models shipped in `models/`, which the package carries.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .model_copy import copy_target, read_frame_export, write_copy_manifest

# float16's largest finite value; a weight beyond it would become inf
_F16_MAX = 65504.0
# smaller tensors (biases, BatchNorm vectors) stay float32: they weigh little and are the most sensitive
MIN_ELEMENTS = 1024
# largest |logit difference| accepted between the float16-weight file and the float32 one
MAX_LOGIT_DIFF = 0.05
HALF_NOTE = "Weights stored as float16 (cast to float32 when the model loads; computation is float32)."


class HalfWeightsError(RuntimeError):
    pass


def halve_initializers(model: onnx.ModelProto, min_elements: int = MIN_ELEMENTS) -> int:
    """Rewrites `model` in place; returns how many initializers were converted."""
    g = model.graph
    graph_inputs = {i.name for i in g.input}
    kept, casts, halved = [], [], 0
    for init in g.initializer:
        arr = numpy_helper.to_array(init) if init.data_type == TensorProto.FLOAT else None
        if arr is None or arr.size < min_elements or init.name in graph_inputs or not np.all(np.abs(arr) <= _F16_MAX):
            kept.append(init)
            continue
        half = numpy_helper.from_array(arr.astype(np.float16), f"{init.name}__f16")
        kept.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT, name=f"{init.name}__cast"))
        halved += 1
    del g.initializer[:]
    g.initializer.extend(kept)
    nodes = casts + list(g.node)  # casts first: the node list must stay topologically sorted
    del g.node[:]
    g.node.extend(nodes)
    return halved


def _logits(path: Path, x: np.ndarray) -> Optional[np.ndarray]:
    from .export import run_onnx

    ran = run_onnx(path, x)
    return None if ran is None else ran[1][0].reshape(-1)


def check_batch(manifest: Dict, seed: int = 0, n: int = 8) -> np.ndarray:
    """Inputs the model could see: blocky random images (8x8 cells of uniform colour) in [0, 1],
    normalised with the manifest's mean/std. Plain Gaussian noise drives some models to logits of
    -40 to -80, where weight rounding looks larger than it is on faces."""
    size = int(manifest["input"]["size"])
    cell = -(-size // 8)
    lo = np.random.default_rng(seed).uniform(0, 1, (n, 3, 8, 8)).astype(np.float32)
    x = np.repeat(np.repeat(lo, cell, 2), cell, 3)[:, :, :size, :size]
    mean = np.asarray(manifest["input"]["mean"], np.float32)[:, None, None]
    std = np.asarray(manifest["input"]["std"], np.float32)[:, None, None]
    return np.ascontiguousarray((x - mean) / std, dtype=np.float32)


def convert_export(manifest_path: Path, out_dir: Path, name: Optional[str] = None, seed: int = 0) -> Tuple[Path, Path, Dict]:
    """Writes `<out_dir>/<name>.onnx` with float16-stored weights and its manifest (a copy of the
    source manifest with `name` and `file` changed and a note added). Checks the new file against the
    source on a random batch; raises HalfWeightsError if the logits differ by more than MAX_LOGIT_DIFF."""
    manifest, src_onnx = read_frame_export(manifest_path, HalfWeightsError, "converted")
    name = name or manifest["name"]
    dst_onnx = copy_target(out_dir, name, src_onnx, HalfWeightsError)
    model = onnx.load(str(src_onnx))
    halved = halve_initializers(model)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst_onnx))
    x = check_batch(manifest, seed)
    ref, got = _logits(src_onnx, x), _logits(dst_onnx, x)
    diff = float("nan") if ref is None or got is None else float(np.max(np.abs(ref - got)))
    if ref is None or got is None:
        print("warning: no ONNX runtime available (onnx.reference, onnxruntime, onnxruntime-node); "
              "the float16-weight copy was not compared with the original", flush=True)
    elif not diff <= MAX_LOGIT_DIFF:
        dst_onnx.unlink()
        raise HalfWeightsError(f"float16 weights change the logits by {diff:.4f} (> {MAX_LOGIT_DIFF}); keep the float32 file")
    provenance = f"{HALF_NOTE} Converted from {manifest['name']} by `python -m unmask_train half-weights`."
    dst_manifest = write_copy_manifest(manifest, dst_onnx, name, provenance)
    return dst_onnx, dst_manifest, {
        "initializers_halved": halved, "bytes_before": src_onnx.stat().st_size, "bytes_after": dst_onnx.stat().st_size,
        "max_abs_logit_diff": diff}
