"""Blended images from two people (cross_blend.py, `train --cross-blend`): the geometry (similarity fit,
warp, pose-free shape), donor choice (never the same identity, nearest shapes first), colour matching,
the blend itself, its place in TrainSet, and the option's one-line refusals."""
import random
import subprocess
import sys
import tempfile
import unittest
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from unmask_train import cross_blend as X
from unmask_train import sbi as S
from unmask_train import warp as W
from unmask_train.data import ImageStore, TrainSet, load_crop_set
from tests.synth import frontal_landmarks, make_crops_dir

SIDE = 96


def similarity(angle: float, scale: float, shift) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[scale * c, -scale * s, shift[0]], [scale * s, scale * c, shift[1]]])


def apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ m[:, :2].T + m[:, 2]


class GeometryTest(unittest.TestCase):
    def test_similarity_fit_recovers_a_known_transform(self):
        src = frontal_landmarks(SIDE) + np.random.default_rng(0).normal(0, 1.0, (68, 2))
        want = similarity(0.3, 1.2, (5.0, -7.0))
        got = W.similarity_transform(src, apply(want, src))
        np.testing.assert_allclose(got, want, atol=1e-9)

    def test_similarity_fit_never_reflects(self):
        src = frontal_landmarks(SIDE) + np.random.default_rng(1).normal(0, 1.0, (68, 2))
        mirrored = src * [-1, 1] + [SIDE, 0]
        m = W.similarity_transform(src, mirrored)
        self.assertGreater(np.linalg.det(m[:, :2]), 0)

    def test_warp_moves_content_where_the_matrix_says(self):
        img = torch.zeros(3, SIDE, SIDE)
        yy, xx = torch.meshgrid(torch.arange(SIDE, dtype=torch.float32), torch.arange(SIDE, dtype=torch.float32),
                                indexing="ij")
        img[:] = torch.exp(-((xx + 0.5 - 30) ** 2 + (yy + 0.5 - 40) ** 2) / (2 * 3.0 ** 2))  # a blob at (30, 40)
        m = similarity(0.4, 1.1, (12.0, -5.0))
        out = W.warp_similarity(img, m)[0]
        w = out / out.sum()
        centre = np.array([float((w * (xx + 0.5)).sum()), float((w * (yy + 0.5)).sum())])
        # pixel i spans [i, i + 1), as keypoints use them: half a pixel off would miss by 0.2 px here
        np.testing.assert_allclose(centre, apply(m, np.array([[30.0, 40.0]]))[0], atol=0.02)
        self.assertTrue(torch.allclose(W.warp_similarity(img, similarity(0, 1, (0, 0))), img, atol=1e-5), "identity")

    def test_shape_vector_ignores_position_size_and_roll(self):
        lm = frontal_landmarks(SIDE)
        a = X.shape_vector(lm)
        b = X.shape_vector(apply(similarity(-0.5, 0.7, (20.0, 3.0)), lm))
        np.testing.assert_allclose(a, b, atol=1e-5)
        other = lm.copy()
        other[48:68, 1] += 10  # a longer face: another shape
        self.assertGreater(float(np.abs(X.shape_vector(other) - a).max()), 0.01)


class DonorTest(unittest.TestCase):
    def test_nearest_first_and_never_the_same_identity(self):
        shapes = np.array([[0.0], [0.1], [0.25], [1.0], [3.0]], dtype=np.float32)
        ids = ["a", "a", "b", "c", "d"]
        near = X.nearest_donors(shapes, ids, k=3, chunk=2)  # chunks of 2 rows exercise the loop
        self.assertEqual(near[0].tolist(), [2, 3, 4])  # not 1: the same person
        self.assertEqual(near[2].tolist(), [1, 0, 3])
        self.assertEqual(near[4].tolist(), [3, 2, 1])
        self.assertEqual([len(d) for d in X.nearest_donors(shapes[:2], ids[:2], k=3)], [0, 0], "one identity: none")

    def test_donor_table_indexes_faces_and_skips_those_without_landmarks(self):
        lm = frontal_landmarks(SIDE)

        class F:
            def __init__(self, group, landmarks):
                self.group, self.landmarks = group, landmarks

        faces = [F("p", lm), F("q", None), F("r", lm + 1.0), F("s", lm * 1.01), F("t", lm)]
        table = X.donor_table(faces, [0, 1, 2, 3], k=5)  # face 4 is no source, so no donor either
        self.assertEqual(sorted(table), [0, 2, 3])
        self.assertEqual(sorted(table[0].tolist()), [2, 3])
        self.assertEqual(X.donor_table(faces, [0, 1]), {}, "one face with landmarks: no pairs")


