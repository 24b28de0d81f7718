"""float16 weight storage (half_weights.py) on a hand-built graph: what is converted, and how."""
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from unmask_train.half_weights import MIN_ELEMENTS, halve_initializers


def matmul_model(weight: np.ndarray, bias: np.ndarray) -> onnx.ModelProto:
    n_in, n_out = weight.shape
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["h"]), helper.make_node("Add", ["h", "b"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, n_in])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, n_out])],
        [numpy_helper.from_array(weight, "W"), numpy_helper.from_array(bias, "b")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


class HalveInitializersTest(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(0)
        self.w = (rng.standard_normal((64, 32)) * 0.1).astype(np.float32)  # 2048 elements: converted
        self.b = rng.standard_normal(32).astype(np.float32)  # small: stays float32
        
    def test_large_weights_become_float16_behind_a_cast(self):
        self.assertGreaterEqual(self.w.size, MIN_ELEMENTS)
        model = matmul_model(self.w, self.b)
        self.assertEqual(halve_initializers(model), 1)
        onnx.checker.check_model(model)
        inits = {i.name: i for i in model.graph.initializer}
        self.assertEqual(inits["W__f16"].data_type, TensorProto.FLOAT16)
        self.assertEqual(inits["b"].data_type, TensorProto.FLOAT)
        self.assertNotIn("W", inits)
        first = model.graph.node[0]
        self.assertEqual((first.op_type, list(first.input), list(first.output)), ("Cast", ["W__f16"], ["W"]))
        # the stored weights are W rounded to float16 (running the graph is checked on a real export,
        # with onnxruntime, in test_train_export)
        w16 = numpy_helper.to_array(inits["W__f16"]).astype(np.float32)
        np.testing.assert_allclose(w16, self.w, rtol=1e-3, atol=1e-4)
        self.assertGreater(np.abs(w16 - self.w).max(), 0)

    def test_values_beyond_float16_stay_float32(self):
        w = self.w.copy()
        w[0, 0] = 1e6
        model = matmul_model(w, self.b)
        self.assertEqual(halve_initializers(model), 0)
        self.assertEqual([n.op_type for n in model.graph.node], ["MatMul", "Add"])


if __name__ == "__main__":
    unittest.main()
