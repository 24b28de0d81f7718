import random
import unittest

import torch

from unmask_train import augment as A


class AugmentTest(unittest.TestCase):
    def test_augment_keeps_shape_dtype_and_range(self):
        rng = random.Random(0)
        img = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0))
        changed = 0
        for _ in range(30):
            out = A.augment(img, rng)
            self.assertEqual(out.shape, img.shape)
            self.assertEqual(out.dtype, torch.float32)
            self.assertGreaterEqual(float(out.min()), 0.0)
            self.assertLessEqual(float(out.max()), 1.0)
            changed += int(not torch.equal(out, img))
        self.assertGreater(changed, 20)

    def test_everything_on_always_works(self):
        cfg = A.AugmentConfig(p_jpeg=1, p_blur=1, p_noise=1, p_colour=1, p_gray=1, p_flip=1, p_affine=1)
        out = A.augment(torch.rand(3, 48, 48), random.Random(1), cfg)
        self.assertEqual(tuple(out.shape), (3, 48, 48))
        self.assertTrue(torch.allclose(out[0], out[1], atol=1 / 255 + 1e-6), "grayscale: channels equal up to JPEG rounding")

    def test_jpeg_is_lossy_but_close(self):
        img = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(0)) * 0.2 + 0.4
        out = A.jpeg(img, 30)
        self.assertEqual(out.shape, img.shape)
        err = float((out - img).abs().mean())
        self.assertGreater(err, 0.0)
        self.assertLess(err, 0.1)

    def test_blur_preserves_constants_and_smooths_noise(self):
        const = torch.full((3, 20, 20), 0.3)
        self.assertTrue(torch.allclose(A.gaussian_blur(const, 2.0), const, atol=1e-6))
        noise = torch.rand(3, 40, 40, generator=torch.Generator().manual_seed(0))
        self.assertLess(float(A.gaussian_blur(noise, 1.5).std()), 0.5 * float(noise.std()))

    def test_light_preset_is_milder_than_strong(self):
        light, strong = A.AUGMENT_PRESETS["light"], A.AUGMENT_PRESETS["strong"]
        for name in ("p_jpeg", "p_blur", "p_downscale", "p_noise", "p_affine"):
            self.assertLessEqual(getattr(light, name), getattr(strong, name), name)
        self.assertGreater(light.jpeg_quality[0], strong.jpeg_quality[0])
        self.assertGreater(light.downscale[0], strong.downscale[0])

    def test_downscale_upscale(self):
        img = torch.rand(3, 64, 64)
        out = A.downscale_upscale(img, 0.5)
        self.assertEqual(out.shape, img.shape)
        self.assertFalse(torch.equal(out, img))


if __name__ == "__main__":
    unittest.main()


class PrecropTest(unittest.TestCase):
    """`--precrop`: a crop shown as a scan sees a tightly cut face picture (black beyond it)."""

    def test_black_outside_a_square_around_the_face_box(self):
        side, margin = 160, 0.3
        box = side / (1 + 2 * margin)  # 100 px, centred
        img = torch.rand(3, side, side) * 0.9 + 0.1  # no black pixel of its own
        mask = torch.ones(1, side, side)
        for seed in range(20):
            out, m = A.precrop(img, mask, random.Random(seed), margin)
            kept = (out.sum(0) > 0)
            rows, cols = kept.any(1).nonzero(), kept.any(0).nonzero()
            h, w = int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
            # one square of 0.9-1.3 face boxes, every pixel in it untouched, the rest black
            self.assertLessEqual(abs(h - w), 1)
            self.assertTrue(0.9 * box - 1 <= h <= 1.3 * box + 1, h)
            self.assertEqual(int(kept.sum()), h * w)
            self.assertTrue(torch.equal(out[:, kept], img[:, kept]))
            # the face box's inner half always survives (its centre moves by at most 0.08 box)
            c0, c1 = round(side / 2 - box / 4), round(side / 2 + box / 4)
            self.assertTrue(bool(kept[c0:c1, c0:c1].all()))
            self.assertTrue(torch.equal(m[0] > 0, kept), "the blend mask is cut the same way")
        self.assertIsNone(A.precrop(img, None, random.Random(0), margin)[1])


class PrecropTrainSetTest(unittest.TestCase):
    def test_real_and_fake_alike_and_off_by_default(self):
        import tempfile
        from pathlib import Path
        from unmask_train.data import ImageStore, TrainSet, load_crop_set
        from tests.synth import make_crops_dir
        with tempfile.TemporaryDirectory() as tmp:
            crops = make_crops_dir(Path(tmp) / "crops", side=64, per_class=2, frames=1)
            faces = [f for f in load_crop_set(crops).faces if f.label == 0 and f.split == "train"]
            store = ImageStore([f.image for f in faces], 64, cache=True)
            n = len(faces)
            always = TrainSet(faces, store, (0, 0, 0), (1, 1, 1), augment_cfg=None, p_precrop=1.0, margin=0.3)
            never = TrainSet(faces, store, (0, 0, 0), (1, 1, 1), augment_cfg=None)
            for code in (0, n):  # a REAL face, then a self-blend of it
                img, label, _ = always.sample(code)
                self.assertEqual(label, float(code >= n))
                self.assertEqual(float(img[:, :2, :2].abs().sum()), 0.0, "corners black")
                self.assertGreater(float(never.sample(code)[0][:, :2, :2].sum()), 0.0, "off by default")
