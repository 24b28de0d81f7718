import json
import random
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch

from unmask_train import augment as A
from unmask_train import boundary as B
from unmask_train import data as D
from unmask_train import sbi as S
from unmask_train.export import export_run
from unmask_train.model import build_model, load_checkpoint
from unmask_train.pretrained_faceapi import faceres
from unmask_train.train import TrainConfig, train
from tests.synth import make_crops_dir

SIDE = 96
KP = np.array([[36, 40], [60, 40], [48, 52], [48, 64], [24, 44], [72, 44]], dtype=np.float32)


class BoundaryMapTest(unittest.TestCase):
    def test_boundary_is_the_mask_edge(self):
        self.assertTrue(torch.equal(B.boundary_map(torch.zeros(1, 8, 8)), torch.zeros(1, 8, 8)))
        ramp = torch.linspace(0, 0.5, 11).view(1, 1, 11)  # a blend ratio of 0.5 dims the mask
        b = B.boundary_map(ramp)[0, 0]
        self.assertAlmostEqual(float(b[0]), 0.0)
        self.assertAlmostEqual(float(b[5]), 1.0, places=5)  # half-way up the edge, whatever the ratio
        self.assertAlmostEqual(float(b[10]), 0.0, places=5)

    def test_self_blend_boundary_rings_the_face(self):
        rng = random.Random(0)
        img = torch.rand(3, SIDE, SIDE, generator=torch.Generator().manual_seed(0))
        for _ in range(5):
            _, mask = S.self_blend(img, KP, rng, S.SbiConfig(blend_ratios=(1.0,)))
            b = B.boundary_map(mask)[0]
            self.assertEqual(float(b[2, 2]), 0.0, "corner: outside the mask")
            self.assertLess(float(b[52, 48]), 0.5, "nose: inside the mask")
            self.assertGreater(float(b.max()), 0.9, "the edge is somewhere")
            grid = B.pooled_target(B.boundary_map(mask), 6)
            self.assertEqual(tuple(grid.shape), (1, 6, 6))
            self.assertAlmostEqual(float(grid.mean()), float(b.mean()), places=5)


class AugmentWithMaskTest(unittest.TestCase):
    def test_same_draws_as_augment(self):
        img = torch.rand(3, 40, 40, generator=torch.Generator().manual_seed(1))
        mask = torch.rand(1, 40, 40)
        for seed in range(20):
            a = A.augment(img, random.Random(seed), A.AUGMENT_PRESETS["strong"])
            b, m = A.augment_with_mask(img, mask, random.Random(seed), A.AUGMENT_PRESETS["strong"])
            self.assertTrue(torch.equal(a, b), seed)
            self.assertEqual(tuple(m.shape), (1, 40, 40))

    def test_mask_moves_with_the_image(self):
        # Photometric steps off, flip and shift-scale-rotate on: an image that is its own mask stays so.
        cfg = A.AugmentConfig(p_jpeg=0, p_blur=0, p_downscale=0, p_noise=0, p_colour=0, p_gray=0, p_flip=1, p_affine=1,
                              shift=0.1, rotate=20)
        mask = torch.zeros(1, 48, 48)
        mask[:, 10:30, 5:20] = 1
        img = mask.repeat(3, 1, 1)
        for seed in range(10):
            out, moved = A.augment_with_mask(img, mask, random.Random(seed), cfg)
            torch.testing.assert_close(out[:1], moved)
            self.assertFalse(torch.equal(moved, mask), "the draw moved the mask")


class BoundaryModuleTest(unittest.TestCase):
    def test_tap_grids(self):
        self.assertEqual(B.find_tap(faceres(150), 150)[1:], (128, 8))  # faceres at its native 150 px: the conv128 stage
        _, _, grid = B.find_tap(build_model("resnet_xs", 64), 64)
        self.assertGreaterEqual(grid, 4)

    def test_forward_and_bare_classifier_untouched(self):
        net = build_model("resnet_xs", 64)
        mod = B.BoundaryModule(net, 64)
        logit, pred = mod(torch.rand(2, 3, 64, 64))
        self.assertEqual(tuple(logit.shape), (2, 1))
        self.assertEqual(tuple(pred.shape), (2, 1, mod.grid, mod.grid))
        net(torch.rand(2, 3, 64, 64))  # validation/export path: nothing recorded
        self.assertEqual(mod._tapped, [])

    def test_loss_ignores_weightless_samples(self):
        pred = torch.randn(2, 1, 4, 4)
        target = torch.rand(2, 1, 4, 4)
        both = B.boundary_loss(pred, target, torch.tensor([1.0, 0.0]))
        first = B.boundary_loss(pred[:1], target[:1], torch.tensor([1.0]))
        torch.testing.assert_close(both, first)
        self.assertEqual(float(B.boundary_loss(pred, target, torch.zeros(2))), 0.0)


