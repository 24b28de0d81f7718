"""Post-training int8 quantization of an exported frame model (QDQ format), for cheaper CPU scans.

Every convolution with constant weights gets int8 weights (symmetric, one scale per output channel,
7 bits of the range: WEIGHT_LEVELS)
and uint8 activations on its input and output (asymmetric, one scale per tensor), written as
QuantizeLinear/DequantizeLinear pairs around an unchanged Conv. onnxruntime fuses each
DQ -> Conv -> Q group into one integer convolution when it opens the session. Nothing else is
quantized in the file (ReLU, additions, pooling, the head stay float operators), though onnxruntime
also runs an addition whose inputs and output are all quantized as an integer one (QLinearAdd). Activation ranges come from calibration: the
float32 model run on face crops of the *training* split (never validation or test), min and max of
each tensor. Biases stay float32: onnxruntime still fuses the group (the session's optimised graph of
`unmask-faceres-pre-int8` has all 30 convolutions as QLinearConv, 29 of them with a bias).

Measured on `unmask-faceres-pre` (150 px, ResNet-like, 2-core CPU, onnxruntime-node, batch 16):
4.9 -> 2.0 ms of CPU per face on one thread. Depthwise-separable nets gain nothing (EfficientNet-B0 and BlazeFace
ran slower as int8), so this is for plain convolutional trunks.

The copy is checked against the float32 model on other training crops: the logits must stay
correlated (Pearson r >= MIN_CORRELATION) and close (mean |difference| <= MAX_MEAN_LOGIT_DIFF), else
the file is deleted and the command fails.
"""
from __future__ import annotations

import json
import random
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .data import load_crop_set, load_image, margin_fraction
from .export import REPO_ROOT, node_ort_env
from .model_copy import copy_target, read_frame_export, write_copy_manifest

# Weights use 7 bits of the int8 range (+-63), as onnxruntime advises for x86 CPUs without VNNI
# (AVX2, AVX-512 before Cascade Lake, every AMD CPU before Zen 4): their uint8 x int8 kernel adds
# pairs of products into int16 with saturation, and 255 * 127 * 2 overflows it where
# 255 * 63 * 2 cannot. Measured on the hand-built graph of tests/test_quantize.py on an AMD EPYC
# (AVX2): the largest error of its float output was 9.3% of its range with +-127 weights, 1.6% with +-63
# (2.9% and 0.34% for the other output). On VNNI CPUs, which have no such overflow, the 7-bit weights cost only
# their coarser rounding. The int8 file then scores the same faces alike on either kind of CPU.
WEIGHT_LEVELS = 63
MIN_CORRELATION = 0.98
MAX_MEAN_LOGIT_DIFF = 0.25
INT8_NOTE = ("Weights and convolution activations quantized to 8 bits (QDQ: int8 weights per output channel in +-63, "
             "uint8 activations per tensor, calibrated on {n} training-split crops); other operators float32.")


class QuantizeError(RuntimeError):
    pass


def fold_casts(model: onnx.ModelProto) -> int:
    """Replaces every Cast of an initializer (the float16 storage of half_weights.py) by a float32
    initializer, so each weight is a plain constant again. Returns how many were folded."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    kept, folded, used_sources = [], 0, set()
    for n in g.node:
        if n.op_type == "Cast" and n.input[0] in inits and onnx.helper.get_attribute_value(n.attribute[0]) == TensorProto.FLOAT:
            arr = numpy_helper.to_array(inits[n.input[0]]).astype(np.float32)
            g.initializer.append(numpy_helper.from_array(arr, n.output[0]))
            used_sources.add(n.input[0])
            folded += 1
            continue
        kept.append(n)
    del g.node[:]
    g.node.extend(kept)
    still_used = {i for n in g.node for i in n.input}
    drop = used_sources - still_used
    keep_inits = [i for i in g.initializer if i.name not in drop]
    del g.initializer[:]
    g.initializer.extend(keep_inits)
    return folded


def weight_convs(model: onnx.ModelProto) -> List[onnx.NodeProto]:
    """Conv nodes whose weights are initializers (the ones this module quantizes), except those that
    write a graph output (e.g. the 1x1 Grad-CAM convolution of an exported model stays float32)."""
    inits = {i.name for i in model.graph.initializer}
    outputs = {o.name for o in model.graph.output}
    return [n for n in model.graph.node
            if n.op_type == "Conv" and len(n.input) > 1 and n.input[1] in inits and n.output[0] not in outputs]


def calibration_tensors(model: onnx.ModelProto) -> List[str]:
    """The tensors that get activation scales: each quantized conv's input and output, in graph order."""
    names: List[str] = []
    for n in weight_convs(model):
        for t in (n.input[0], n.output[0]):
            if t not in names:
                names.append(t)
    return names


