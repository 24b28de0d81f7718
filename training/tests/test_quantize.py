"""int8 QDQ quantization (quantize.py) on a hand-built conv graph, run by onnxruntime-node (the
scan's runtime; the tests skip without node and `npm ci`)."""
import shutil
import tempfile
import unittest
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from unmask_train.export import REPO_ROOT, run_onnx
from unmask_train.half_weights import halve_initializers
from unmask_train.quantize import (QuantizeError, activation_ranges, calibration_tensors, fold_casts, quantize_convs,
                                   uint8_params, weight_convs)

HAVE_NODE_ORT = shutil.which("node") is not None and (REPO_ROOT / "node_modules" / "onnxruntime-node").is_dir()


def conv_model(rng: np.random.Generator) -> onnx.ModelProto:
    """x -> Conv 3x3 -> Relu -> Conv 1x1 -> GlobalAveragePool -> y, plus a 1x1 conv straight to a
    second output (as the Grad-CAM output of an export)."""
    w1 = (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32)
    b1 = (rng.standard_normal(8) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((4, 8, 1, 1)) * 0.3).astype(np.float32)
    wc = (rng.standard_normal((1, 8, 1, 1)) * 0.3).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"]),
        helper.make_node("GlobalAveragePool", ["c2"], ["y"]),
        helper.make_node("Conv", ["r1", "wc"], ["cam"]),
    ]
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 3, 12, 12])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4, 1, 1]),
         helper.make_tensor_value_info("cam", TensorProto.FLOAT, [None, 1, 12, 12])],
        [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (wc, "wc"))],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


class Uint8ParamsTest(unittest.TestCase):
    def test_zero_is_exact_and_the_range_is_covered(self):
        scale, zero = uint8_params(-1.0, 3.0)
        self.assertAlmostEqual(scale, 4.0 / 255.0)
        self.assertEqual(zero, round(1.0 / scale))
        self.assertAlmostEqual((0 - zero) * scale, -1.0, delta=scale)
        self.assertAlmostEqual((255 - zero) * scale, 3.0, delta=scale)
        self.assertEqual(uint8_params(0.5, 2.0)[1], 0)  # all positive: the range is stretched to 0
        self.assertEqual(uint8_params(0.0, 0.0), (1.0, 0))  # a constant zero tensor


@unittest.skipUnless(HAVE_NODE_ORT, "needs node and the repository's onnxruntime-node (npm ci)")
class QuantizeConvsTest(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(0)
        self.model = conv_model(rng)
        self.x = rng.uniform(-1, 1, (16, 3, 12, 12)).astype(np.float32)
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def ranges(self, model):
        return activation_ranges(model, calibration_tensors(model), self.x)

    def run_model(self, model):
        path = Path(self.tmp.name) / "m.onnx"
        onnx.save(model, str(path))
        return run_onnx(path, self.x)[1]

    def test_calibrated_tensors_are_conv_inputs_and_outputs_but_not_graph_outputs(self):
        self.assertEqual([n.output[0] for n in weight_convs(self.model)], ["c1", "c2"])  # "cam" stays float
        self.assertEqual(calibration_tensors(self.model), ["input", "c1", "r1", "c2"])
        r = self.ranges(self.model)
        self.assertLess(r["input"][0], -0.9)
        self.assertGreater(r["input"][1], 0.9)
        self.assertEqual(r["r1"][0], 0.0)  # after the ReLU

    def test_qdq_graph_is_close_to_float_and_stores_int8_weights(self):
        y_float, cam_float = self.run_model(self.model)
        q = onnx.ModelProto()
        q.CopyFrom(self.model)
        self.assertEqual(quantize_convs(q, self.ranges(self.model)), 2)
        onnx.checker.check_model(q)
        inits = {i.name: i for i in q.graph.initializer}
        self.assertEqual(inits["w1__int8"].data_type, TensorProto.INT8)
        # 7 bits of the range, each output channel's largest weight at the top (quantize.WEIGHT_LEVELS)
        wq = numpy_helper.to_array(inits["w1__int8"]).astype(int)
        self.assertEqual(np.abs(wq).reshape(wq.shape[0], -1).max(axis=1).tolist(), [63] * wq.shape[0])
        self.assertNotIn("w1", inits)  # the float weights are gone
        self.assertIn("wc", inits)  # the graph-output conv keeps them
        producer = {o: n for n in q.graph.node for o in n.output}
        for conv in weight_convs(q):
            for name in conv.input[:2]:
                self.assertEqual(producer[name].op_type, "DequantizeLinear", f"{conv.output[0]} reads {name}")
        # every reader of a calibrated tensor reads the dequantized copy; only the Q node reads the float
        readers = [(n.op_type, i) for n in q.graph.node for i in n.input if i in ("c1", "r1", "c2")]
        self.assertTrue(all(op == "QuantizeLinear" for op, _ in readers), readers)
        y, cam = self.run_model(q)
        spread = float(y_float.max() - y_float.min())
        self.assertLess(float(np.abs(y - y_float).max()), 0.05 * spread)
        self.assertGreater(float(np.abs(y - y_float).max()), 0)  # it did change: 8-bit rounding
        self.assertLess(float(np.abs(cam - cam_float).max()), 0.05 * float(np.abs(cam_float).max()))

    def test_missing_range_is_refused(self):
        ranges = self.ranges(self.model)
        del ranges["r1"]
        with self.assertRaisesRegex(QuantizeError, "no calibration range for tensor 'r1'"):
            quantize_convs(self.model, ranges)


class FoldCastsTest(unittest.TestCase):
    def test_float16_storage_folds_back_to_float32_constants(self):
        model = conv_model(np.random.default_rng(1))
        original = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        halved = halve_initializers(model, min_elements=8)
        self.assertGreater(halved, 0)
        self.assertEqual(fold_casts(model), halved)
        onnx.checker.check_model(model)
        self.assertNotIn("Cast", [n.op_type for n in model.graph.node])
        inits = {i.name: i for i in model.graph.initializer}
        self.assertEqual(set(inits), set(original))  # the float16 copies are gone
        for name, arr in original.items():
            self.assertEqual(inits[name].data_type, TensorProto.FLOAT)
            np.testing.assert_allclose(numpy_helper.to_array(inits[name]), arr.astype(np.float16).astype(np.float32))


if __name__ == "__main__":
    unittest.main()
