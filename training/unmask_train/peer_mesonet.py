"""Import a peer detector, MesoNet (Afchar et al., WIFS 2018), from its published Keras weights.

The authors publish Keras 2.1 `.h5` weight files (Apache-2.0) for two architectures, Meso4 and
MesoInception4. This module rebuilds both in PyTorch, loads such a file (h5py, no TensorFlow), and
exports ONNX plus an unmask manifest, so `unmask eval -m <manifest>` measures the peer on the same
inputs, with the same face crops and metrics, as unmask's own models. It is a reference to beat,
never a shipped model: the weights stay where the user keeps them.

Keras conventions that the port has to follow:
- tensors are channels-last, so the Flatten before the first Dense reads (H, W, C): the port
  permutes to NHWC before flattening;
- conv kernels are (kh, kw, in, out); Dense kernels are (in, out);
- BatchNormalization's epsilon defaults to 1e-3 (PyTorch's is 1e-5);
- layers are numbered in creation order (`conv2d_5` before `conv2d_6`), which fixes the order of
  the inception branches; a weight file lists every layer of its model, weightless ones included,
  so a missing `leaky_re_lu` layer means the model had none.
- The last Dense ends in a sigmoid for class 1 of the authors' Keras generator, whose classes are
  the training folders in alphabetical order: with folders such as `df` and `real` class 1 is REAL
  (the shared peer README warns of this). `--positive real` (default) negates the logit so that the
  exported output is, as every unmask model's, the logit of FAKE.
"""
from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

KERAS_BN_EPS = 1e-3
INPUT_SIZE = 256


class PeerWeightsError(ValueError):
    """A weight file that is not a MesoNet of a known shape (ValueError: the CLI prints one line)."""


def _number(name: str) -> int:
    m = re.search(r"_(\d+)$", name)
    return int(m.group(1)) if m else 0


def read_keras_weights(path: Path) -> Tuple[List[str], Dict[str, List[np.ndarray]]]:
    """(layer names in model order, {layer: [weight arrays in Keras order]}) of a Keras 2 .h5 file."""
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise PeerWeightsError("reading Keras .h5 files needs h5py (Debian: apt install python3-h5py)") from e
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise PeerWeightsError(f"{path}: not an HDF5 weight file ({e})") from e
    with f:
        root = f["model_weights"] if "model_weights" in f else f
        if "layer_names" not in root.attrs:
            raise PeerWeightsError(f"{path}: no layer_names attribute: not a Keras weight file")
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in root.attrs["layer_names"]]
        weights: Dict[str, List[np.ndarray]] = {}
        for name in names:
            g = root[name]
            wnames = [w.decode() if isinstance(w, bytes) else str(w) for w in g.attrs.get("weight_names", [])]
            if wnames:
                weights[name] = [np.asarray(g[w], dtype=np.float32) for w in wnames]
    return names, weights


class _KerasBN(nn.BatchNorm2d):
    def __init__(self, c: int) -> None:
        super().__init__(c, eps=KERAS_BN_EPS)


class _Inception(nn.Module):
    """MesoInception's block: 1x1; 1x1 -> 3x3; 1x1 -> 3x3 dilation 2; 1x1 -> 3x3 dilation 3; concat."""

    def __init__(self, cin: int, a: int, b: int, c: int, d: int) -> None:
        super().__init__()
        self.x1 = nn.Conv2d(cin, a, 1)
        self.x2 = nn.Sequential(nn.Conv2d(cin, b, 1), nn.ReLU(), nn.Conv2d(b, b, 3, padding=1))
        self.x3 = nn.Sequential(nn.Conv2d(cin, c, 1), nn.ReLU(), nn.Conv2d(c, c, 3, padding=2, dilation=2))
        self.x4 = nn.Sequential(nn.Conv2d(cin, d, 1), nn.ReLU(), nn.Conv2d(d, d, 3, padding=3, dilation=3))

    def convs(self) -> List[nn.Conv2d]:
        """In Keras creation order."""
        return [self.x1, self.x2[0], self.x2[2], self.x3[0], self.x3[2], self.x4[0], self.x4[2]]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.relu(self.x1(x)), F.relu(self.x2(x)), F.relu(self.x3(x)), F.relu(self.x4(x))], 1)


