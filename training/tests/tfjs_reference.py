"""Shared by the port tests: runs one of the `*_reference.mjs` scripts (TensorFlow.js as bundled in
@vladmandic/face-api) on a float32 NHWC batch and returns what it computed."""
import json
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path
from typing import List, Tuple

import numpy as np

HERE = Path(__file__).resolve().parent


def run_tfjs_reference(test: unittest.TestCase, script: str, batch: np.ndarray,
                       timeout: int = 300) -> Tuple[List[int], np.ndarray]:
    """(output shape, output values as float32) of `node tests/<script> <input.f32> <N> <output.json>`;
    skips the test when node is not on PATH, fails it when the script fails."""
    node = shutil.which("node")
    if node is None:
        test.skipTest("node not found on PATH (it runs the TensorFlow.js reference)")
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "x.f32", Path(tmp) / "y.json"
        np.ascontiguousarray(batch, dtype=np.float32).tofile(inp)
        r = subprocess.run([node, str(HERE / script), str(inp), str(len(batch)), str(out)],
                           capture_output=True, text=True, timeout=timeout)
        test.assertEqual(r.returncode, 0, r.stderr[-2000:])
        ref = json.loads(out.read_text())
    return ref["shape"], np.array(ref["data"], dtype=np.float32)
