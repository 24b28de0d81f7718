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


class JpegScaleTest(unittest.TestCase):
    @staticmethod
    def column_steps(img: torch.Tensor) -> torch.Tensor:
        """Mean absolute step between neighbouring columns, per column boundary."""
        return (img[:, :, 1:] - img[:, :, :-1]).abs().mean(dim=(0, 1))

    def smooth_picture(self) -> torch.Tensor:
        # low-frequency content only, so steps in the output are the codec's block edges
        small = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(3))
        return torch.nn.functional.interpolate(small, size=(96, 96), mode="bicubic", align_corners=False)[0].clamp(0, 1)

    def test_the_block_grid_lands_8_over_scale_pixels_apart(self):
        img = self.smooth_picture()
        native = self.column_steps(A.jpeg(img, 5))
        self.assertGreater(float(native[7::8].mean() / native.mean()), 2.0, "block edges every 8 pixels stand out")
        # halfway between two 8-pixel edges (columns 8k+3 | 8k+4): no edge natively, one when enlarged 2x
        self.assertLess(float(native[3::8].mean() / native[7::8].mean()), 0.35)
        doubled = self.column_steps(A.jpeg(img, 5, 2.0))
        self.assertGreater(float(doubled[3::8].mean() / doubled[7::8].mean()), 0.4, "enlarged 2x: edges every 4 pixels")

    def test_scale_one_is_the_plain_round_trip(self):
        img = torch.rand(3, 40, 40, generator=torch.Generator().manual_seed(1))
        self.assertTrue(torch.equal(A.jpeg(img, 40, 1.0), A.jpeg(img, 40)))
        out = A.jpeg(img, 40, 2.5)
        self.assertEqual(out.shape, img.shape)
        self.assertGreaterEqual(float(out.min()), 0.0)
        self.assertLessEqual(float(out.max()), 1.0)

    def test_training_options_are_checked(self):
        from unmask_train.train import TrainConfig, augment_config, check_common

        cfg = TrainConfig(crops="c", out="o", augment="strong", jpeg_scale=(1.5, 3.0))
        self.assertEqual(augment_config(cfg).jpeg_scale, (1.5, 3.0))
        self.assertEqual(augment_config(TrainConfig(crops="c", out="o", augment="strong")), A.AUGMENT_PRESETS["strong"])
        for scale, augment, msg in [((0.5, 2.0), "strong", "1 <= LO <= HI; got 0.5 2"), ((3.0, 2.0), "strong", "got 3 2"),
                                    ((2.0, 3.0), "none", "needs --augment light or strong")]:
            with self.subTest(scale=scale, augment=augment), self.assertRaisesRegex(ValueError, msg):
                check_common(TrainConfig(crops="c", out="o", augment=augment, jpeg_scale=scale))


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