class BoundaryTrainingTest(unittest.TestCase):
    def test_train_set_targets(self):
        with tempfile.TemporaryDirectory() as tmp:
            cs = D.load_crop_set(make_crops_dir(Path(tmp) / "crops", side=64, per_class=3, frames=1))
            faces = [f for f in cs.faces if f.split == "train"]
            store = D.ImageStore([f.image for f in faces], 64, cache=True)
            ds = D.BoundaryTrainSet(faces, store, (0.5,) * 3, (0.5,) * 3, grid=4)
            real = next(i for i, f in enumerate(faces) if f.label == 0)
            fake = next(i for i, f in enumerate(faces) if f.label == 1)
            _, y, _, target, weight = ds[real]
            self.assertEqual((y, weight, float(target.abs().sum())), (0.0, 1.0, 0.0))
            _, y, _, target, weight = ds[len(faces) + real]
            self.assertEqual((y, weight, tuple(target.shape)), (1.0, 1.0, (1, 4, 4)))
            self.assertGreater(float(target.max()), 0.1, "a self-blend has a boundary")
            _, y, _, _, weight = ds[fake]
            self.assertEqual((y, weight), (1.0, 0.0), "a real fake's mask is unknown")

    def test_run_learns_the_boundary_resumes_and_exports_the_classifier(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            crops = make_crops_dir(root / "crops", side=64, per_class=4, frames=2)
            run = root / "run"
            cfg = TrainConfig(crops=[str(crops)], out=str(run), arch="resnet_xs", size=64, epochs=4, batch_size=8,
                              samples_per_epoch=32, workers=0, sbi_ratio=1.0, augment="none", lr=3e-3,
                              boundary_weight=1.0, command="test")
            train(cfg)
            rows = [json.loads(l) for l in (run / "log.jsonl").read_text().splitlines()]
            self.assertLess(rows[-1]["train_boundary"], rows[0]["train_boundary"], "the boundary loss falls")
            last = load_checkpoint(run / "last.pt", torch.device("cpu"))
            self.assertIn("weight", last["boundary_head"])
            self.assertFalse(any(k.startswith("head.weight") and v.dim() == 4 for k, v in last["model"].items()),
                             "the classifier's weights hold no boundary head")
            cfg.epochs, cfg.resume = 5, True
            train(cfg)
            resumed = load_checkpoint(run / "last.pt", torch.device("cpu"))
            self.assertFalse(torch.equal(resumed["boundary_head"]["weight"], last["boundary_head"]["weight"]))
            _, manifest, check = export_run(run, root / "export", "boundary-test")
            if check["runtime"] is not None:  # else no ONNX runtime here: nothing to compare with
                self.assertLess(check["max_abs_diff"], 1e-4)
            cfg.boundary_weight, cfg.epochs = 0.0, 6
            with self.assertRaisesRegex(ValueError, "with --boundary-weight"):
                train(cfg)

    def test_bad_options_are_refused(self):
        for kw, msg in (({"boundary_weight": -1.0}, ">= 0"), ({"boundary_weight": 1.0, "loss": "triplet"}, "triplet"),
                        ({"boundary_weight": 1.0, "sbi_ratio": 0.0}, "--sbi-ratio"),
                        ({"boundary_weight": 1.0, "arch": "c3d"}, "--boundary-weight")):
            with tempfile.TemporaryDirectory() as tmp:
                crops = make_crops_dir(Path(tmp) / "crops", side=64, per_class=2, frames=1)
                cfg = TrainConfig(crops=[str(crops)], out=str(Path(tmp) / "run"), arch="resnet_xs", size=32, epochs=1,
                                  batch_size=8, samples_per_epoch=8, workers=0, command="test")
                for k, v in kw.items():
                    setattr(cfg, k, v)
                with self.assertRaisesRegex(ValueError, msg):
                    if cfg.arch == "c3d":
                        from unmask_train.clip_train import clip_config, train_clips
                        train_clips(clip_config(cfg, clip_len=2, clip_stride=None, rnn="gru", backbone="resnet_xs",
                                                max_gap=0, sbi_flicker=0.0, still_crops=[]))
                    else:
                        train(cfg)


if __name__ == "__main__":
    unittest.main()
