"""k-fold by identity, balanced bags, class-balanced samplers, member planning and ensemble manifests."""
import json
import random
import shutil
import subprocess
import tempfile
import unittest
from collections import Counter
from pathlib import Path

import numpy as np

from tests.synth import make_crops_dir
from unmask_train.__main__ import main
from unmask_train.data import Face, group_components
from unmask_train.ensemble_runs import plan_members, write_ensemble_manifest
from unmask_train.splits import (ClassBalancedSampler, NaturalSampler, bag_subset, fold_split, majority_shares,
                                 subsample_by_key)
from unmask_train.train import TrainConfig

REPO = Path(__file__).resolve().parents[2]
KP = np.array([[30, 40], [60, 40], [45, 55], [45, 70], [20, 45], [70, 45]], dtype=np.float32)


def faces_with_identities(seed: int = 0):
    """FF++-like faces: reals of identity i, fakes of target i with source j (group 'i+j'), 7:1 imbalance
    in favour of FAKE as in DFDC, several frames per video."""
    rng = random.Random(seed)
    faces = []
    for i in range(40):
        for fr in range(2):
            faces.append(Face(f"/r{i}_{fr}.png", f"real{i}", 0, "ffpp", "train", f"id:{i}", "", KP, 96))
        for k in range(7):
            j = rng.randrange(40)
            for fr in range(2):
                faces.append(Face(f"/f{i}_{k}_{fr}.png", f"fake{i}_{k}", 1, "ffpp", "train", f"id:{i}+id:{j}",
                                  "Deepfakes", KP, 96))
    # A few identities joined only through fakes, and singletons.
    faces += [Face(f"/s{i}.png", f"solo{i}", 0, "utk", "train", f"utk:{i}", "", KP, 96) for i in range(30)]
    return faces


def identities(faces):
    return {i for f in faces for i in f.group.split("+")}


class FoldTest(unittest.TestCase):
    def test_folds_never_share_an_identity_and_cover_everything(self):
        faces = faces_with_identities()
        held_all = []
        for k in range(5):
            train, held = fold_split(faces, 5, k, seed=0)
            self.assertEqual(len(train) + len(held), len(faces))
            self.assertFalse(identities(train) & identities(held), f"fold {k} shares an identity with its train part")
            held_all += held
        self.assertEqual(sorted(f.image for f in held_all), sorted(f.image for f in faces), "each face held out once")

    def test_folds_are_deterministic_and_reasonably_even(self):
        faces = faces_with_identities()
        a = [len(fold_split(faces, 3, k, seed=0)[1]) for k in range(3)]
        b = [len(fold_split(faces, 3, k, seed=0)[1]) for k in range(3)]
        self.assertEqual(a, b)
        # One big component dominates FF++-like data (fakes join identities); the rest balance around it.
        comps = Counter(group_components([f.group for f in faces]))
        self.assertLessEqual(max(a) - min(a), max(comps.values()))

    def test_bad_fold_arguments(self):
        with self.assertRaises(ValueError):
            fold_split(faces_with_identities(), 1, 0, 0)
        with self.assertRaises(ValueError):
            fold_split(faces_with_identities(), 3, 3, 0)


class BaggingTest(unittest.TestCase):
    def test_bags_are_balanced_disjoint_and_cover_the_minority(self):
        faces = faces_with_identities()
        counts = Counter(f.label for f in faces)
        self.assertEqual(min(counts, key=counts.get), 0, "REAL is the minority here")
        k = 4
        majority_seen = []
        for b in range(k):
            bag = bag_subset(faces, k, b, seed=0)
            c = Counter(f.label for f in bag)
            self.assertEqual(c[0], counts[0], "every minority face is in every bag")
            self.assertAlmostEqual(c[1] / counts[1], 1 / k, delta=0.05)
            majority_seen += [f.image for f in bag if f.label == 1]
            # Frames of one video stay together.
            keys = {f.key for f in bag if f.label == 1}
            self.assertTrue(all(f in bag for f in faces if f.key in keys))
        self.assertEqual(sorted(majority_seen), sorted(f.image for f in faces if f.label == 1),
                         "majority shares are disjoint and cover the majority")

    def test_shares_by_key(self):
        faces = faces_with_identities()
        share = majority_shares(faces, 0, 3, 0)
        self.assertEqual(set(share), {f.key for f in faces if f.label == 1})
        self.assertEqual(set(share.values()), {0, 1, 2})


class ValLimitTest(unittest.TestCase):
    def test_subsample_keeps_whole_videos_half_fake(self):
        faces = faces_with_identities()
        sub = subsample_by_key(faces, 60, seed=0)
        self.assertEqual(sub, subsample_by_key(faces, 60, seed=0))
        self.assertLessEqual(abs(len(sub) - 60), 2)
        self.assertAlmostEqual(sum(f.label for f in sub) / len(sub), 0.5, delta=0.05)
        keys = {f.key for f in sub}
        self.assertEqual(len(sub), sum(1 for f in faces if f.key in keys), "all frames of a chosen video")