def with_outputs(model: onnx.ModelProto, names: Sequence[str]) -> onnx.ModelProto:
    """A copy of `model` that also outputs `names` (float32 tensors of any shape)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    have = {o.name for o in out.graph.output}
    for name in names:
        if name not in have:
            out.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    return out


def uint8_params(lo: float, hi: float) -> Tuple[float, int]:
    """Scale and zero point of an asymmetric uint8 range covering [lo, hi] and 0 (0 must be exact:
    padding is zeros)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    zero = int(round(-lo / scale))
    return float(scale), int(np.clip(zero, 0, 255))


def quantize_convs(model: onnx.ModelProto, ranges: Dict[str, Tuple[float, float]]) -> int:
    """Rewrites `model` in place into QDQ form with the given activation ranges; returns the number of
    convolutions quantized. Each calibrated tensor gets one Q/DQ pair, shared by all its readers."""
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    convs = weight_convs(model)
    conv_ids = {id(n) for n in convs}
    # Q/DQ of a tensor: producers keep writing the float name; readers of it read "<name>__dq"
    qdq_nodes: Dict[str, List[onnx.NodeProto]] = {}
    dq_name: Dict[str, str] = {}
    for t in calibration_tensors(model):
        if t not in ranges:
            raise QuantizeError(f"no calibration range for tensor {t!r}")
        scale, zero = uint8_params(*ranges[t])
        s, z, q, dq = f"{t}__scale", f"{t}__zero", f"{t}__q", f"{t}__dq"
        g.initializer.extend([numpy_helper.from_array(np.array(scale, np.float32), s),
                              numpy_helper.from_array(np.array(zero, np.uint8), z)])
        qdq_nodes[t] = [helper.make_node("QuantizeLinear", [t, s, z], [q], name=f"{t}__quant"),
                        helper.make_node("DequantizeLinear", [q, s, z], [dq], name=f"{t}__dequant")]
        dq_name[t] = dq
    graph_inputs = {i.name for i in g.input}
    nodes: List[onnx.NodeProto] = []
    # tensors produced before any node (graph inputs) get their Q/DQ first
    for t in list(qdq_nodes):
        if t in graph_inputs:
            nodes.extend(qdq_nodes.pop(t))
    for n in g.node:
        if id(n) in conv_ids:
            w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)
            ws = np.maximum(np.abs(w).reshape(w.shape[0], -1).max(axis=1), 1e-12) / WEIGHT_LEVELS
            wq = np.clip(np.round(w / ws.reshape((-1,) + (1,) * (w.ndim - 1))), -WEIGHT_LEVELS, WEIGHT_LEVELS).astype(np.int8)
            wn = f"{n.input[1]}__int8"
            g.initializer.extend([numpy_helper.from_array(wq, wn),
                                  numpy_helper.from_array(ws.astype(np.float32), f"{wn}__scale"),
                                  numpy_helper.from_array(np.zeros(w.shape[0], np.int8), f"{wn}__zero")])
            nodes.append(helper.make_node("DequantizeLinear", [wn, f"{wn}__scale", f"{wn}__zero"], [f"{wn}__dq"],
                                          axis=0, name=f"{wn}__dequant"))
            n.input[1] = f"{wn}__dq"
        # every reader of a calibrated tensor reads its dequantized copy (only the Q node reads the float)
        for i, name in enumerate(n.input):
            if name in dq_name:
                n.input[i] = dq_name[name]
        nodes.append(n)
        for t in n.output:
            if t in qdq_nodes:
                nodes.extend(qdq_nodes.pop(t))
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    if model.opset_import[0].version < 13:  # per-channel DequantizeLinear (axis) needs opset 13
        model.opset_import[0].version = 13
    return len(convs)


