import dataclasses
import random
import unittest

import numpy as np
import torch

from unmask_train import sbi as S

SIDE = 96
# A frontal face in a 96 px crop: eyes, nose, mouth, ears.
KP = np.array([[36, 40], [60, 40], [48, 52], [48, 64], [24, 44], [72, 44]], dtype=np.float32)


def textured(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(3, SIDE, SIDE, generator=g) * 0.6 + 0.2


class SbiTest(unittest.TestCase):
    def test_convex_hull(self):
        pts = [(0, 0), (2, 0), (2, 2), (0, 2), (1, 1), (1, 0)]
        self.assertEqual(sorted(S.convex_hull(pts)), [(0.0, 0.0), (0.0, 2.0), (2.0, 0.0), (2.0, 2.0)])

    def test_mask_points_extend_below_mouth_and_above_eyes(self):
        pts = S.mask_points(KP, random.Random(0), S.SbiConfig())
        self.assertEqual(pts.shape, (9, 2))
        self.assertGreater(pts[6, 1], KP[3, 1] + 5)  # chin below the mouth
        self.assertLess(pts[7:, 1].max(), KP[0, 1])  # brows above the eyes

    def test_self_blend_shapes_and_ranges(self):
        rng = random.Random(1)
        for seed in range(10):
            img = textured(seed)
            fake, mask = S.self_blend(img, KP, rng)
            self.assertEqual(tuple(fake.shape), (3, SIDE, SIDE))
            self.assertEqual(tuple(mask.shape), (1, SIDE, SIDE))
            self.assertGreaterEqual(float(fake.min()), 0.0)
            self.assertLessEqual(float(fake.max()), 1.0)
            self.assertGreaterEqual(float(mask.min()), 0.0)
            self.assertLessEqual(float(mask.max()), 1.0)

    def test_mask_covers_face_not_corners_and_only_face_changes(self):
        cfg = S.SbiConfig(blend_ratios=(1.0,))
        rng = random.Random(2)
        for seed in range(10):
            img = textured(seed)
            fake, mask = S.self_blend(img, KP, rng, cfg)
            m = mask[0]
            self.assertGreater(float(m[52, 48]), 0.9, "nose inside the mask")
            self.assertGreater(float(m[64, 48]), 0.5, "mouth inside the mask")
            for y, x in [(2, 2), (2, SIDE - 3), (SIDE - 3, 2), (SIDE - 3, SIDE - 3)]:
                self.assertEqual(float(m[y, x]), 0.0, "corners outside the mask")
            outside = m == 0
            self.assertTrue(torch.equal(fake[:, outside], img[:, outside]), "pixels outside the mask unchanged")
            inside = m > 0.9
            self.assertGreater(float((fake[:, inside] - img[:, inside]).abs().mean()), 1e-3, "the face is altered")

    def test_source_target_augmentation_alters_either_side(self):
        """`sta`: sometimes the surroundings carry the appearance change (the face is only moved),
        sometimes the face; both stay valid images, and a blocky downscale is among the changes."""
        cfg = S.SbiConfig(blend_ratios=(1.0,), p_swap=0.5, p_downscale=0.5)
        rng = random.Random(3)
        outside_changed = outside_same = 0
        for seed in range(30):
            img = textured(seed)
            fake, mask = S.self_blend(img, KP, rng, cfg)
            self.assertGreaterEqual(float(fake.min()), 0.0)
            self.assertLessEqual(float(fake.max()), 1.0)
            outside = mask[0] == 0
            if torch.equal(fake[:, outside], img[:, outside]):
                outside_same += 1
            else:
                outside_changed += 1
        self.assertGreater(outside_changed, 5, "target altered in some draws")
        self.assertGreater(outside_same, 5, "source altered in others")
        self.assertEqual(set(S.SBI_PRESETS), {"basic", "sta", "colour", "parts", "landmarks"})
        self.assertEqual(S.SBI_PRESETS["basic"], S.SbiConfig(), "basic = the original recipe")

    def test_region_masks_cover_part_of_the_face(self):
        """`parts`: inner and lower masks keep the brows (and, for lower, the eyes) outside, cover the
        mouth, and are smaller than the whole-face mask."""
        def area(pts):
            m = S.polygon_mask(S.convex_hull(pts), SIDE, SIDE)[0]
            return m, float(m.sum())
        whole, whole_area = area(S.mask_points(KP, random.Random(0), S.SbiConfig()))
        for region in S.REGIONS:
            for seed in range(5):
                m, a = area(S.region_points(KP, region, random.Random(seed), S.SbiConfig()))
                self.assertLess(a, 0.8 * whole_area, region)
                self.assertEqual(float(m[64, 48]), 1.0, f"{region}: mouth inside")
                self.assertEqual(float(m[30, 36]), 0.0, f"{region}: brow outside")
                self.assertEqual(float(m[44, 24]), 0.0, f"{region}: ear outside")
                if region == "lower":
                    self.assertEqual(float(m[40, 36]), 0.0, "lower: eye outside")
                else:
                    self.assertEqual(float(m[40, 36]), 1.0, "inner: eye inside")
        with self.assertRaises(ValueError):
            S.region_points(KP, "forehead", random.Random(0), S.SbiConfig())

    def test_parts_preset_mixes_whole_and_part_masks_and_basic_draws_are_unchanged(self):
        parts = S.SBI_PRESETS["parts"]
        rng = random.Random(3)
        sizes = [float((S.self_blend(textured(i), KP, rng, dataclasses.replace(parts, blend_ratios=(1.0,)))[1] > 0.5).sum())
                 for i in range(40)]
        _, whole = S.self_blend(textured(0), KP, random.Random(0), S.SbiConfig(blend_ratios=(1.0,), morph_radius=0.0))
        small = sum(s < 0.8 * float((whole > 0.5).sum()) for s in sizes)
        self.assertTrue(8 <= small <= 32, f"about half the masks are parts: {small} of 40")
        # p_region = 0 draws nothing extra: the basic recipe's draws are what they were
        a = S.self_blend(textured(1), KP, random.Random(9), S.SbiConfig())
        rng = random.Random(9)
        hull = S.convex_hull(S.mask_points(KP, rng, S.SbiConfig()))
        self.assertTrue(torch.equal(a[1], S.deform_mask(S.polygon_mask(hull, SIDE, SIDE), rng, S.SbiConfig())
                                    * rng.choice(S.SbiConfig().blend_ratios)))

    def test_colour_preset_never_changes_sharpness(self):
        """`colour`: with the colour changes set to zero, the altered face is the face itself in every
        draw; the basic recipe, so set, still sharpens or blurs it in some draws."""
        neutral = dict(brightness=0.0, contrast=0.0, saturation=0.0, hue=0.0, rgb_shift=0.0)
        colour = dataclasses.replace(S.SBI_PRESETS["colour"], **neutral)
        basic = dataclasses.replace(S.SBI_PRESETS["basic"], **neutral)
        img = textured(5)
        rng = random.Random(0)
        for _ in range(20):
            self.assertTrue(torch.allclose(S.alter_appearance(img, rng, colour), img, atol=1e-6))
        changed = sum(not torch.allclose(S.alter_appearance(img, rng, basic), img, atol=1e-6) for _ in range(20))
        self.assertGreater(changed, 5)

    def test_nearest_downscale_is_blocky(self):
        img = textured(4)
        out = S.nearest_downscale(img, 0.25)
        self.assertEqual(out.shape, img.shape)
        # A 1/4 nearest shrink keeps 24 x 24 samples; the bilinear enlargement cannot add detail back,
        # so neighbouring pixels differ much less than in the random texture.
        def roughness(x):
            return float((x[:, :, 1:] - x[:, :, :-1]).abs().mean())
        self.assertLess(roughness(out), 0.5 * roughness(img))

    def test_zero_jitter_is_the_plain_blend_and_jitter_keeps_the_draw(self):
        for seed in range(5):
            img = textured(seed)
            plain, m0 = S.self_blend(img, KP, random.Random(seed))
            zero, m1 = S.self_blend(img, KP, random.Random(seed), S.SbiConfig(), S.FrameJitter())
            self.assertTrue(torch.equal(plain, zero) and torch.equal(m0, m1))
            jit = S.draw_jitter(random.Random(100 + seed), 1.0)
            self.assertNotEqual(jit, S.NO_JITTER)
            moved, m2 = S.self_blend(img, KP, random.Random(seed), S.SbiConfig(), jit)
            # the same hull and edge (the draw), rescaled by the jittered ratio only
            ratio = m2.max() / m0.max()
            self.assertTrue(torch.allclose(m0 * ratio, m2, atol=1e-6))
            self.assertFalse(torch.equal(plain, moved))
            outside = m0[0] == 0
            self.assertTrue(torch.equal(moved[:, outside], img[:, outside]))
        self.assertIs(S.draw_jitter(random.Random(0), 0.0), S.NO_JITTER)
        amp = S.draw_jitter(random.Random(0), 1.0)
        self.assertLessEqual(abs(amp.dx), S.JITTER_SHIFT)
        self.assertLessEqual(max(abs(c) for c in amp.rgb), S.JITTER_RGB)

    def test_keypoints_usable(self):
        self.assertTrue(S.keypoints_usable(KP, SIDE))
        bad = KP.copy()
        bad[1] = bad[0]  # eyes on top of each other
        self.assertFalse(S.keypoints_usable(bad, SIDE))
        self.assertFalse(S.keypoints_usable(KP + SIDE, SIDE))
        nan = KP.copy()
        nan[2, 0] = np.nan
        self.assertFalse(S.keypoints_usable(nan, SIDE))


if __name__ == "__main__":
    unittest.main()
