"""`inceptionv3` and the port of nsfwjs's inception_v3 (unmask_train/pretrained_nsfwjs_inception.py).

- Weight loading: every one of the layers model's 382 tensors is read, fits the network and is used;
  `--init nsfwjs` loads the trunk; bad use gives clear errors.
- TensorFlow's 'same' average pool leaves the padding out of the mean; so does the port.
- The port computes what TensorFlow.js computes: the whole nsfwjs network on two photos that face-api
  ships, against the same layers model run by the tfjs bundled in @vladmandic/face-api
  (`nsfwjs_inception_reference.mjs`); the largest difference measured 5.5e-7. The check can fail:
  with every filter's kh/kw axes swapped, or with the average pools counting the padding, the answers
  move beyond the tolerance.
- ONNX export round trip with the pretrained weights, at the 128 px a scan feeds it.
- A side below 75 px is refused in one line (`train` does so before reading any crop).
"""
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from unmask_train import pretrained_nsfwjs_inception as M
from unmask_train.model import build_model, count_params, default_size
from unmask_train.transfer import load_init
from tests.tfjs_reference import run_tfjs_reference
from tests.onnx_round_trip import assert_grad_cam_round_trip

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parents[1] / "node_modules" / "@vladmandic" / "face-api" / "demo"
needs_weights = unittest.skipUnless((M.INCEPTION_MODEL_DIR / "model.min.js").is_file(),
                                    f"nsfwjs weights not found under {M.INCEPTION_MODEL_DIR} (run `npm ci` in the repository)")


def photos() -> np.ndarray:
    """face-api's sample1/2 as nsfwjs feeds them: [2,299,299,3] rgb / 255 (bilinear resize)."""
    ims = [Image.open(SAMPLES / f"sample{i}.jpg").convert("RGB").resize((299, 299), Image.BILINEAR) for i in (1, 2)]
    return np.stack([np.asarray(im, dtype=np.float32) / 255 for im in ims])


class ShapeTest(unittest.TestCase):
    def test_architecture(self):
        m = build_model("inceptionv3", 128)
        self.assertEqual(default_size("inceptionv3"), 299)
        self.assertEqual(count_params(m.features), 21785568)  # Keras: 21,802,784 with the BN moving statistics, no gamma
        self.assertEqual(sum(1 for _ in m.features.conv_layers()), 94)
        self.assertEqual(len(m.features.groups()), 12)  # stem + mixed0 .. mixed10
        with torch.no_grad():
            self.assertEqual(tuple(m.features(torch.zeros(1, 3, 128, 128)).shape), (1, 2048, 2, 2))
            self.assertEqual(tuple(m(torch.zeros(2, 3, 75, 75)).shape), (2, 1))
        with self.assertRaisesRegex(ValueError, "--size 75 or more"):
            build_model("inceptionv3", 64)

    def test_train_refuses_a_smaller_side_in_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:  # refused before any crop is read
            r = subprocess.run([sys.executable, "-m", "unmask_train", "train", "--crops", tmp, "--arch", "inceptionv3",
                                "--size", "64", "--out", str(Path(tmp) / "run")],
                               capture_output=True, text=True, cwd=HERE.parent, timeout=120)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stderr.strip(), "error: --arch inceptionv3 needs --size 75 or more (got 64)")

    def test_average_pool_leaves_padding_out(self):
        x = torch.ones(1, 1, 4, 4)
        torch.testing.assert_close(M._avg3(x), x)  # every window's mean of ones is one, corners too
        self.assertLess(float(F.avg_pool2d(x, 3, 1, 1)[0, 0, 0, 0]), 0.5)  # counting the padding: 4/9


class PortTest(unittest.TestCase):
    @needs_weights
    def test_every_tensor_is_used(self):
        w = M.read_inception()
        self.assertEqual(len(w), 382)
        self.assertEqual(w["conv2d_1/kernel"].shape, (3, 3, 3, 32))
        self.assertEqual(w["conv2d_93/kernel"].shape, (3, 1, 384, 384))
        net = M.pretrained_nsfw_inception_net()  # raises if a tensor is missing, unused or misshapen
        self.assertEqual(count_params(net.trunk), 21785568)

    @needs_weights
    def test_whole_network_matches_tensorflow_js(self):
        x = photos()
        shape, data = run_tfjs_reference(self, "nsfwjs_inception_reference.mjs", x, timeout=600)
        self.assertEqual(shape, [2, 5])
        want = data.reshape(2, 5)
        net = M.pretrained_nsfw_inception_net()
        inp = torch.from_numpy(x).permute(0, 3, 1, 2)
        with torch.no_grad():
            got = torch.softmax(net(inp), 1).numpy()
        np.testing.assert_allclose(got, want, atol=2e-4)
        # the check can fail: kh/kw swapped in every filter, or the padding counted in the average
        # pools, moves the answers beyond the tolerance
        with torch.no_grad():
            counted = M._avg3
            try:
                M._avg3 = lambda t: F.avg_pool2d(t, 3, 1, 1)
                padded = torch.softmax(net(inp), 1).numpy()
            finally:
                M._avg3 = counted
            for layer in net.trunk.conv_layers():
                if layer.conv.kernel_size[0] == layer.conv.kernel_size[1]:
                    layer.conv.weight.copy_(layer.conv.weight.transpose(2, 3).clone())
            swapped = torch.softmax(net(inp), 1).numpy()
        self.assertGreater(float(np.abs(padded - want).max()), 1e-3)
        self.assertGreater(float(np.abs(swapped - want).max()), 0.05)


class InitTest(unittest.TestCase):
    @needs_weights
    def test_init_loads_the_trunk(self):
        m = build_model("inceptionv3", 96)
        self.assertIn("inception_v3", load_init(m, "nsfwjs", "inceptionv3"))
        w = M.read_inception()
        last = list(m.features.conv_layers())[-1]
        np.testing.assert_array_equal(last.conv.weight.detach().permute(2, 3, 1, 0).numpy(), w["conv2d_94/kernel"])
        np.testing.assert_array_equal(last.bn.running_var.numpy(), w["batch_normalization_94/moving_variance"])

    def test_bad_use_is_reported(self):
        with self.assertRaisesRegex(ValueError, "needs --arch mobilenetv2, mobilenetv2-140 or inceptionv3"):
            M.init_from_nsfwjs_inception(build_model("resnet_xs", 32), "resnet_xs")
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaisesRegex(FileNotFoundError, "nsfwjs weights not found"):
                M.read_inception(Path(tmp))


class ExportTest(unittest.TestCase):
    @needs_weights
    def test_onnx_round_trip_pretrained(self):
        size = 128
        m = build_model("inceptionv3", size)
        load_init(m, "nsfwjs", "inceptionv3")
        with torch.no_grad():
            m.head.weight.normal_(0, 0.1, generator=torch.Generator().manual_seed(0))
        assert_grad_cam_round_trip(self, m, size, "inceptionv3")


if __name__ == "__main__":
    unittest.main()
