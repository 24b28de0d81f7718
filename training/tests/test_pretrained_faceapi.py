"""`faceres` and the face-api.js weights port (unmask_train/pretrained_faceapi.py).

- Weight loading (needs only the npm package, which `npm ci` installs): every tensor is read, fits the
  network and is used; `--init faceapi` loads it into the classifier; bad use gives clear errors.
- The first training batch re-parameterises the BatchNorms without changing what the trunk computes.
- ONNX export round trip with the pretrained weights.
- Functional check of the port (needs the research data too, else skipped): descriptors of CelebA
  photos of the same person are closer than those of different people (ROC AUC of -distance over
  same/different-identity pairs). A correct port gives ~0.95; swapping the filters' kh/kw axes
  gives ~0.57, a random network ~0.5.
"""
import csv
import itertools
import os
import random
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from unmask_train import pretrained_faceapi as P
from unmask_train.metrics import auc as roc_auc
from unmask_train.model import build_model, default_size
from unmask_train.transfer import load_init
from tests.onnx_round_trip import assert_grad_cam_round_trip

REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("UNMASK_DATA", REPO.parent / "shared" / "data"))
CELEBA = DATA / "faces_real" / "celeba"


# The weights ship in an npm package: a checkout without `npm ci` (a GPU machine given only the
# working tree, say) has none, and the tests that read them say so instead of failing.
needs_weights = unittest.skipUnless((P.FACEAPI_MODEL_DIR / "face_recognition_model-weights_manifest.json").is_file(),
                                    f"@vladmandic/face-api weights not found under {P.FACEAPI_MODEL_DIR} (run `npm ci` in the repository)")


