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
