"""DDP end to end: two ranks of `python -m unmask_train train`, started as torchrun would start them
(WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; Debian's torch 1.13 torchrun fails on
Python 3.11), on the gloo backend, which runs on CPU and on a single GPU alike (NCCL refuses two
ranks on one GPU). A frame arch and a clip arch, on synthetic crops."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from tests.synth import make_clip_crops_dir, make_crops_dir

TRAINING_DIR = Path(__file__).resolve().parents[1]
TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ranks(args, world=2):
    """Starts `world` ranks of `python -m unmask_train <args>`; returns [(returncode, output)] by rank."""
    port = str(free_port())
    procs = []
    for rank in range(world):
        env = dict(os.environ, WORLD_SIZE=str(world), RANK=str(rank), LOCAL_RANK=str(rank),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=port, UNMASK_DIST_BACKEND="gloo")
        procs.append(subprocess.Popen([sys.executable, "-m", "unmask_train", *args], cwd=TRAINING_DIR, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    out = []
    for p in procs:
        try:
            text, _ = p.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
        out.append((p.returncode, text))
    return out


class DdpTrainingTest(unittest.TestCase):
    def check_run(self, results, run_dir: Path, epochs: int):
        for rank, (code, text) in enumerate(results):
            self.assertEqual(code, 0, f"rank {rank} failed:\n{text[-2000:]}")
        self.assertIn("world 2", results[0][1])
        rows = [json.loads(l) for l in (run_dir / "log.jsonl").read_text().splitlines()]
        self.assertEqual([r["epoch"] for r in rows], list(range(1, epochs + 1)), "rank 0 logs every epoch once")
        for r in rows:
            self.assertGreater(r["train_loss"], 0)
        self.assertTrue((run_dir / "best.pt").is_file())
        self.assertTrue((run_dir / "final.json").is_file())
        # only rank 0 writes: one log line per epoch, not one per rank
        self.assertEqual(len(rows), epochs)

    def test_frame_arch_two_ranks(self):
        with tempfile.TemporaryDirectory() as tmp:
            crops = make_crops_dir(Path(tmp) / "crops", side=64, per_class=4, frames=2)
            run = Path(tmp) / "run"
            results = run_ranks(["train", "--crops", str(crops), "--arch", "resnet_xs", "--size", "32", "--epochs", "2",
                                 "--batch-size", "4", "--samples-per-epoch", "16", "--workers", "0", "--threads", "1",
                                 "--out", str(run)])
            self.check_run(results, run, 2)
            rows = [json.loads(l) for l in (run / "log.jsonl").read_text().splitlines()]
            # 16 samples per epoch split over 2 ranks: 8 each, 2 steps of 4 (one process would take 4 steps)
            self.assertEqual([r["step"] for r in rows], [2, 4])

    def test_clip_arch_two_ranks(self):
        with tempfile.TemporaryDirectory() as tmp:
            crops = make_clip_crops_dir(Path(tmp) / "crops")
            run = Path(tmp) / "run"
            results = run_ranks(["train", "--crops", str(crops), "--arch", "ftcn", "--size", "32", "--clip-len", "4",
                                 "--epochs", "1", "--batch-size", "2", "--samples-per-epoch", "8", "--workers", "0",
                                 "--threads", "1", "--out", str(run)])
            self.check_run(results, run, 1)

    def test_bad_backend_is_one_line(self):
        env = dict(os.environ, WORLD_SIZE="2", RANK="0", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(free_port()), UNMASK_DIST_BACKEND="mpi")
        with tempfile.TemporaryDirectory() as tmp:
            p = subprocess.run([sys.executable, "-m", "unmask_train", "train", "--crops", tmp, "--out", tmp + "/run"],
                               cwd=TRAINING_DIR, env=env, capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("UNMASK_DIST_BACKEND='mpi'", p.stderr)
        self.assertNotIn("Traceback", p.stderr)


if __name__ == "__main__":
    unittest.main()
