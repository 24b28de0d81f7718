"""The tfjs weights format, shared by the ports of weights that npm packages ship
(`pretrained_faceapi.py`, `pretrained_nsfwjs.py`).

A weights manifest is a list of groups; each group lists tensors (name, shape, dtype, optional
quantization `{dtype: uint8|uint16, scale, min}` or `{dtype: float16}`), stored back to back in
manifest order in the group's bytes. A quantized value is `q * scale + min`. Conv filters are
[kh, kw, in, out] (NHWC); depthwise filters [kh, kw, in, multiplier].
"""
from __future__ import annotations

from typing import Callable, Dict, List, Sequence, Type

import numpy as np
import torch

_BYTES = {"uint8": 1, "uint16": 2, "float16": 2, "float32": 4, "int32": 4}


def decode_groups(groups: Sequence[dict], group_bytes: Callable[[dict], bytes],
                  error: Type[Exception], what: str) -> Dict[str, np.ndarray]:
    """Every tensor of `groups`, dequantized to float32, by manifest name. `group_bytes(group)`
    returns the group's concatenated data; `error` is raised (with `what` naming the weights) when
    the data does not match the manifest."""
    out: Dict[str, np.ndarray] = {}
    for g in groups:
        buf = group_bytes(g)
        pos = 0
        for w in g["weights"]:
            shape: List[int] = [int(s) for s in w["shape"]]
            n = int(np.prod(shape)) if shape else 1
            q = w.get("quantization")
            stored = q["dtype"] if q else w["dtype"]
            if stored not in _BYTES:
                raise error(f"{what}: unsupported dtype {stored} for {w['name']}")
            size = n * _BYTES[stored]
            if pos + size > len(buf):
                raise error(f"{what}: {w['name']} runs past the end of the weights data")
            raw = np.frombuffer(buf, dtype=np.dtype(stored).newbyteorder("<"), count=n, offset=pos)
            pos += size
            arr = raw.astype(np.float64) * q["scale"] + q["min"] if q and stored in ("uint8", "uint16") else raw
            out[w["name"]] = arr.astype(np.float32).reshape(shape)
        if pos != len(buf):
            raise error(f"{what}: {len(buf) - pos} bytes left over after the last tensor")
    return out


def torch_filter(tf_filter: np.ndarray, depthwise: bool = False) -> torch.Tensor:
    """A TensorFlow conv filter in PyTorch's layout: [kh,kw,in,out] -> [out,in,kh,kw]; a depthwise
    filter [kh,kw,in,1] -> [in,1,kh,kw]."""
    filt = torch.from_numpy(tf_filter).permute(3, 2, 0, 1)
    return filt.transpose(0, 1) if depthwise else filt
