"""The sharpness cue: smoother middles score higher, only the middle counts, the centre is the REAL
training faces' median, and the export is a valid frame model whose ONNX computes what PyTorch does."""
import json
import shutil
import subprocess
import sys
import tempfile
import unittest
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

from unmask_train.data import load_crop_set
from unmask_train.export import check_manifest
from unmask_train.sharpness import SIZE, SharpnessCue, SharpnessError, export_sharpness, real_train_centre
from tests.synth import make_crops_dir


def textured(n: int = 2, size: int = 64, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1


def blur(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 5, 1, 2, count_include_pad=False)


class CueTest(unittest.TestCase):
    def test_a_smoother_middle_scores_higher(self):
        cue = SharpnessCue(0.0, 64, 0.4)
        x = textured()
        y = x.clone()
        y[..., 16:48, 16:48] = blur(x)[..., 16:48, 16:48]
        self.assertTrue(bool((cue(y) > cue(x) + 0.5).all()))

    def test_only_the_middle_counts(self):
        cue = SharpnessCue(0.0, 64, 0.4)  # rows 19-44 of the input
        x = textured()
        y = blur(x)
        y[..., 18:46, 18:46] = x[..., 18:46, 18:46]  # blur outside the middle (and its 1-pixel rim) only
        self.assertTrue(torch.allclose(cue(x), cue(y), atol=1e-6))

    def test_logit_is_centre_minus_log_sharpness(self):
        x = textured()
        a, b = SharpnessCue(0.0, 64), SharpnessCue(1.25, 64)
        self.assertTrue(torch.allclose(b(x) - a(x), torch.full((2, 1), 1.25), atol=1e-6))
        # a grey level picture of constant value has no edges: log of the floor
        self.assertAlmostEqual(float(a.log_sharpness(torch.zeros(1, 3, 64, 64))), float(torch.log(torch.tensor(1e-3))), places=4)

    def test_refuses_a_middle_outside_the_crop(self):
        for middle in (0.0, 1.5):
            with self.subTest(middle=middle), self.assertRaises(SharpnessError):
                SharpnessCue(0.0, 64, middle)


class ExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.crops = make_crops_dir(Path(cls.tmp.name) / "crops", side=64)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_centre_is_the_real_training_median(self):
        centre, n, data = real_train_centre(load_crop_set(self.crops), 64)
        self.assertEqual(n, 2 * 6 * 2)  # ffpp_c23_faces and utkface REAL train records, 2 frames each; no FAKE, no val
        self.assertEqual(data, ["ffpp_c23_faces:train", "utkface:train"])
        self.assertTrue(-3.0 < centre < 6.0)

    def test_export_writes_a_valid_frame_model(self):
        out = Path(self.tmp.name) / "out"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            onnx_path, man_path, check = export_sharpness(self.crops, out, "sharp-test")
        m = json.loads(man_path.read_text())
        check_manifest(m)
        self.assertEqual((m["input"]["size"], m["crop"]["size"], m["crop"]["margin"]), (SIZE, SIZE, 0.3))
        self.assertEqual(m["training"]["arch"], "sharpness")
        self.assertNotIn("explanation", m["output"])
        self.assertTrue(onnx_path.is_file())
        if check["runtime"] is None:
            self.skipTest("no ONNX runtime")
        self.assertLessEqual(check["max_abs_diff"], 1e-4)

    def test_cli_refuses_a_middle_outside_the_crop_before_reading_crops(self):
        r = subprocess.run([sys.executable, "-m", "unmask_train", "sharpness", "--crops", "/nonexistent", "--out",
                            str(Path(self.tmp.name) / "o3"), "--name", "x", "--middle", "2"], capture_output=True,
                           text=True, cwd=Path(__file__).resolve().parents[1])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.strip().splitlines(), ["error: the measured middle is a share of the crop side, in (0, 1]; got 2.0"])

    def test_cli_refuses_crops_without_real_training_faces(self):
        bare = Path(self.tmp.name) / "bare"
        shutil.copytree(self.crops, bare)
        rows = (bare / "labels.csv").read_text().splitlines()
        (bare / "labels.csv").write_text("\n".join([rows[0]] + [r for r in rows[1:] if ",REAL," not in r]) + "\n")
        r = subprocess.run([sys.executable, "-m", "unmask_train", "sharpness", "--crops", str(bare), "--out",
                            str(Path(self.tmp.name) / "o2"), "--name", "x"], capture_output=True, text=True,
                           cwd=Path(__file__).resolve().parents[1])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.strip().splitlines(), [f"error: {bare}: no REAL faces in the train split to centre the cue on"])


if __name__ == "__main__":
    unittest.main()
