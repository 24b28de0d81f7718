"""`train --crop-margin`: a network trained on the centred part of each crop (a tighter margin than
the crops were written with), and the manifest that tells a scan to cut faces that way; the training
options' one-line refusals (`--precrop` too)."""
import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np
from PIL import Image

from unmask_train import export as E
from unmask_train.data import (CropDataError, ImageStore, centre_box, load_crop_set, load_image, margin_fraction,
                               tighter_faces)
from unmask_train.train import TrainConfig, load_splits, train
from tests.synth import make_crops_dir


class MarginGeometryTest(unittest.TestCase):
    def test_fraction_of_the_written_crop(self):
        # box side b: a 0.3 crop is 1.6 b, a 0.15 crop 1.3 b, so 0.8125 of it; 0.3 of itself is all of it
        self.assertAlmostEqual(margin_fraction(0.3, 0.15), 1.3 / 1.6)
        self.assertEqual(margin_fraction(0.3, 0.3), 1.0)
        self.assertAlmostEqual(margin_fraction(0.3, 0.0), 1 / 1.6)
        for wanted in (0.31, -0.1):
            with self.assertRaisesRegex(CropDataError, r"crop margin .* must lie in \[0, 0.3\]"):
                margin_fraction(0.3, wanted)

    def test_centre_box_is_centred_and_whole(self):
        self.assertEqual(centre_box(256, 1.3 / 1.6), (24, 208))
        self.assertEqual(centre_box(64, 1.0), (0, 64))
        off, side = centre_box(101, 0.5)
        self.assertEqual(side, 50)
        self.assertIn(off, (25, 26))

    def test_image_and_keypoints_move_together(self):
        with tempfile.TemporaryDirectory() as tmp:
            crops = make_crops_dir(Path(tmp) / "crops", side=64, per_class=2, frames=1)
            faces = [f for f in load_crop_set(crops).faces if f.label == 0]
            fraction = margin_fraction(0.3, 0.15)
            tight = tighter_faces(faces, fraction)
            off, side = centre_box(64, fraction)
            for f, t in zip(faces, tight):
                self.assertEqual(t.crop_size, side)
                np.testing.assert_allclose(t.keypoints, f.keypoints - off)
                # the pixels are the centred square of the crop on disk
                arr, got_side = load_image(t.image, side, fraction)
                self.assertEqual(got_side, side)
                disk = np.asarray(Image.open(f.image).convert("RGB"))
                np.testing.assert_array_equal(arr, disk[off:off + side, off:off + side])
                # a keypoint is on the same pixel value in both frames of reference
                x, y = np.round(f.keypoints[0]).astype(int)
                np.testing.assert_array_equal(disk[y, x], arr[y - off, x - off])
            store = ImageStore([t.image for t in tight], 32, cache=True, fraction=fraction)
            self.assertEqual(store.get(0)[1], side)
            self.assertEqual(store.get(0)[0].shape, (32, 32, 3))
            self.assertIs(tighter_faces(faces, 1.0)[0], faces[0])


class CropMarginRunTest(unittest.TestCase):
    """A tiny run at --crop-margin 0.15 of crops written at 0.3, exported."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        root = Path(cls.tmp.name)
        cls.crops = make_crops_dir(root / "crops", side=64, per_class=4, frames=2)
        cls.cfg = TrainConfig(crops=[str(cls.crops)], out=str(root / "run"), arch="resnet_xs", size=32, epochs=1,
                              batch_size=8, samples_per_epoch=16, workers=0, command="test", crop_margin=0.15)
        train(cls.cfg)
        _, cls.manifest, _ = E.export_run(root / "run", root / "export", "tight")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_splits_use_the_centred_part(self):
        s = load_splits(self.cfg)
        self.assertEqual((s.margin, s.crop_size), (0.15, 52))
        self.assertAlmostEqual(s.fraction, 1.3 / 1.6)
        self.assertTrue(all(f.crop_size == 52 for f in s.train + s.val))

    def test_manifest_tells_the_scan_the_margin(self):
        man = json.loads(self.manifest.read_text())
        self.assertEqual(man["crop"], {"policy": "margin", "margin": 0.15, "size": 52})

    def test_wider_than_the_crops_is_refused(self):
        cfg = TrainConfig(crops=[str(self.crops)], out=str(Path(self.tmp.name) / "run2"), crop_margin=0.4)
        with self.assertRaisesRegex(CropDataError, "must lie in"):
            load_splits(cfg)

    def test_refusals_in_one_line(self):
        """--crop-margin, --precrop and --jpeg-scale on a clip arch, and a --precrop share outside [0, 1]."""
        cases = [(["--arch", "c3d", "--crop-margin", "0.15"],
                  "error: --crop-margin applies to frame archs only (clips keep their crops' margin)"),
                 (["--arch", "c3d", "--precrop", "0.5"], "error: --precrop applies to frame archs only"),
                 (["--precrop", "1.5"], "error: --precrop is a share of the training images, in [0, 1]; got 1.5"),
                 (["--arch", "c3d", "--jpeg-scale", "2", "3"], "error: --jpeg-scale applies to frame archs only")]
        for args, said in cases:
            r = subprocess.run([sys.executable, "-m", "unmask_train", "train", "--crops", str(self.crops), *args,
                                "--out", str(Path(self.tmp.name) / "run3")],
                               capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
            self.assertNotEqual(r.returncode, 0)
            self.assertEqual(r.stderr.strip(), said)


if __name__ == "__main__":
    unittest.main()
