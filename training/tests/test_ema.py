import json
import tempfile
import unittest
from pathlib import Path

import torch
from torch import nn

from unmask_train import export as E
from unmask_train.ema import WeightAverage
from unmask_train.model import load_checkpoint
from unmask_train.train import TrainConfig, train
from tests.synth import make_crops_dir


class WeightAverageTest(unittest.TestCase):
    def test_average_follows_weights_with_ramped_decay(self):
        net = nn.Sequential(nn.Linear(2, 1), nn.BatchNorm1d(1))
        avg = WeightAverage(net, 0.9)
        w0 = net[0].weight.detach().clone()
        with torch.no_grad():
            net[0].weight.add_(1.0)
        net[1].num_batches_tracked += 3
        avg.update(net)
        d = min(0.9, 2 / 11)  # first update: ramp (1 + 1) / (10 + 1)
        torch.testing.assert_close(avg.module[0].weight, d * w0 + (1 - d) * (w0 + 1))
        self.assertEqual(int(avg.module[1].num_batches_tracked), 3, "integer buffers are copied")
        self.assertFalse(any(p.requires_grad for p in avg.module.parameters()))
        for _ in range(200):
            avg.update(net)
        torch.testing.assert_close(avg.module[0].weight, w0 + 1, atol=1e-6, rtol=0)

    def test_state_round_trip_and_bad_decay(self):
        net = nn.Linear(3, 1)
        avg = WeightAverage(net, 0.99)
        avg.update(net)
        other = WeightAverage(nn.Linear(3, 1), 0.99)
        other.load_state_dict(avg.state_dict())
        self.assertEqual(other.updates, 1)
        torch.testing.assert_close(other.module.weight, avg.module.weight)
        for bad in (0.0, 1.0, 1.5):
            with self.assertRaises(ValueError):
                WeightAverage(net, bad)


class EmaRunTest(unittest.TestCase):
    """A tiny run with --ema and --sbi-style sta, resumed once: best.pt holds the averaged weights."""

    def test_run_keeps_and_resumes_the_average(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            crops = make_crops_dir(root / "crops", side=64, per_class=4, frames=2)
            run = root / "run"
            cfg = TrainConfig(crops=[str(crops)], out=str(run), arch="resnet_xs", size=32, epochs=1, batch_size=8,
                              samples_per_epoch=16, workers=0, ema=0.9, sbi_style="sta", sbi_ratio=1.0, command="test")
            train(cfg)
            first = load_checkpoint(run / "last.pt", torch.device("cpu"))
            self.assertEqual(first["ema"]["updates"], 2)
            cfg.epochs, cfg.resume = 2, True
            train(cfg)
            last = load_checkpoint(run / "last.pt", torch.device("cpu"))
            self.assertEqual(last["ema"]["updates"], 4, "the average went on after --resume")
            epoch2 = load_checkpoint(run / "epoch_002.pt", torch.device("cpu"))
            for k, v in epoch2["model"].items():
                torch.testing.assert_close(v, last["ema"]["weights"][k], msg=k)
            raw_differs = any(not torch.equal(v, last["model"][k]) for k, v in epoch2["model"].items()
                              if v.dtype.is_floating_point)
            self.assertTrue(raw_differs, "epoch checkpoints hold the average, not the raw weights")
            rows = [json.loads(l) for l in (run / "log.jsonl").read_text().splitlines()]
            self.assertEqual([r["epoch"] for r in rows], [1, 2])
            # `export --weights last` exports the average too, the weights epoch 2 was validated with
            exported, _, _ = E.load_run(run, "last")
            for k, v in exported.state_dict().items():
                torch.testing.assert_close(v, epoch2["model"][k], msg=k)

    def test_bad_options_are_refused(self):
        for kw, msg in (({"ema": 1.0}, "--ema"), ({"sbi_style": "fancy"}, "--sbi-style")):
            with tempfile.TemporaryDirectory() as tmp:
                crops = make_crops_dir(Path(tmp) / "crops", side=64, per_class=2, frames=1)
                cfg = TrainConfig(crops=[str(crops)], out=str(Path(tmp) / "run"), arch="resnet_xs", size=32, epochs=1,
                                  batch_size=8, samples_per_epoch=8, workers=0, command="test", **kw)
                with self.assertRaisesRegex(ValueError, msg):
                    train(cfg)


if __name__ == "__main__":
    unittest.main()
