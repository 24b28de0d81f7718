"""face-api's 68-point landmark net ported to PyTorch (unmask_train/faceapi_landmarks.py), the landmarks
file of a crops directory, and the landmark-shaped self-blend masks (`--sbi-style landmarks`).

- The port computes what face-api's own FaceLandmark68Net computes (TensorFlow.js, the copy bundled in the
  npm package, run by `faceapi_landmarks_reference.mjs`) on a photo the package ships and its mirror image.
  A port that pads the stride-2 convolutions on both sides instead of TensorFlow's bottom/right moves
  the points by 0.12 of the side on average (0.28 at most), a thousand times the tolerance.
- Crop geometry: the same face padded into a larger crop gives the same points, shifted by the padding.
- `landmarks` writes a file that `load_crop_set` attaches to the REAL faces; training with the preset
  and no such file is refused with a one-line reason.
"""
import json
import random
import re
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from unmask_train import faceapi_landmarks as L
from unmask_train import sbi as S
from unmask_train.data import load_crop_set
from unmask_train.pretrained_faceapi import FACEAPI_MODEL_DIR
from unmask_train.train import TrainConfig, train
from tests.synth import frontal_landmarks, make_crops_dir
from tests.tfjs_reference import run_tfjs_reference

SAMPLE = FACEAPI_MODEL_DIR.parent / "demo" / "sample1.jpg"
needs_weights = unittest.skipUnless((FACEAPI_MODEL_DIR / L.MANIFEST_NAME).is_file(),
                                    f"@vladmandic/face-api landmark weights not found under {FACEAPI_MODEL_DIR} "
                                    "(run `npm ci` in the repository)")


def sample_face(side: int = 112) -> np.ndarray:
    """The face of the person on the left of face-api's demo photo, as uint8 RGB, square."""
    img = Image.open(SAMPLE).convert("RGB")
    w, h = img.size
    left, top, box_side = int(w * 0.204), int(h * 0.2625), int(w * 0.135)
    box = (left, top, left + box_side, top + box_side)
    return np.array(img.crop(box).resize((side, side), Image.BILINEAR))


@needs_weights
class LandmarkNetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.net = L.load_landmark_net()

    def test_port_matches_faceapi(self):
        face = sample_face().astype(np.float32)
        batch = np.stack([face, face[:, ::-1]])
        shape, data = run_tfjs_reference(self, "faceapi_landmarks_reference.mjs", batch)
        self.assertEqual(shape, [2, 136])
        want = data.reshape(2, 68, 2)
        with torch.no_grad():
            got = self.net(torch.from_numpy(batch).permute(0, 3, 1, 2)).numpy()
        np.testing.assert_allclose(got, want, atol=1e-4)
        # And the points mean something: eyes above the nose tip above the mouth, jaw below the eyes.
        lm = got[0]
        eyes_y = (lm[S.LEFT_EYE, 1].mean() + lm[S.RIGHT_EYE, 1].mean()) / 2
        self.assertLess(eyes_y, lm[S.NOSE_TIP, 1])
        self.assertLess(lm[S.NOSE_TIP, 1], lm[S.MOUTH, 1].mean())
        self.assertGreater(lm[8, 1], lm[S.MOUTH, 1].mean())  # chin (jaw point 8) below the mouth

    def test_padded_crop_gives_shifted_points(self):
        face = sample_face(160)
        pad = 40
        big = np.zeros((160 + 2 * pad, 160 + 2 * pad, 3), np.uint8)
        big[pad:pad + 160, pad:pad + 160] = face
        a, b = L.predict_crops(self.net, [face, big], [100.0, 100.0])
        np.testing.assert_allclose(b - pad, a, atol=0.05)
        self.assertEqual(a.shape, (68, 2))

    def test_agreement_is_small_for_matching_points(self):
        lm = np.zeros((68, 2))
        kp = np.array([[30, 40], [70, 40], [50, 55], [50, 75], [10, 45], [90, 45]], float)
        lm[S.LEFT_EYE], lm[S.RIGHT_EYE], lm[S.NOSE_TIP], lm[S.MOUTH] = kp[0], kp[1], kp[2], kp[3]
        self.assertAlmostEqual(L.landmark_agreement(lm, kp), 0.0)
        lm[S.MOUTH] = kp[3] + [0, 40]  # mouth one eye distance low
        self.assertAlmostEqual(L.landmark_agreement(lm, kp), 0.25)

    def test_landmarks_file_round_trip(self):
        with tempfile.TemporaryDirectory() as d:
            crops = make_crops_dir(Path(d) / "crops", side=64, per_class=2, frames=1)
            reals = [f for f in load_crop_set(crops).faces if f.label == 0]
            counts = L.write_crop_landmarks(crops, progress=False)
            self.assertEqual(counts["written"] + counts["rejected"], len(reals))
            doc = json.loads((crops / L.LANDMARKS_FILE).read_text())
            self.assertEqual(doc["schema"], L.LANDMARKS_SCHEMA)
            faces = load_crop_set(crops).faces
            with_lm = [f for f in faces if f.landmarks is not None]
            self.assertEqual(len(with_lm), counts["written"])
            self.assertTrue(all(f.label == 0 and f.landmarks.shape == (68, 2) for f in with_lm))
            # A file of another schema is refused, not misread.
            (crops / L.LANDMARKS_FILE).write_text(json.dumps({"schema": "other/1", "faces": {}}))
            with self.assertRaisesRegex(ValueError, "schema"):
                load_crop_set(crops)


