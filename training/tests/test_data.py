import tempfile
import unittest
from collections import Counter
from pathlib import Path

import torch

from unmask_train import data as D
from tests.synth import make_crops_dir


class CropSetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = make_crops_dir(Path(cls.tmp.name) / "crops", side=64, per_class=4, frames=2)
        cls.cs = D.load_crop_set(cls.dir)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_loads_ok_records_and_skips_no_face(self):
        self.assertEqual(self.cs.status, Counter({"ok": 20, "no_face": 1}))
        self.assertEqual(len(self.cs.faces), 40)
        self.assertEqual(self.cs.margin, 0.3)
        f = self.cs.faces[0]
        self.assertTrue(Path(f.image).is_file())
        self.assertEqual(f.keypoints.shape, (6, 2))
        self.assertEqual(Counter(x.split for x in self.cs.faces), Counter({"train": 24, "val": 16}))

    def test_label_disagreement_is_an_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            d = make_crops_dir(Path(tmp) / "c", side=32, per_class=1, frames=1)
            text = (d / "labels.csv").read_text().replace("ffpp_c23_faces__real_000,REAL", "ffpp_c23_faces__real_000,FAKE")
            (d / "labels.csv").write_text(text)
            with self.assertRaises(D.CropDataError):
                D.load_crop_set(d)

    def test_components_join_shared_ids(self):
        comps = D.group_components(["a+b", "c", "b+d", "d", "e+c", "f"])
        self.assertEqual(comps[0], comps[2])
        self.assertEqual(comps[2], comps[3])
        self.assertEqual(comps[1], comps[4])
        self.assertEqual(len(set(comps)), 3)

    def test_holdout_never_splits_a_component(self):
        faces = [f for f in self.cs.faces if f.split == "train"]
        train, hold = D.holdout_by_components(faces, 0.3, seed=0)
        self.assertEqual(len(train) + len(hold), len(faces))
        self.assertGreaterEqual(len(hold), 0.3 * len(faces))
        ids = lambda fs: {i for f in fs for i in f.group.split("+")}
        self.assertEqual(ids(train) & ids(hold), set())

    def test_pair_sampler_balances_and_pairs_domains(self):
        faces = [f for f in self.cs.faces if f.split == "train"]
        n = len(faces)
        s = D.PairSampler(faces, sbi_ratio=0.5, pairs_per_epoch=400, seed=0)
        codes = list(s)
        self.assertEqual(len(codes), len(s))
        labels = [1 if c >= n else faces[c].label for c in codes]
        self.assertEqual(labels[0::2], [0] * 400, "first of each pair is REAL")
        self.assertEqual(labels[1::2], [1] * 400, "second of each pair is FAKE")
        sbi = [c for c in codes[1::2] if c >= n]
        self.assertTrue(150 < len(sbi) < 250, len(sbi))
        for real, fake in zip(codes[0::2], codes[1::2]):
            if fake >= n:
                self.assertEqual(real, fake - n, "SBI fake is paired with its source")
            else:
                self.assertEqual(faces[real].dataset, faces[fake].dataset)
        s.set_epoch(1)
        self.assertNotEqual(list(s), codes)
        r1 = D.PairSampler(faces, 0.5, 400, seed=0, rank=1, world_size=2)
        self.assertEqual(len(r1), 400)
        self.assertNotEqual(list(r1), codes[:400])

    def test_pair_sampler_without_fakes_is_all_sbi(self):
        reals = [f for f in self.cs.faces if f.label == 0 and f.split == "train"]
        s = D.PairSampler(reals, sbi_ratio=0.2, pairs_per_epoch=10, seed=0)
        self.assertEqual(s.sbi_ratio, 1.0)
        self.assertTrue(all(c >= len(reals) for c in list(s)[1::2]))

    def test_train_set_items(self):
        faces = [f for f in self.cs.faces if f.split == "train"]
        store = D.ImageStore([f.image for f in faces], 48, cache=True)
        ds = D.TrainSet(faces, store, (0.5,) * 3, (0.5,) * 3)
        real = next(i for i, f in enumerate(faces) if f.label == 0)
        x, y, code = ds[real]
        self.assertEqual((tuple(x.shape), y, code), ((3, 48, 48), 0.0, real))
        self.assertGreaterEqual(float(x.min()), -1.0)
        self.assertLessEqual(float(x.max()), 1.0)
        x, y, _ = ds[len(faces) + real]
        self.assertEqual(y, 1.0)
        ev = D.EvalSet(faces, D.ImageStore([f.image for f in faces], 48, cache=False), (0.5,) * 3, (0.5,) * 3)
        # Evaluation is deterministic and equals the cached decode.
        self.assertTrue(torch.equal(ev[3][0], ev[3][0]))
        self.assertTrue(torch.equal(ev[3][0], D.EvalSet(faces, store, (0.5,) * 3, (0.5,) * 3)[3][0]))


if __name__ == "__main__":
    unittest.main()