class SamplerTest(unittest.TestCase):
    def test_class_balanced_sampler_draws_half_fake(self):
        faces = faces_with_identities()
        s = ClassBalancedSampler(faces, sbi_ratio=0.5, samples_per_epoch=4000, seed=0)
        codes = list(s)
        n = len(faces)
        fake = sum(1 for c in codes if c >= n or faces[c].label == 1)
        sbi = sum(1 for c in codes if c >= n)
        self.assertAlmostEqual(fake / len(codes), 0.5, delta=0.03)
        self.assertAlmostEqual(sbi / len(codes), 0.25, delta=0.03)
        self.assertTrue(all(faces[c - n].label == 0 for c in codes if c >= n), "SBI only from REAL faces")
        s.set_epoch(1)
        self.assertNotEqual(codes, list(s), "a new stream per epoch")

    def test_natural_sampler_keeps_the_ratio(self):
        faces = faces_with_identities()
        codes = list(NaturalSampler(faces, 4000, 0))
        share = sum(faces[c].label for c in codes) / len(codes)
        self.assertAlmostEqual(share, sum(f.label for f in faces) / len(faces), delta=0.03)


class MembersTest(unittest.TestCase):
    def test_plan(self):
        cfg = TrainConfig(crops=["c"], out="runs/x", folds=3, bagging=2)
        members = plan_members(cfg, all_folds=True, all_bags=False, seeds=[0, 1])
        self.assertEqual([m.suffix for m in members],
                         ["fold0-seed0", "fold0-seed1", "fold1-seed0", "fold1-seed1", "fold2-seed0", "fold2-seed1"])
        self.assertEqual(members[3].cfg.out, "runs/x/fold1-seed1")
        self.assertEqual((members[3].cfg.fold, members[3].cfg.seed, members[3].cfg.bag), (1, 1, 0))
        one = plan_members(TrainConfig(crops=["c"], out="runs/y", folds=3, fold=2), False, True, [7])
        self.assertEqual(len(one), 1)
        self.assertEqual((one[0].suffix, one[0].cfg.out, one[0].cfg.fold, one[0].cfg.seed), ("", "runs/y", 2, 7))


class BaggingCliTest(unittest.TestCase):
    """`train --bagging 2 --export DIR`: two member runs, two exported models, one ensemble manifest."""

    def test_bagging_end_to_end(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            crops = make_crops_dir(root / "crops", side=48, per_class=4, frames=2)
            rc = main(["train", "--crops", str(crops), "--out", str(root / "run"), "--arch", "resnet_xs", "--size", "32",
                       "--epochs", "1", "--batch-size", "8", "--samples-per-epoch", "16", "--workers", "0",
                       "--bagging", "2", "--export", str(root / "models"), "--name", "bagged"])
            self.assertEqual(rc, 0)
            for b in (0, 1):
                self.assertTrue((root / "run" / f"bag{b}" / "final.json").is_file())
                self.assertTrue((root / "models" / f"bagged-bag{b}.onnx").is_file())
            ens = json.loads((root / "models" / "bagged.ensemble.json").read_text())
            self.assertEqual(ens["schema"], "unmask.ensemble/1")
            self.assertEqual(ens["members"], ["bagged-bag0.manifest.json", "bagged-bag1.manifest.json"])
            # Bag sizes: synth has 8 FAKE faces (minority) and 16 REAL training faces.
            logs = [(root / "run" / f"bag{b}" / "final.json") for b in (0, 1)]
            self.assertEqual([json.loads(p.read_text())["train_faces"] for p in logs], [16, 16])
            self.check_with_typescript(root / "models" / "bagged.ensemble.json",
                                       [root / "models" / f"bagged-bag{b}.manifest.json" for b in (0, 1)])

    def check_with_typescript(self, ensemble: Path, members) -> None:
        """The TypeScript reader (src/models/ensemble_manifest.ts) accepts the file and finds the members."""
        js = REPO / "dist" / "src" / "models" / "ensemble_manifest.js"
        node = shutil.which("node")
        if node is None or not js.is_file():
            self.skipTest("node or dist/src/models/ensemble_manifest.js missing (run `npx tsc -p tsconfig.json`)")
        script = ("const [js, p] = process.argv.slice(1);"
                  "import(js).then(async (m) => console.log(JSON.stringify(await m.readEnsembleMembers(p))))"
                  ".catch((e) => { console.error(e.message); process.exit(1); });")
        r = subprocess.run([node, "-e", script, js.as_uri(), str(ensemble)], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), [str(m.resolve()) for m in members])

    def test_ensemble_manifest_rejects_non_frame_members(self):
        with tempfile.TemporaryDirectory() as tmp:
            bad = Path(tmp) / "x.manifest.json"
            bad.write_text(json.dumps({"kind": "clip"}))
            with self.assertRaisesRegex(ValueError, "frame model"):
                write_ensemble_manifest(Path(tmp) / "e.ensemble.json", "e", [bad])


if __name__ == "__main__":
    unittest.main()
