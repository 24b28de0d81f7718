import itertools
import math
import random
import unittest

import numpy as np

from unmask_train import metrics as M


def brute_auc(y, s):
    pos = [b for a, b in zip(y, s) if a == 1]
    neg = [b for a, b in zip(y, s) if a == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


class MetricsTest(unittest.TestCase):
    def test_auc_matches_pairwise_count_with_ties(self):
        rng = random.Random(0)
        for _ in range(20):
            n = rng.randint(2, 40)
            y = [rng.randint(0, 1) for _ in range(n)]
            y[0], y[1] = 0, 1
            s = [rng.choice([-1.0, 0.0, 0.5, 2.0]) if rng.random() < 0.5 else rng.gauss(0, 1) for _ in range(n)]
            self.assertAlmostEqual(M.auc(y, s), brute_auc(y, s), places=12)

    def test_auc_extremes_and_undefined(self):
        self.assertEqual(M.auc([0, 0, 1, 1], [1, 2, 3, 4]), 1.0)
        self.assertEqual(M.auc([0, 0, 1, 1], [4, 3, 2, 1]), 0.0)
        self.assertEqual(M.auc([0, 1], [5, 5]), 0.5)
        self.assertIsNone(M.auc([1, 1], [0.1, 0.2]))

    def test_log_loss_is_stable_and_correct(self):
        self.assertAlmostEqual(M.log_loss([1, 0], [0.0, 0.0]), math.log(2))
        self.assertAlmostEqual(M.log_loss([1], [2.0]), math.log1p(math.exp(-2.0)))
        self.assertAlmostEqual(M.log_loss([0], [1000.0]), 1000.0)  # no overflow
        self.assertAlmostEqual(M.log_loss([1], [4.0], temperature=2.0), math.log1p(math.exp(-2.0)))
        self.assertIsNone(M.log_loss([], []))

    def test_fit_temperature_recovers_the_generating_temperature(self):
        rng = np.random.default_rng(0)
        z = rng.normal(0, 4, 20000)
        y = (rng.random(20000) < 1 / (1 + np.exp(-z / 2.5))).astype(float)
        t = M.fit_temperature(y, z)
        self.assertAlmostEqual(t, 2.5, delta=0.15)
        self.assertLess(M.log_loss(y, z, t), M.log_loss(y, z))
        self.assertEqual(M.fit_temperature([1, 1], [0.3, 0.2]), 1.0)

    def test_video_level_groups_by_key(self):
        y, z = M.group_mean(["a", "b", "a"], [1, 0, 1], [1.0, -2.0, 3.0])
        self.assertEqual(list(y), [1.0, 0.0])
        self.assertEqual(list(z), [2.0, -2.0])
        ev = M.evaluate(["a", "b", "a"], [1, 0, 1], [1.0, -2.0, 3.0])
        self.assertEqual((ev["frames"], ev["videos"], ev["video_auc"]), (3.0, 2.0, 1.0))

    def test_band_stats(self):
        st = M.band_stats([0, 1, 1, 0], [-3.0, 3.0, 0.0, 3.0], 1.0, M.DecisionBand(0.35, 0.65))
        self.assertAlmostEqual(st["uncertain_rate"], 0.25)
        self.assertAlmostEqual(st["decided_accuracy"], 2 / 3)


class SelectionTest(unittest.TestCase):
    """--select: which validation column decides best.pt and early stopping, lower is better."""

    def test_each_criterion_reads_its_column(self):
        from unmask_train.train import TrainConfig, check_common, selection_loss

        row = {"val_frame_auc": 0.8, "val_frame_logloss": 0.5, "val_video_auc": 0.6, "val_video_logloss": 0.7}
        self.assertEqual(selection_loss(row, "auc"), -0.8)
        self.assertEqual(selection_loss(row, "logloss"), 0.5)
        self.assertEqual(selection_loss(row, "video-auc"), -0.6)
        self.assertEqual(selection_loss(row, "video-logloss"), 0.7)
        self.assertIsNone(selection_loss({"val_frame_auc": None}, "auc"))  # no validation data
        self.assertIsNone(selection_loss({}, "video-auc"))
        with self.assertRaises(ValueError):
            check_common(TrainConfig(crops=["x"], out="y", select="video"))


if __name__ == "__main__":
    unittest.main()
