"""Shared check: a frame classifier exports to ONNX with its Grad-CAM output, and ONNX agrees with
PyTorch (used by the tests of the pretrained ports)."""
import tempfile
import unittest
import warnings
from pathlib import Path

from torch import nn

from unmask_train import export as E
from unmask_train.explain import ExplainedModel


def assert_grad_cam_round_trip(test: unittest.TestCase, model: nn.Module, size: int, name: str) -> None:
    """Exports `model` (eval mode) at `size`, checks the graph (outputs logit + cam) and the largest
    ONNX-PyTorch difference (<= 1e-4); skips when no ONNX runtime is available."""
    model.eval()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kind = E.export_onnx(model, size, path)
        test.assertEqual(kind, ("cam", "grad-cam"))
        E.check_graph(path, size, ["logit", "cam"])
        runtime, err = E.verify_onnx(ExplainedModel(model), path, size)
        if runtime is None:
            test.skipTest("no ONNX runtime (onnx.reference, onnxruntime or node + onnxruntime-node)")
        test.assertLessEqual(err, 1e-4)