class BlendTest(unittest.TestCase):
    def test_colour_is_matched_inside_the_region(self):
        g = torch.Generator().manual_seed(0)
        source = torch.rand(3, SIDE, SIDE, generator=g) * 0.3 + 0.6
        target = torch.rand(3, SIDE, SIDE, generator=g) * 0.4 + 0.1
        region = torch.zeros(1, SIDE, SIDE)
        region[:, 20:70, 25:75] = 1
        out = X.match_colour(source, target, region)
        inside = region[0] > 0.5
        torch.testing.assert_close(out[:, inside].mean(1), target[:, inside].mean(1), atol=1e-4, rtol=0)
        torch.testing.assert_close(out[:, inside].std(1), target[:, inside].std(1), atol=1e-4, rtol=0)

    def test_donor_texture_inside_the_mask_target_outside(self):
        lm = frontal_landmarks(SIDE)
        bands = (torch.arange(SIDE) // 4 % 2).float()[:, None]  # horizontal bands: no change along a row
        target = (0.3 + 0.3 * bands).expand(3, SIDE, SIDE).clone()
        stripes = (torch.arange(SIDE) // 2 % 2).float()  # fine vertical stripes: texture the target lacks
        donor = (0.2 + 0.6 * stripes).expand(3, SIDE, SIDE).clone()
        donor_lm = apply(similarity(0.1, 0.9, (6.0, 4.0)), lm)
        cfg = S.SbiConfig(landmark_mask=True, blend_ratios=(1.0,))
        for seed in range(5):
            fake, mask = X.cross_blend(target, lm, donor, donor_lm, random.Random(seed), cfg)
            self.assertEqual(tuple(fake.shape), (3, SIDE, SIDE))
            m = mask[0]
            self.assertGreater(float(m[52, 48]), 0.9, "nose inside the mask")
            outside = m == 0
            self.assertTrue(torch.equal(fake[:, outside], target[:, outside]), "outside the mask unchanged")
            rows = fake[0, 45:60, 40:56]  # (colour matching keeps texture, rescaled to the target's spread)
            self.assertGreater(float((rows[:, 1:] - rows[:, :-1]).abs().mean()), 0.05, "the donor's stripes inside")


class TrainSetTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        crops = make_crops_dir(Path(self.tmp.name) / "crops", side=64, per_class=3, frames=1)
        reals = [f for f in load_crop_set(crops).faces if f.label == 0]
        self.faces = [replace(f, group=f"id{i}", landmarks=frontal_landmarks(f.crop_size)) for i, f in enumerate(reals)]
        self.store = ImageStore([f.image for f in self.faces], 64, cache=True)
        self.donors = X.donor_table(self.faces, range(len(self.faces)))

    def tearDown(self):
        self.tmp.cleanup()

    def make(self, **kw):
        return TrainSet(self.faces, self.store, (0, 0, 0), (1, 1, 1), augment_cfg=None,
                        sbi_cfg=S.SBI_PRESETS["landmarks"], **kw)

    def test_off_by_default_replays_the_self_blend_recipe(self):
        n = len(self.faces)
        plain = self.make().sample(n)
        unused = self.make(p_cross=0.0, donors=self.donors).sample(n)
        self.assertTrue(torch.equal(plain[0], unused[0]))

    def test_cross_blends_are_fakes_with_a_mask_and_differ_from_self_blends(self):
        n = len(self.faces)
        plain = self.make()
        cross = self.make(p_cross=1.0, donors=self.donors)
        differ = 0
        for i in range(n):
            img, label, mask = cross.sample(n + i)
            self.assertEqual(label, 1.0)
            self.assertIsNotNone(mask)
            differ += int(not torch.allclose(img, plain.sample(n + i)[0]))
        self.assertGreater(differ, 0)


class RefusalTest(unittest.TestCase):
    def test_refusals_in_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            crops = make_crops_dir(Path(tmp) / "crops", side=32, per_class=2, frames=1)  # no landmarks file
            cases = [(["--arch", "c3d", "--cross-blend", "0.5"], "error: --cross-blend applies to frame archs only"),
                     (["--cross-blend", "1.5"],
                      "unmask_train: --cross-blend is a share of the synthetic fakes, in [0, 1]; got 1.5"),
                     (["--cross-blend", "0.5", "--sbi-ratio", "0"],
                      "unmask_train: --cross-blend replaces some self-blends: it needs --sbi-ratio > 0"),
                     (["--cross-blend", "0.5", "--size", "32"],
                      "unmask_train: --cross-blend needs face-api landmarks on the REAL faces of two identities or "
                      f"more: run `python -m unmask_train landmarks --crops {crops}` first")]
            for args, said in cases:
                r = subprocess.run([sys.executable, "-m", "unmask_train", "train", "--crops", str(crops), *args,
                                    "--epochs", "1", "--out", str(Path(tmp) / "run")],
                                   capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
                self.assertNotEqual(r.returncode, 0, args)
                self.assertEqual(r.stderr.strip().splitlines()[-1], said, args)


if __name__ == "__main__":
    unittest.main()