_NODE_RANGES = r"""
const fs = require('fs');
const ort = require('onnxruntime-node');
const [model, inFile, shapeJson, outFile, namesJson] = process.argv.slice(1);
(async () => {
  const shape = JSON.parse(shapeJson), names = JSON.parse(namesJson);
  const buf = fs.readFileSync(inFile);
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const sess = await ort.InferenceSession.create(model, { intraOpNumThreads: 2 });
  const per = shape[1] * shape[2] * shape[3], batch = 16;
  const ranges = Object.fromEntries(names.map((n) => [n, [Infinity, -Infinity]]));
  for (let s = 0; s < shape[0]; s += batch) {
    const n = Math.min(batch, shape[0] - s);
    const x = new ort.Tensor('float32', all.subarray(s * per, (s + n) * per), [n, shape[1], shape[2], shape[3]]);
    const res = await sess.run({ input: x }, names);
    for (const name of names) {
      const d = res[name].data, r = ranges[name];
      for (let i = 0; i < d.length; i++) { const v = d[i]; if (v < r[0]) r[0] = v; if (v > r[1]) r[1] = v; }
    }
  }
  fs.writeFileSync(outFile, JSON.stringify(ranges));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (REPO_ROOT / "node_modules" / "onnxruntime-node").is_dir():
        raise QuantizeError("quantization runs the model with the repository's onnxruntime-node: "
                            "install node and run `npm ci` in the repository first")
    return node


def activation_ranges(model: onnx.ModelProto, names: Sequence[str], x: np.ndarray) -> Dict[str, Tuple[float, float]]:
    """Min and max of each named tensor over the batch `x`, run by onnxruntime-node (the scan's runtime)."""
    node = _node()
    with tempfile.TemporaryDirectory() as tmp:
        path, inp, out = Path(tmp) / "calib.onnx", Path(tmp) / "in.f32", Path(tmp) / "out.json"
        onnx.save(with_outputs(model, names), str(path))
        inp.write_bytes(np.ascontiguousarray(x, dtype="<f4").tobytes())
        r = subprocess.run([node, "-e", _NODE_RANGES, str(path), str(inp), json.dumps(list(x.shape)), str(out), json.dumps(list(names))],
                           cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800, env=node_ort_env())
        if r.returncode != 0:
            raise QuantizeError(f"onnxruntime-node failed: {r.stderr.strip()[-500:]}")
        got = json.loads(out.read_text())
    return {k: (float(v[0]), float(v[1])) for k, v in got.items()}


_NODE_LOGITS = r"""
const fs = require('fs');
const ort = require('onnxruntime-node');
const [model, inFile, shapeJson, outFile, name] = process.argv.slice(1);
(async () => {
  const shape = JSON.parse(shapeJson);
  const buf = fs.readFileSync(inFile);
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const sess = await ort.InferenceSession.create(model, { intraOpNumThreads: 2 });
  const per = shape[1] * shape[2] * shape[3], batch = 16, out = new Float32Array(shape[0]);
  for (let s = 0; s < shape[0]; s += batch) {
    const n = Math.min(batch, shape[0] - s);
    const res = await sess.run({ input: new ort.Tensor('float32', all.subarray(s * per, (s + n) * per), [n, shape[1], shape[2], shape[3]]) }, [name]);
    out.set(res[name].data, s);
  }
  fs.writeFileSync(outFile, Buffer.from(out.buffer));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def logits(path: Path, x: np.ndarray) -> np.ndarray:
    """The first output of the model at `path` on `x`, flattened (onnxruntime-node)."""
    first = onnx.load(str(path)).graph.output[0].name
    node = _node()
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.f32", Path(tmp) / "out.f32"
        inp.write_bytes(np.ascontiguousarray(x, dtype="<f4").tobytes())
        r = subprocess.run([node, "-e", _NODE_LOGITS, str(path.resolve()), str(inp), json.dumps(list(x.shape)), str(out), first],
                           cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800, env=node_ort_env())
        if r.returncode != 0:
            raise QuantizeError(f"onnxruntime-node failed: {r.stderr.strip()[-500:]}")
        return np.frombuffer(out.read_bytes(), dtype="<f4").copy()




def training_crops(crops_dir: Path, manifest: Dict, n: int, seed: int) -> np.ndarray:
    """`n` face crops of the training split (REAL and FAKE alike), resized to the model's side and
    normalised as the manifest says: [n, 3, S, S] float32."""
    crops = load_crop_set(crops_dir)
    faces = [f for f in crops.faces if f.split == "train"]
    # a network trained on a tighter margin than the crops' sees their centred part (train --crop-margin)
    margin = manifest["crop"].get("margin")
    fraction = margin_fraction(crops.margin, margin) if crops.margin is not None and margin is not None else 1.0
    if len(faces) < n:
        raise QuantizeError(f"{crops_dir}: {len(faces)} training-split faces, {n} needed")
    pick = random.Random(seed).sample(faces, n)
    size = int(manifest["input"]["size"])
    mean = np.asarray(manifest["input"]["mean"], np.float32)[:, None, None]
    std = np.asarray(manifest["input"]["std"], np.float32)[:, None, None]
    x = np.stack([load_image(f.image, size, fraction)[0] for f in pick]).transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    return np.ascontiguousarray((x - mean) / std, dtype=np.float32)


def convert_export(manifest_path: Path, crops_dir: Path, out_dir: Path, name: Optional[str] = None,
                   calib: int = 256, check: int = 256, seed: int = 0) -> Tuple[Path, Path, Dict]:
    """Writes `<out_dir>/<name>.onnx` (int8 QDQ) and its manifest (a copy of the source's with `name`,
    `file` and a note). Raises QuantizeError when the copy's logits stray from the original's."""
    manifest, src_onnx = read_frame_export(manifest_path, QuantizeError, "quantized")
    name = name or f"{manifest['name']}-int8"
    dst_onnx = copy_target(out_dir, name, src_onnx, QuantizeError)
    model = onnx.load(str(src_onnx))
    fold_casts(model)
    if not weight_convs(model):
        raise QuantizeError(f"{src_onnx}: no convolution with constant weights to quantize")
    x = training_crops(Path(crops_dir), manifest, calib + check, seed)
    ranges = activation_ranges(model, calibration_tensors(model), x[:calib])
    n_convs = quantize_convs(model, ranges)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst_onnx))
    ref, got = logits(src_onnx, x[calib:]), logits(dst_onnx, x[calib:])
    corr = float(np.corrcoef(ref, got)[0, 1])
    mean_diff = float(np.mean(np.abs(ref - got)))
    if not (corr >= MIN_CORRELATION and mean_diff <= MAX_MEAN_LOGIT_DIFF):
        dst_onnx.unlink()
        raise QuantizeError(f"int8 logits stray from float32 on {check} training crops (r = {corr:.4f}, "
                            f"mean |diff| = {mean_diff:.3f}; need r >= {MIN_CORRELATION}, <= {MAX_MEAN_LOGIT_DIFF}); keep the float file")
    provenance = f"{INT8_NOTE.format(n=calib)} Converted from {manifest['name']} by `python -m unmask_train quantize`."
    dst_manifest = write_copy_manifest(manifest, dst_onnx, name, provenance)
    return dst_onnx, dst_manifest, {
        "convs_quantized": n_convs, "bytes_before": src_onnx.stat().st_size, "bytes_after": dst_onnx.stat().st_size,
        "check_faces": check, "logit_correlation": round(corr, 5), "mean_abs_logit_diff": round(mean_diff, 4),
        "max_abs_logit_diff": round(float(np.max(np.abs(ref - got))), 4)}
