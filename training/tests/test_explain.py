"""The in-graph CAM map equals Grad-CAM computed with autograd, for every GAP + linear-head family."""
import unittest

import torch

from tests.test_models_frame import randomise
from unmask_train.explain import ATTENTION, GRAD_CAM, ExplainedModel, explanation_kind, grad_cam_autograd
from unmask_train.model import build_model


class GradCamTest(unittest.TestCase):
    def check_equal(self, arch: str, size: int) -> None:
        torch.manual_seed(1)
        m = build_model(arch, size)
        randomise(m, seed=3, size=size)
        x = torch.randn(4, 3, size, size)
        with torch.no_grad():
            logit, cam = ExplainedModel(m)(x)
            self.assertTrue(torch.equal(logit, m(x)), "the wrapper leaves the logit unchanged")
        ref = grad_cam_autograd(m, x)
        self.assertEqual(cam.shape, ref.shape)
        self.assertGreater(float(ref.max()), 0, "non-trivial map (some positive evidence)")
        self.assertGreater(int((ref == 0).sum()), 0, "and some rectified (negative) positions")
        torch.testing.assert_close(cam, ref, rtol=1e-4, atol=1e-6)

    def test_resnet(self):
        self.check_equal("resnet_xs", 64)

    def test_efficientnet(self):
        self.check_equal("efficientnet-b0", 96)

    def test_xception(self):
        self.check_equal("xception", 96)

    def test_kinds(self):
        self.assertEqual(explanation_kind(build_model("resnet_s", 32)), GRAD_CAM)
        self.assertEqual(explanation_kind(build_model("efficientnet-b4-att", 32)), ATTENTION)
        self.assertIsNone(explanation_kind(torch.nn.Conv2d(3, 1, 1)))

    def test_attention_output_is_the_gate(self):
        m = build_model("efficientnet-b4-att", 64)
        randomise(m)
        x = torch.randn(2, 3, 64, 64)
        with torch.no_grad():
            _, att = ExplainedModel(m)(x)
            pre = m.features.pre(x)
            want = torch.sigmoid(m.features.attention(pre))
        torch.testing.assert_close(att, want)


if __name__ == "__main__":
    unittest.main()
