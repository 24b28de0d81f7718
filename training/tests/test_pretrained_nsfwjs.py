"""`mobilenetv2` and the nsfwjs weights port (unmask_train/pretrained_nsfwjs.py).

- Weight loading (needs only the npm package, which `npm ci` installs, and node): every tensor is
  read, fits the network and is used; `--init nsfwjs` loads the trunk; bad use gives clear errors.
- Keras's stride-2 padding (bottom/right on even sides) is reproduced, not PyTorch's symmetric one.
- Functional check of the port: the whole nsfwjs network, run on two photos that face-api ships,
  gives nsfwjs's kind of answer: a head-and-shoulders portrait is "Neutral" (0.98 with a correct
  port), a group photo of women in party dresses is "Porn" (0.66) or "Sexy". With every filter's
  kh/kw axes swapped the portrait reads "Drawing" (0.65); with one block's weights shuffled the group
  reads "Neutral" (0.91). PyTorch's symmetric padding still passes this check (0.96, "Sexy"): the
  padding test above is what catches it.
- ONNX export round trip with the pretrained weights.
"""
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from unmask_train import pretrained_nsfwjs as P
from unmask_train.model import build_model, count_params, default_size
from unmask_train.transfer import load_init
from tests.onnx_round_trip import assert_grad_cam_round_trip

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "node_modules" / "@vladmandic" / "face-api" / "demo"


# The weights ship in an npm package: a checkout without `npm ci` (a GPU machine given only the
# working tree, say) has none, and the tests that read them say so instead of failing.
needs_weights = unittest.skipUnless((P.NSFWJS_MODEL_DIR / "model.min.js").is_file(),
                                    f"nsfwjs weights not found under {P.NSFWJS_MODEL_DIR} (run `npm ci` in the repository)")


def nsfwjs_input(path: Path) -> torch.Tensor:
    """A photo as nsfwjs feeds it: 224x224 bilinear, rgb / 255, [1,3,224,224]."""
    im = Image.open(path).convert("RGB").resize((224, 224), Image.BILINEAR)
    return torch.from_numpy(np.array(im)).permute(2, 0, 1).float().div(255).unsqueeze(0)


class WeightLoadingTest(unittest.TestCase):
    @needs_weights
    def test_manifest_tensors_fit_the_network(self):
        topology, w = P.read_nsfwjs()
        layers = topology["model_config"]["config"]["layers"]
        self.assertEqual(layers[0]["config"]["batch_input_shape"], [None, 224, 224, 3])
        self.assertEqual(len(w), 266)
        self.assertEqual(w["Conv1/kernel"].shape, (3, 3, 3, 32))
        self.assertEqual(w["block_16_project/kernel"].shape, (1, 1, 960, 320))
        self.assertEqual(w["dense_3/kernel"].shape, (128, 5))
        self.assertTrue(all(a.dtype == np.float32 and np.isfinite(a).all() for a in w.values()))
        # the ImageNet layers were frozen by nsfwjs ("trainable": false), the top fine-tuned
        trainable = {l["name"] for l in layers if l["config"].get("trainable")}
        self.assertNotIn("block_10_project", trainable)
        self.assertIn("block_11_expand", trainable)
        net = P.pretrained_nsfw_net()  # raises if a tensor is missing, unused or misshapen
        self.assertEqual(count_params(net.trunk), 2223872)  # Keras: 2,257,984 with the BN moving statistics

    @needs_weights
    def test_init_nsfwjs_loads_the_trunk(self):
        self.assertEqual(default_size("mobilenetv2"), 224)
        m = build_model("mobilenetv2", 96)
        msg = load_init(m, "nsfwjs", "mobilenetv2")
        self.assertIn("nsfwjs", msg)
        _, w = P.read_nsfwjs()
        dw = m.features.blocks[3].depthwise.conv.weight  # block_3: first 32-channel block (144 wide)
        np.testing.assert_array_equal(dw.detach().permute(2, 3, 0, 1).numpy(), w["block_3_depthwise/depthwise_kernel"])
        np.testing.assert_array_equal(m.features.last.bn.running_var.numpy(), w["Conv_1_bn/moving_variance"])
        x = torch.rand(2, 3, 96, 96) * 2 - 1
        self.assertEqual(tuple(m(x).shape), (2, 1))

    def test_bad_use_is_reported(self):
        with self.assertRaisesRegex(ValueError, "needs --arch mobilenetv2"):
            load_init(build_model("resnet_xs", 32), "nsfwjs", "resnet_xs")
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaisesRegex(FileNotFoundError, "nsfwjs weights not found"):
                P.read_nsfwjs(Path(tmp))
            (Path(tmp) / "model.min.js").write_text("module.exports = {modelTopology: {}, weightsManifest: "
                                                    "[{paths: ['w'], weights: [{name: 'a', shape: [4], dtype: 'float32'}]}]};")
            (Path(tmp) / "w.min.js").write_text("module.exports = 'AAAA';")  # 3 bytes for 16
            with self.assertRaisesRegex(FileNotFoundError, "runs past the end"):
                P.read_nsfwjs(Path(tmp))


class PortTest(unittest.TestCase):
    def test_stride_two_pads_like_keras(self):
        # A filter that reads only its top-left tap: Keras ('valid' after one zero row/column at the
        # bottom/right of an even side) gives out[i, j] = in[2i, 2j]; PyTorch's symmetric padding
        # would give in[2i - 1, 2j - 1].
        layer = P.ConvBN(1, 1, 3, 2, relu6=False).eval()
        with torch.no_grad():
            layer.conv.weight.zero_()
            layer.conv.weight[0, 0, 0, 0] = 1.0
            layer.bn.running_var.fill_(1.0 - layer.bn.eps)
        x = torch.arange(64, dtype=torch.float32).view(1, 1, 8, 8)
        with torch.no_grad():
            y = layer(x)
        self.assertEqual(tuple(y.shape), (1, 1, 4, 4))
        torch.testing.assert_close(y, x[:, :, ::2, ::2])
        # an odd side is padded on both sides (Keras correct_pad): 7 -> 4, out[0] reads the zero row
        with torch.no_grad():
            y7 = layer(torch.ones(1, 1, 7, 7))
        self.assertEqual(tuple(y7.shape), (1, 1, 4, 4))
        self.assertEqual(float(y7[0, 0, 0, 0]), 0.0)
        self.assertEqual(float(y7[0, 0, 1, 1]), 1.0)

    @needs_weights
    def test_whole_network_answers_like_nsfwjs(self):
        net = P.pretrained_nsfw_net()
        with torch.no_grad():
            portrait = torch.softmax(net(nsfwjs_input(SAMPLES / "sample1.jpg")), 1)[0]
            group = torch.softmax(net(nsfwjs_input(SAMPLES / "sample2.jpg")), 1)[0]
        neutral = P.NSFW_CLASSES.index("Neutral")
        self.assertGreater(float(portrait[neutral]), 0.9)
        self.assertIn(P.NSFW_CLASSES[int(group.argmax())], ("Porn", "Sexy"))


class ExportTest(unittest.TestCase):
    @needs_weights
    def test_onnx_round_trip_pretrained(self):
        size = 96
        m = build_model("mobilenetv2", size)
        load_init(m, "nsfwjs", "mobilenetv2")
        with torch.no_grad():
            m.head.weight.normal_(0, 0.1, generator=torch.Generator().manual_seed(0))
        assert_grad_cam_round_trip(self, m, size, "mobilenetv2")

if __name__ == "__main__":
    unittest.main()
