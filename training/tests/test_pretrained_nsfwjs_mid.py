"""`mobilenetv2-140` and the port of nsfwjs's mobilenet_v2_mid (unmask_train/pretrained_nsfwjs_mid.py).

- Weight loading: every one of the graph model's 108 tensors is read, fits the width-1.4 network and
  is used; `--init nsfwjs` loads the trunk and marks its BatchNorms for re-parameterisation.
- The port computes what TensorFlow.js computes: the whole nsfwjs network on two photos that face-api
  ships, against the same graph run by the tfjs bundled in @vladmandic/face-api
  (`nsfwjs_mid_reference.mjs`). With every filter's kh/kw axes swapped the answers move by 0.18.
- The first training batch re-parameterises the BatchNorms without changing the function.
- ONNX export round trip with the pretrained weights.
"""
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from unmask_train import pretrained_nsfwjs_mid as M
from unmask_train.model import build_model, count_params, default_size
from unmask_train.transfer import load_init
from tests.tfjs_reference import run_tfjs_reference
from tests.onnx_round_trip import assert_grad_cam_round_trip

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parents[1] / "node_modules" / "@vladmandic" / "face-api" / "demo"
needs_weights = unittest.skipUnless((M.MID_MODEL_DIR / "model.min.js").is_file(),
                                    f"nsfwjs weights not found under {M.MID_MODEL_DIR} (run `npm ci` in the repository)")


def photos() -> np.ndarray:
    """face-api's sample1/2 as nsfwjs feeds them: [2,224,224,3] rgb / 255 (bilinear resize)."""
    ims = [Image.open(SAMPLES / f"sample{i}.jpg").convert("RGB").resize((224, 224), Image.BILINEAR) for i in (1, 2)]
    return np.stack([np.asarray(im, dtype=np.float32) / 255 for im in ims])


class WidthTest(unittest.TestCase):
    def test_channels_at_width_one_point_four(self):
        trunk = M.HubMobileNetV2Trunk()
        self.assertEqual(trunk.stem.conv.out_channels, 48)
        self.assertEqual([b.project.conv.out_channels for b in trunk.blocks][::4], [24, 48, 88, 136, 448])
        self.assertEqual(trunk.out_channels, 1792)
        self.assertEqual(default_size("mobilenetv2-140"), 224)
        self.assertEqual(tuple(build_model("mobilenetv2-140", 64)(torch.zeros(2, 3, 64, 64)).shape), (2, 1))


class PortTest(unittest.TestCase):
    @needs_weights
    def test_every_tensor_is_used(self):
        self.assertEqual(len(M.read_mid()), 108)
        net = M.pretrained_nsfw_mid_net()  # raises if a tensor is missing, unused or misshapen
        self.assertEqual(count_params(net.trunk), 4315776)

    @needs_weights
    def test_whole_network_matches_tensorflow_js(self):
        x = photos()
        shape, data = run_tfjs_reference(self, "nsfwjs_mid_reference.mjs", x)
        self.assertEqual(shape, [2, 5])
        want = data.reshape(2, 5)
        net = M.pretrained_nsfw_mid_net()
        with torch.no_grad():
            got = torch.softmax(net(torch.from_numpy(x).permute(0, 3, 1, 2)), 1).numpy()
        np.testing.assert_allclose(got, want, atol=2e-4)
        # the check can fail: kh/kw swapped in every filter moves the answers far beyond the tolerance
        with torch.no_grad():
            for _, layer in net.trunk.hub_layers():
                layer.conv.weight.copy_(layer.conv.weight.transpose(2, 3).clone())
            swapped = torch.softmax(net(torch.from_numpy(x).permute(0, 3, 1, 2)), 1).numpy()
        self.assertGreater(float(np.abs(swapped - want).max()), 0.05)


class InitTest(unittest.TestCase):
    @needs_weights
    def test_init_loads_the_trunk_and_calibrates_on_the_first_batch(self):
        m = build_model("mobilenetv2-140", 64)
        self.assertIn("mobilenet_v2_mid", load_init(m, "nsfwjs", "mobilenetv2-140"))
        w = M.read_mid()
        dw = m.features.blocks[3].depthwise.conv.weight
        np.testing.assert_array_equal(dw.detach().permute(2, 3, 0, 1).numpy(), w["MobilenetV2/expanded_conv_3/depthwise/depthwise_weights"])
        self.assertEqual(int(m.features.bn_calibration_pending), 1)
        x = torch.rand(16, 3, 96, 96, generator=torch.Generator().manual_seed(0)) * 2 - 1
        m.eval()
        with torch.no_grad():
            ref = m.features(x)
        m.train()
        with torch.no_grad():
            train_out = m.features(x)  # calibrates, then runs with this batch's statistics
        self.assertEqual(int(m.features.bn_calibration_pending), 0)
        scale = float(ref.abs().max())
        self.assertLess(float((train_out - ref).abs().max()) / scale, 1e-3)
        # Re-parameterising leaves eval mode unchanged too (the training pass above also moved the
        # running statistics by momentum, so this is checked on a fresh copy).
        m2 = build_model("mobilenetv2-140", 96)
        load_init(m2, "nsfwjs", "mobilenetv2-140")
        m2.eval()
        m2.features.calibrate_bn(x)
        with torch.no_grad():
            self.assertLess(float((m2.features(x) - ref).abs().max()) / scale, 1e-4)

    def test_bad_use_is_reported(self):
        with self.assertRaisesRegex(ValueError, "needs --arch mobilenetv2, mobilenetv2-140 or inceptionv3"):
            load_init(build_model("resnet_xs", 32), "nsfwjs", "resnet_xs")
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaisesRegex(FileNotFoundError, "nsfwjs weights not found"):
                M.read_mid(Path(tmp))


class ExportTest(unittest.TestCase):
    @needs_weights
    def test_onnx_round_trip_pretrained(self):
        size = 96
        m = build_model("mobilenetv2-140", size)
        load_init(m, "nsfwjs", "mobilenetv2-140")
        m.features.bn_calibration_pending.zero_()
        with torch.no_grad():
            m.head.weight.normal_(0, 0.1, generator=torch.Generator().manual_seed(0))
        assert_grad_cam_round_trip(self, m, size, "mobilenetv2-140")


if __name__ == "__main__":
    unittest.main()