class LandmarkMaskTest(unittest.TestCase):
    KP = np.array([[36, 40], [60, 40], [48, 52], [48, 64], [24, 44], [72, 44]], dtype=np.float32)

    def test_landmark_points_are_jaw_and_raised_brows(self):
        lm = frontal_landmarks()
        pts = S.landmark_points(lm, random.Random(0), S.SbiConfig(forehead_factor=(0.3, 0.3)))
        self.assertEqual(pts.shape, (27, 2))
        np.testing.assert_allclose(pts[:17], lm[:17])
        self.assertTrue((pts[17:, 1] < lm[17:27, 1] - 5).all())  # raised by 0.3 x 24 px

    def test_mask_follows_the_jaw(self):
        lm = frontal_landmarks()
        cfg = S.SbiConfig(landmark_mask=True, morph_radius=0.0, blur_sigma=(0.001, 0.001), blend_ratios=(1.0,))
        img = torch.full((3, 96, 96), 0.5)
        _, mask = S.self_blend(img, self.KP, random.Random(0), cfg, landmarks=lm)
        m = mask[0]
        self.assertGreater(float(m[70, 48]), 0.9)  # above the chin (jaw point 8 at y = 74)
        self.assertLess(float(m[80, 48]), 0.1)  # below it
        self.assertLess(float(m[5, 5]), 0.1)
        # The keypoint hull's chin would reach y = 64 + 0.5..0.9 x 24 = 76..85; the jaw line stops at 74.
        _, kp_mask = S.self_blend(img, self.KP, random.Random(0), S.SbiConfig(morph_radius=0.0, blur_sigma=(0.001, 0.001),
                                                                              blend_ratios=(1.0,)))
        self.assertGreater(float(kp_mask[0, 75, 48]), 0.9)
        self.assertLess(float(m[76, 48]), 0.1)

    def test_without_landmarks_the_preset_is_the_keypoint_recipe(self):
        img = torch.rand(3, 96, 96, generator=torch.Generator().manual_seed(0))
        a, ma = S.self_blend(img, self.KP, random.Random(3), S.SBI_PRESETS["landmarks"], landmarks=None)
        b, mb = S.self_blend(img, self.KP, random.Random(3), S.SBI_PRESETS["basic"])
        self.assertTrue(torch.equal(a, b) and torch.equal(ma, mb))

    def test_training_with_the_preset_needs_a_landmarks_file(self):
        with tempfile.TemporaryDirectory() as d:
            crops = make_crops_dir(Path(d) / "crops", side=64, per_class=2, frames=1)
            cfg = TrainConfig(crops=[str(crops)], out=str(Path(d) / "run"), arch="resnet_xs", size=32, epochs=1,
                              batch_size=8, samples_per_epoch=16, workers=0, sbi_style="landmarks", command="test")
            with self.assertRaisesRegex(ValueError, re.escape(f"unmask_train landmarks --crops {crops}` first")):
                train(cfg)


if __name__ == "__main__":
    unittest.main()
