"""dctnet's fixed front end: the 8x8 block DCT is orthonormal, each block's coefficients rebuild it,
a pure cosine lands in its own coefficient, and the log spectrum ignores sign."""
import math
import unittest

import torch
import torch.nn.functional as F

from unmask_train.model import build_model, count_params, default_size
from unmask_train.models_frequency import BLOCK, EPS, BlockSpectrum, dct_basis


class DctBasisTest(unittest.TestCase):
    def test_orthonormal(self):
        b = dct_basis().reshape(64, 64).double()
        self.assertTrue(torch.allclose(b @ b.T, torch.eye(64, dtype=torch.float64), atol=1e-6))

    def test_first_image_is_flat_and_frequencies_grow(self):
        b = dct_basis()
        self.assertTrue(torch.allclose(b[0], torch.full((8, 8), 1 / 8)))
        # basis u*8+v changes sign u times down a column and v times along a row
        for u, v in ((0, 3), (5, 0), (2, 7)):
            img = b[u * 8 + v]
            col = img[:, 0] if v == 0 else img[:, 1]
            row = img[0, :] if u == 0 else img[1, :]
            self.assertEqual(int((torch.sign(col[1:]) != torch.sign(col[:-1])).sum()), u)
            self.assertEqual(int((torch.sign(row[1:]) != torch.sign(row[:-1])).sum()), v)


class BlockSpectrumTest(unittest.TestCase):
    def test_coefficients_rebuild_the_ycbcr_image(self):
        torch.manual_seed(0)
        s = BlockSpectrum()
        x = torch.rand(2, 3, 32, 24) * 2 - 1
        c = s.coefficients(x)
        self.assertEqual(tuple(c.shape), (2, 192, 4, 3))
        back = F.conv_transpose2d(c, s.basis, stride=BLOCK, groups=3)
        self.assertTrue(torch.allclose(back, F.conv2d(x, s.ycbcr), atol=1e-5))

    def test_a_cosine_lands_in_its_coefficient(self):
        s = BlockSpectrum()
        u, v = 3, 5
        k = torch.arange(16, dtype=torch.float32)
        wave = lambda f: torch.cos(math.pi * (2 * (k % 8) + 1) * f / 16)  # noqa: E731
        grey = 0.5 * wave(u)[:, None] * wave(v)[None, :]
        c = s.coefficients(grey.expand(1, 3, 16, 16))  # R = G = B: luminance only
        y = c[0, :64].abs().amax(dim=(1, 2))
        self.assertEqual(int(y.argmax()), u * 8 + v)
        self.assertLess(float(y[torch.arange(64) != u * 8 + v].max()), 1e-5)
        self.assertLess(float(c[0, 64:].abs().max()), 1e-5, "no chroma in a grey picture")

    def test_log_magnitude_ignores_sign_and_floors_at_eps(self):
        s = BlockSpectrum()
        torch.manual_seed(1)
        x = torch.rand(1, 3, 16, 16) * 2 - 1
        self.assertTrue(torch.allclose(s(x), s(-x), atol=1e-5))
        self.assertAlmostEqual(float(s(torch.zeros(1, 3, 8, 8)).max()), math.log(EPS), places=5)


class DctNetTest(unittest.TestCase):
    def test_registered(self):
        m = build_model("dctnet", 64)
        self.assertEqual(default_size("dctnet"), 256)
        self.assertAlmostEqual(count_params(m) / 1e6, 1.23, delta=0.01)
        self.assertEqual(sum(p.numel() for p in m.features[0].parameters()), 0, "the transform has no weights")
        with self.assertRaises(ValueError):
            build_model("dctnet", 16)

    def test_sees_a_smoothed_middle(self):
        # Not a detector test: the features of a crop and of the same crop with its middle blurred differ,
        # i.e. the transform keeps the local sharpness that a pixel-space downscale to 128 px would lose.
        torch.manual_seed(2)
        m = build_model("dctnet", 64).eval()
        x = torch.rand(1, 3, 64, 64) * 2 - 1
        y = x.clone()
        y[..., 16:48, 16:48] = F.avg_pool2d(x[..., 16:48, 16:48], 3, 1, 1)
        f = m.features[0]
        self.assertGreater(float((f(x) - f(y)).abs().max()), 0.5)
        self.assertLess(float((f(x) - f(y))[..., 0, 0].abs().max()), 1e-6, "a corner block is untouched")


if __name__ == "__main__":
    unittest.main()