def batch(n: int, size: int, seed: int = 0) -> torch.Tensor:
    """Smooth random images in the project's [-1, 1] normalisation (upsampled noise, face-sized blobs)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, size // 8, size // 8, generator=g)
    return torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False) * 2 - 1


class WeightLoadingTest(unittest.TestCase):
    @needs_weights
    def test_manifest_tensors_fit_the_network(self):
        w = P.read_tfjs_weights()
        self.assertEqual(len(w), 117)
        self.assertAlmostEqual(sum(a.size for a in w.values()) / 1e6, 5.61, delta=0.01)
        self.assertEqual(w["conv32_down/conv/filters"].shape, (7, 7, 3, 32))
        self.assertEqual(w["conv256_down_out/conv2/conv/filters"].shape, (3, 3, 256, 256))
        self.assertEqual(w["fc"].shape, (256, 128))
        self.assertTrue(all(a.dtype == np.float32 and np.isfinite(a).all() for a in w.values()))
        # Dequantized uint8 values lie in [min, min + 255 * scale]; folded BN scales are positive.
        self.assertGreater(float(w["conv32_down/scale/weights"].min()), 0.0)
        net = P.pretrained_embedding_net()  # raises if a tensor is missing, unused or misshapen
        with torch.no_grad():
            d = net(batch(2, 150))
        self.assertEqual(tuple(d.shape), (2, 128))
        self.assertTrue(bool(torch.isfinite(d).all()))

    @needs_weights
    def test_init_faceapi_loads_the_trunk(self):
        self.assertEqual(default_size("faceres"), 150)
        m = build_model("faceres", 128)
        before = m.features.conv64_1.conv1.conv.weight.clone()
        msg = load_init(m, "faceapi", "faceres")
        self.assertIn("faceRecognitionNet", msg)
        w = P.read_tfjs_weights()
        got = m.features.conv64_1.conv1.conv.weight
        self.assertFalse(torch.equal(got, before))
        np.testing.assert_array_equal(got.detach().permute(2, 3, 1, 0).numpy(), w["conv64_1/conv1/conv/filters"])
        self.assertEqual(int(m.features.bn_calibration_pending), 1)

    @needs_weights
    def test_local_trunk_is_the_full_trunk_cut_short(self):
        # faceres-local loads the blocks it keeps and computes what the full pretrained trunk
        # computes at that depth (eval mode, so the BatchNorms hold face-api's folded scales).
        full, local = build_model("faceres", 150), build_model("faceres-local", 150)
        load_init(full, "faceapi", "faceres")
        self.assertIn("faceRecognitionNet", load_init(local, "faceapi", "faceres-local"))
        self.assertEqual(local.features.out_channels, 128)
        self.assertFalse(hasattr(local.features, "conv256_down"))
        x = batch(2, 150)
        inner: dict = {}
        full.features.conv128_2.register_forward_hook(lambda _m, _i, out: inner.setdefault("x", out))
        with torch.no_grad():
            full.eval()(x)
            got = local.eval().features(x)
        self.assertEqual(tuple(got.shape), (2, 128, 8, 8))
        torch.testing.assert_close(got, inner["x"], rtol=0, atol=1e-5)
        self.assertEqual(tuple(local(x).shape), (2, 1))
        with self.assertRaisesRegex(ValueError, "depth must be"):
            P.FaceRecTrunk(0)

    def test_bad_use_is_reported(self):
        with self.assertRaisesRegex(ValueError, "needs --arch faceres"):
            load_init(build_model("resnet_xs", 32), "faceapi", "resnet_xs")
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaisesRegex(FileNotFoundError, "face-api weights not found"):
                P.read_tfjs_weights(Path(tmp))


class CalibrationTest(unittest.TestCase):
    @needs_weights
    def test_first_training_batch_keeps_the_function(self):
        torch.manual_seed(0)
        m = build_model("faceres", 128)
        load_init(m, "faceapi", "faceres")
        x = batch(16, 128, seed=1)
        m.eval()
        with torch.no_grad():
            ref = m.features(x)
        m.train()
        with torch.no_grad():
            train_out = m.features(x)  # calibrates, then runs with batch statistics
        self.assertEqual(int(m.features.bn_calibration_pending), 0)
        scale = float(ref.abs().max())
        self.assertLess(float((train_out - ref).abs().max()) / scale, 1e-3)
        # (The training pass also moved the running statistics by momentum, with unbiased variances.)
        # Re-parameterising leaves eval mode unchanged too.
        m2 = build_model("faceres", 128)
        load_init(m2, "faceapi", "faceres")
        m2.eval()
        m2.features.calibrate_bn(x)
        with torch.no_grad():
            self.assertLess(float((m2.features(x) - ref).abs().max()) / scale, 1e-4)
        # A second training batch does not re-calibrate.
        w = m.features.conv32_down.bn.weight.clone()
        m.train()
        with torch.no_grad():
            m.features(batch(16, 128, seed=2))
        self.assertTrue(torch.equal(w, m.features.conv32_down.bn.weight))

    def test_random_init_trains(self):
        m = build_model("faceres", 128)
        self.assertEqual(int(m.features.bn_calibration_pending), 0)
        y = m(batch(4, 128))
        y.sum().backward()
        self.assertTrue(all(p.grad is not None and torch.isfinite(p.grad).all() for p in m.parameters()))


class ExportTest(unittest.TestCase):
    @needs_weights
    def test_onnx_round_trip_pretrained(self):
        size = 150
        m = build_model("faceres", size)
        load_init(m, "faceapi", "faceres")
        m.train()
        with torch.no_grad():
            m(batch(8, size))  # calibrates the BNs, as the first training step does
            m.head.weight.normal_(0, 0.1, generator=torch.Generator().manual_seed(0))
        assert_grad_cam_round_trip(self, m, size, "faceres")


def celeba_identity_auc(root: Path, identities: int = 40, per_identity: int = 5, crop: float = 0.65):
    """ROC AUC of -distance between face descriptors, same- vs different-identity pairs (as many
    different pairs as same pairs, drawn with a fixed seed). Photos with one detected face, centre
    crop of `crop` x the shorter side (the photos frame the face loosely; dlib's chips are tight),
    bilinear to 150 px as face-api's toBatchTensor."""
    with (root / "manifest.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["faces_detected"] == "1"]
    by_id = {}
    for r in rows:
        by_id.setdefault(r["identity_or_video_id"], []).append(r["file"])
    ids = sorted(k for k, v in by_id.items() if len(v) >= 4)
    random.Random(0).shuffle(ids)
    files = [(i, f) for i in ids[:identities] for f in by_id[i][:per_identity]]

    def load(f: str) -> torch.Tensor:
        im = Image.open(root / f).convert("RGB")
        w, h = im.size
        s = min(w, h) * crop
        im = im.crop(((w - s) / 2, (h - s) / 2, (w + s) / 2, (h + s) / 2)).resize((150, 150), Image.BILINEAR)
        return P.to_input(np.asarray(im))

    net = P.pretrained_embedding_net()
    with torch.no_grad():
        emb = torch.cat([net(torch.cat([load(f) for _, f in files[k:k + 32]])) for k in range(0, len(files), 32)])
    ids_of = [i for i, _ in files]
    same = [(a, b) for a, b in itertools.combinations(range(len(files)), 2) if ids_of[a] == ids_of[b]]
    rng, diff = random.Random(1), []
    while len(diff) < len(same):
        a, b = rng.randrange(len(files)), rng.randrange(len(files))
        if ids_of[a] != ids_of[b]:
            diff.append((a, b))
    dist = [float((emb[a] - emb[b]).norm()) for a, b in same + diff]
    labels = [1] * len(same) + [0] * len(diff)
    return roc_auc(labels, [-d for d in dist]), len(files), len(same), len(diff)


class PortCheckTest(unittest.TestCase):
    def test_same_identity_descriptors_are_closer(self):
        if not (CELEBA / "manifest.csv").is_file():
            self.skipTest(f"research data not found at {CELEBA} (set UNMASK_DATA)")
        auc, n, n_same, n_diff = celeba_identity_auc(CELEBA)
        print(f"\nface-api port check: CelebA {n} photos, {n_same} same / {n_diff} different-identity pairs, "
              f"ROC AUC of -distance {auc:.3f}")
        self.assertGreater(auc, 0.9)


if __name__ == "__main__":
    unittest.main()
