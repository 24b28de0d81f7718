import random
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch

from unmask_train import clips as C
from unmask_train.camera_motion import FrameMove, MotionConfig, draw_motion, move_frame
from unmask_train.clip_train import ClipTrainConfig, load_clip_splits
from unmask_train.data import ImageStore
from tests.synth import make_crops_dir
from tests.test_temporal import make_clip_crops_dir


def blob(side: int, x: float, y: float) -> torch.Tensor:
    """A bright Gaussian spot centred at continuous pixel coordinates (x, y)."""
    ys, xs = torch.meshgrid(torch.arange(side) + 0.5, torch.arange(side) + 0.5, indexing="ij")
    spot = torch.exp(-((xs - x) ** 2 + (ys - y) ** 2) / 4.0)
    return spot.expand(3, side, side).clone()


def peak(img: torch.Tensor) -> np.ndarray:
    """Intensity-weighted centre of the spot, continuous pixel coordinates."""
    w = img[0] / img[0].sum()
    ys, xs = torch.meshgrid(torch.arange(img.shape[-1]) + 0.5, torch.arange(img.shape[-1]) + 0.5, indexing="ij")
    return np.array([float((w * xs).sum()), float((w * ys).sum())])


class MoveFrameTest(unittest.TestCase):
    def test_keypoints_move_with_the_image(self):
        side = 64
        for kp0, move in [((20.0, 40.0), FrameMove(0.05, -0.03, 1.1)), ((44.0, 18.0), FrameMove(-0.02, 0.04, 0.93)),
                          ((32.0, 32.0), FrameMove(0.0, 0.0, 1.0))]:
            img = blob(side, *kp0)
            kps = np.array([kp0] * 6, dtype=np.float32)
            out, moved = move_frame(img, kps, move)
            self.assertEqual(tuple(out.shape), (3, side, side))
            np.testing.assert_allclose(peak(out), moved[0], atol=0.3, err_msg=str(move))
        same, kp_same = move_frame(img, kps, FrameMove(0.0, 0.0, 1.0))
        self.assertTrue(torch.allclose(same, img, atol=1e-5))
        np.testing.assert_allclose(kp_same, kps)

    def test_drift_is_smooth_and_centred_and_jitter_bounded(self):
        cfg = MotionConfig(drift_shift=0.04, drift_scale=0.04, box_jitter=0.0)
        moves = draw_motion(random.Random(3), 9, cfg)
        dx = [m.dx for m in moves]
        self.assertAlmostEqual(dx[4], 0.0)  # the middle frame is where the drift is centred
        steps = np.diff(dx)
        np.testing.assert_allclose(steps, steps[0], atol=1e-12)  # linear
        self.assertLessEqual(abs(dx[-1] - dx[0]), 0.04 + 1e-12)
        jittery = draw_motion(random.Random(3), 9, MotionConfig(drift_shift=0, drift_scale=0, box_jitter=0.01))
        self.assertTrue(all(abs(m.dx) <= 0.01 and abs(m.scale - 1) <= 0.01 for m in jittery))
        self.assertGreater(len({m.dx for m in jittery}), 1)
        self.assertEqual(len(draw_motion(random.Random(0), 1)), 1)


class StillClipsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        root = Path(cls.tmp.name)
        cls.clips = make_clip_crops_dir(root / "clips")
        cls.stills = make_crops_dir(root / "stills", side=64, frames=1)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_only_real_training_stills_join_and_never_the_holdout(self):
        cfg = ClipTrainConfig(crops=[str(self.clips)], out="x", arch="ftcn", clip_len=4, holdout_frac=0.5,
                              still_crops=[str(self.stills)])
        s = load_clip_splits(cfg)
        plain = load_clip_splits(ClipTrainConfig(crops=[str(self.clips)], out="x", arch="ftcn", clip_len=4,
                                                 holdout_frac=0.5))
        stills = [seg for seg in s.train if seg.dataset in ("ffpp_c23_faces", "utkface")]
        self.assertEqual(len(stills), 12)  # 6 + 6 REAL train stills; FAKE and val stills stay out
        self.assertTrue(all(seg.label == 0 and seg.split == "train" and len(seg.frames) == 1 for seg in stills))
        self.assertEqual([x.key for x in s.holdout], [x.key for x in plain.holdout])
        self.assertEqual(len(s.val), len(plain.val))
        for seg in stills:  # image indices point at the stills' own files
            self.assertIn(str(self.stills), s.clips.paths[seg.images[0]])
            self.assertTrue(seg.sbi_usable())

    def test_a_still_moves_in_training_only_when_asked(self):
        cfg = ClipTrainConfig(crops=[str(self.clips)], out="x", arch="ftcn", clip_len=4,
                              still_crops=[str(self.stills)])
        s = load_clip_splits(cfg)
        store = ImageStore(s.clips.paths, 32, cache=False)
        still = next(i for i, seg in enumerate(s.train) if seg.dataset == "utkface")
        for motion in (None, MotionConfig()):
            ds = C.ClipTrainSet(s.train, store, 4, [0.5] * 3, [0.5] * 3, still_motion=motion)
            for code in (C.clip_code(still, 0), C.clip_code(still, 0, sbi=True)):
                x, _, _ = ds[code]
                moved = max(float((x[:, k] - x[:, 0]).abs().max()) for k in range(1, 4))
                if motion is None:
                    self.assertEqual(moved, 0.0)
                else:
                    self.assertGreater(moved, 1e-3)
        # video segments are never moved
        video = next(i for i, seg in enumerate(s.train) if len(seg.frames) >= 4)
        a = C.ClipTrainSet(s.train, store, 4, [0.5] * 3, [0.5] * 3)[C.clip_code(video, 0)][0]
        b = C.ClipTrainSet(s.train, store, 4, [0.5] * 3, [0.5] * 3, still_motion=MotionConfig())[C.clip_code(video, 0)][0]
        self.assertTrue(torch.equal(a, b))


if __name__ == "__main__":
    unittest.main()
