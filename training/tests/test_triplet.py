"""Triplet loss (values, learning on a toy set), triplet runs + `--init` fine-tuning, layer freezing."""
import json
import tempfile
import unittest
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from tests.synth import make_crops_dir
from unmask_train.metric_learning import TripletModule, triplet_loss, triplet_step_loss
from unmask_train.model import Classifier, build_model, load_checkpoint
from unmask_train.train import TrainConfig, train
from unmask_train.transfer import LayerSchedule


def brute_force_batch_hard(emb: torch.Tensor, labels: torch.Tensor, margin: float) -> float:
    e = F.normalize(emb, dim=1)
    losses = []
    for a in range(len(labels)):
        pos = [torch.dist(e[a], e[p]) for p in range(len(labels)) if p != a and labels[p] == labels[a]]
        neg = [torch.dist(e[a], e[n]) for n in range(len(labels)) if labels[n] != labels[a]]
        if pos and neg:
            losses.append(max(0.0, float(max(pos) - min(neg)) + margin))
    return sum(losses) / len(losses)


def toy_batch(g: torch.Generator, n: int = 16, side: int = 16):
    """Class 1 has a brighter 4x4 square at a random place; both classes have the same unit noise."""
    x = torch.randn(n, 3, side, side, generator=g)
    y = torch.tensor([0, 1] * (n // 2))
    for i in range(n):
        if y[i] == 1:
            r, c = torch.randint(0, side - 4, (2,), generator=g).tolist()
            x[i, :, r:r + 4, c:c + 4] += 1.0
    return x, y


def toy_net() -> TripletModule:
    """A two-conv Classifier: learns the toy task in tens of steps (the real archs need hundreds)."""
    feats = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                          nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU())
    return TripletModule(Classifier(feats, 32, 0.0))


class TripletLossTest(unittest.TestCase):
    def test_batch_hard_matches_brute_force(self):
        g = torch.Generator().manual_seed(0)
        emb = torch.randn(10, 5, generator=g)
        labels = torch.tensor([0, 1, 1, 0, 0, 1, 0, 1, 1, 0])
        got = float(triplet_loss(emb, labels, 0.3, "batch-hard"))
        self.assertAlmostEqual(got, brute_force_batch_hard(emb, labels, 0.3), places=5)

    def test_zero_when_classes_are_far_apart(self):
        emb = torch.tensor([[1.0, 0.0], [0.99, 0.1], [-1.0, 0.0], [-0.99, -0.1]])
        labels = torch.tensor([0, 0, 1, 1])
        for mining in ("batch-hard", "random"):
            self.assertEqual(float(triplet_loss(emb, labels, 0.3, mining)), 0.0)

    def test_single_class_batch_gives_zero_with_a_graph(self):
        emb = torch.randn(4, 3, requires_grad=True)
        loss = triplet_loss(emb, torch.zeros(4, dtype=torch.long), 0.3)
        self.assertEqual(float(loss), 0.0)
        loss.backward()  # no error: the graph exists

    def test_loss_decreases_on_a_separable_toy_set(self):
        for mining in ("batch-hard", "random"):
            with self.subTest(mining=mining):
                torch.manual_seed(0)
                g = torch.Generator().manual_seed(1)
                net = toy_net()
                opt = torch.optim.Adam(net.parameters(), lr=1e-2)
                losses = []
                for _ in range(60):
                    x, y = toy_batch(g)
                    loss, t, _ = triplet_step_loss(net(x), y, 0.3, mining)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    losses.append(t)
                first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
                self.assertGreater(first, 0.1, "the task is not solved at the start")
                self.assertLess(last, 0.5 * first, f"{mining}: triplet loss {first:.3f} -> {last:.3f}")

    def test_probe_does_not_move_the_backbone(self):
        net = TripletModule(build_model("resnet_xs", 16))
        x, y = toy_batch(torch.Generator().manual_seed(0))
        emb, probe = net(x)
        F.binary_cross_entropy_with_logits(probe.flatten(), y.float()).backward()
        self.assertTrue(all(p.grad is None for p in net.net.features.parameters()))
        self.assertIsNotNone(net.net.head.weight.grad)


class LayerScheduleTest(unittest.TestCase):
    def test_greedy_unfreezes_top_down(self):
        m = build_model("resnet_s", 32)
        s = LayerSchedule(m, freeze_backbone=False, unfreeze="greedy", epochs_per_stage=2)
        trainable = lambda: [all(p.requires_grad for p in g.parameters()) for g in s.groups]  # noqa: E731
        self.assertTrue(s.apply(0))
        self.assertEqual(trainable(), [True] + [False] * 7)
        self.assertFalse(s.apply(1), "same stage: nothing changes")
        s.apply(2)
        self.assertEqual(trainable(), [True, True] + [False] * 6)
        s.apply(100)
        self.assertTrue(all(trainable()))

    def test_frozen_batchnorm_stays_in_eval(self):
        m = build_model("resnet_s", 32)
        s = LayerSchedule(m, freeze_backbone=True, unfreeze="none", epochs_per_stage=1)
        s.apply(5)
        m.train()
        s.freeze_bn()
        bns = [b for b in m.features.modules() if isinstance(b, torch.nn.BatchNorm2d)]
        self.assertTrue(bns and not any(b.training for b in bns))
        self.assertTrue(m.head.weight.requires_grad)

    def test_exclusive_options(self):
        with self.assertRaises(ValueError):
            LayerSchedule(build_model("resnet_xs", 32), True, "greedy", 1)


class TripletThenInitRunTest(unittest.TestCase):
    """Stage 1: a triplet run; stage 2: --init from it with a frozen backbone (ICPR2020's ST scheme)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        root = Path(cls.tmp.name)
        crops = make_crops_dir(root / "crops", side=48, per_class=4, frames=2)
        common = dict(crops=[str(crops)], arch="resnet_xs", size=32, batch_size=8, samples_per_epoch=16, workers=0,
                      command="test")
        cls.triplet_dir = root / "triplet"
        cls.triplet = train(TrainConfig(out=str(cls.triplet_dir), epochs=2, loss="triplet", **common))
        cls.ft_dir = root / "finetune"
        cls.ft = train(TrainConfig(out=str(cls.ft_dir), epochs=1, init=str(cls.triplet_dir), freeze_backbone=True,
                                   **common))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_triplet_run_logs_its_loss_terms(self):
        rows = [json.loads(l) for l in (self.triplet_dir / "log.jsonl").read_text().splitlines()]
        self.assertEqual(len(rows), 2)
        for r in rows:
            self.assertGreaterEqual(r["train_triplet"], 0.0)
            self.assertGreater(r["train_probe_bce"], 0.0)
            self.assertAlmostEqual(r["train_loss"], r["train_triplet"] + r["train_probe_bce"], places=4)
            self.assertIsNotNone(r["val_frame_auc"])
        ckpt = load_checkpoint(self.triplet_dir / "best.pt")
        self.assertEqual(ckpt["config"]["loss"], "triplet")
        self.assertTrue(all(not k.startswith("net.") for k in ckpt["model"]), "checkpoints hold the plain classifier")

    def test_frozen_backbone_is_unchanged_and_head_trained(self):
        start = load_checkpoint(self.triplet_dir / "best.pt")["model"]
        end = load_checkpoint(self.ft_dir / "last.pt")["model"]
        for k in start:
            if k.startswith("features."):
                self.assertTrue(torch.equal(start[k], end[k]), f"{k} moved")
        self.assertFalse(torch.equal(start["head.weight"], end["head.weight"]), "the head trained")

    def test_init_refuses_another_arch(self):
        with self.assertRaisesRegex(ValueError, "resnet_xs checkpoint"):
            train(TrainConfig(crops=[str(Path(self.tmp.name) / "crops")], out=str(Path(self.tmp.name) / "bad"),
                              arch="resnet_s", size=32, epochs=1, batch_size=8, samples_per_epoch=16, workers=0,
                              init=str(self.triplet_dir)))

    def test_fine_tune_trains_everything_without_freeze(self):
        out = Path(self.tmp.name) / "full"
        train(TrainConfig(crops=[str(Path(self.tmp.name) / "crops")], out=str(out), arch="resnet_xs", size=32,
                          epochs=1, batch_size=8, samples_per_epoch=16, workers=0, init=str(self.triplet_dir / "best.pt")))
        start = load_checkpoint(self.triplet_dir / "best.pt")["model"]
        end = load_checkpoint(out / "last.pt")["model"]
        moved = [k for k in start if k.endswith("weight") and not torch.equal(start[k], end[k])]
        self.assertTrue(any(k.startswith("features.0") for k in moved), "the stem trained too")


class GreedyRunResumeTest(unittest.TestCase):
    """A new arch through the whole loop: greedy unfreezing, checkpoints per epoch, resume, loss plot."""

    def test_efficientnet_greedy_run_resumes(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            crops = make_crops_dir(root / "crops", side=48, per_class=4, frames=2)
            cfg = TrainConfig(crops=[str(crops)], out=str(root / "run"), arch="efficientnet-b0", size=32, epochs=1,
                              batch_size=8, samples_per_epoch=16, workers=0, unfreeze="greedy", command="test")
            train(cfg)
            after_one = load_checkpoint(root / "run" / "epoch_001.pt")["model"]
            cfg.epochs, cfg.resume = 2, True
            summary = train(cfg)
            run = root / "run"
            rows = [json.loads(l) for l in (run / "log.jsonl").read_text().splitlines()]
            self.assertEqual([r["epoch"] for r in rows], [1, 2])
            self.assertEqual(summary["epochs_run"], 2)
            for name in ("epoch_001.pt", "epoch_002.pt", "best.pt", "last.pt", "final.json"):
                self.assertTrue((run / name).is_file(), name)
            try:
                import matplotlib  # noqa: F401
                self.assertTrue((run / "loss.png").is_file())
            except ImportError:
                pass
            end = load_checkpoint(run / "epoch_002.pt")["model"]
            # Epoch 1 trained the head only; epoch 2 also the last feature block (features.8); the stem never.
            self.assertTrue(torch.equal(after_one["features.0.0.weight"], end["features.0.0.weight"]), "stem frozen")
            self.assertFalse(torch.equal(after_one["features.8.0.weight"], end["features.8.0.weight"]),
                             "the last block was unfrozen in epoch 2")
            self.assertFalse(torch.equal(after_one["head.weight"], end["head.weight"]))


if __name__ == "__main__":
    unittest.main()