class MesoNet(nn.Module):
    """Meso4 (`inception=False`) or MesoInception4; input [N, 3, 256, 256] in [0, 1]; output [N, 1],
    the pre-sigmoid logit of the authors' class 1 (times `sign`)."""

    def __init__(self, inception: bool, leaky: bool, sign: float = 1.0) -> None:
        super().__init__()
        self.inception = inception
        if inception:
            self.blocks = nn.ModuleList([_Inception(3, 1, 4, 4, 2), _Inception(11, 2, 4, 4, 2),
                                         nn.Conv2d(12, 16, 5, padding=2), nn.Conv2d(16, 16, 5, padding=2)])
            widths = [11, 12, 16, 16]
        else:
            self.blocks = nn.ModuleList([nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 5, padding=2),
                                         nn.Conv2d(8, 16, 5, padding=2), nn.Conv2d(16, 16, 5, padding=2)])
            widths = [8, 8, 16, 16]
        self.bns = nn.ModuleList([_KerasBN(w) for w in widths])
        self.pools = [2, 2, 2, 4]
        self.fc1 = nn.Linear(16 * 8 * 8, 16)
        self.act = nn.LeakyReLU(0.1) if leaky else nn.Identity()
        self.fc2 = nn.Linear(16, 1)
        self.sign = sign

    def convs(self) -> List[nn.Conv2d]:
        out: List[nn.Conv2d] = []
        for b in self.blocks:
            out.extend(b.convs() if isinstance(b, _Inception) else [b])
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block, bn, pool in zip(self.blocks, self.bns, self.pools):
            y = block(x)
            y = y if isinstance(block, _Inception) else F.relu(y)
            x = F.max_pool2d(bn(y), pool)
        x = x.permute(0, 2, 3, 1).flatten(1)  # Keras flattens channels-last
        return self.fc2(self.act(self.fc1(x))) * self.sign


def build_from_keras(path: Path, positive: str = "real") -> Tuple[MesoNet, str]:
    """The PyTorch MesoNet of a Keras weight file, and its architecture name (meso4 / mesoinception4)."""
    if positive not in ("real", "fake"):
        raise ValueError("--positive must be real or fake")
    names, weights = read_keras_weights(path)
    convs = sorted((n for n in weights if n.startswith("conv2d")), key=_number)
    bns = sorted((n for n in weights if n.startswith("batch_normalization")), key=_number)
    denses = sorted((n for n in weights if n.startswith("dense")), key=_number)
    inception = len(convs) == 16
    if len(convs) not in (4, 16) or len(bns) != 4 or len(denses) != 2:
        raise PeerWeightsError(f"{path}: {len(convs)} conv, {len(bns)} batch-norm and {len(denses)} dense layers: "
                               "not Meso4 (4/4/2) or MesoInception4 (16/4/2)")
    leaky = any(n.startswith("leaky_re_lu") for n in names)
    model = MesoNet(inception, leaky, sign=-1.0 if positive == "real" else 1.0)
    with torch.no_grad():
        for conv, name in zip(model.convs(), convs):
            kernel, bias = weights[name]
            want = (conv.kernel_size[0], conv.kernel_size[1], conv.in_channels, conv.out_channels)
            if kernel.shape != want:
                raise PeerWeightsError(f"{path}: {name} kernel {kernel.shape}, expected {want}")
            conv.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()))
            conv.bias.copy_(torch.from_numpy(bias))
        for bn, name in zip(model.bns, bns):
            gamma, beta, mean, var = weights[name]
            if gamma.shape != (bn.num_features,):
                raise PeerWeightsError(f"{path}: {name} has {gamma.shape[0]} channels, expected {bn.num_features}")
            for t, v in ((bn.weight, gamma), (bn.bias, beta), (bn.running_mean, mean), (bn.running_var, var)):
                t.copy_(torch.from_numpy(v))
        for fc, name in zip((model.fc1, model.fc2), denses):
            kernel, bias = weights[name]
            if kernel.shape != (fc.in_features, fc.out_features):
                raise PeerWeightsError(f"{path}: {name} kernel {kernel.shape}, expected "
                                       f"{(fc.in_features, fc.out_features)}")
            fc.weight.copy_(torch.from_numpy(kernel.T.copy()))
            fc.bias.copy_(torch.from_numpy(bias))
    model.eval()
    return model, "mesoinception4" if inception else "meso4"


def import_mesonet(h5: Path, out_dir: Path, name: str, positive: str = "real",
                   margin: float = 0.3) -> Tuple[Path, Path, Dict]:
    """Writes <out>/<name>.onnx + <name>.manifest.json for a MesoNet weight file; returns the check."""
    from .export import write_frame_model

    model, arch = build_from_keras(h5, positive)
    manifest = {
        "name": name,
        "version": "0.0.0",
        "kind": "frame",
        # The authors' generator rescales pixels to [0, 1] (rescale=1/255) at 256 x 256.
        "input": {"size": INPUT_SIZE, "layout": "NCHW", "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]},
        "crop": {"policy": "margin", "margin": float(margin)},
        "output": {"meaning": "logit_fake"},
        "calibration": {"temperature": 1.0},
        "decision": {"realBelow": 0.5, "fakeAbove": 0.5},
        "training": {
            "data": [],
            "command": f"python -m unmask_train import-mesonet {h5.name} --name {name} --positive {positive}",
            "arch": arch,
            "notes": (f"Peer detector, not trained by unmask: published MesoNet weights ({h5.name}; Afchar et al. "
                      f"2018, Apache-2.0) converted from Keras. The authors' class 1 is taken as "
                      f"{positive.upper()}{' (logit negated)' if positive == 'real' else ''}. Uncalibrated "
                      f"(temperature 1), decision at 0.5."),
        },
        "metrics": {},
        "createdAt": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    onnx_path, man_path, check = write_frame_model(model, INPUT_SIZE, out_dir, name, manifest, PeerWeightsError)
    return onnx_path, man_path, {"arch": arch, "leaky_relu": isinstance(model.act, nn.LeakyReLU), **check}
