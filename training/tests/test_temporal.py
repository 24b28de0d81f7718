"""Temporal families (c3d, rnn, ftcn), clip windows with reflection padding, clip datasets, and a tiny
clip training run exported to ONNX (compared with PyTorch within 1e-4)."""
import json
import random
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch
from torch import nn

from unmask_train import clips as C
from unmask_train.clip_export import check_clip_graph, export_clip_onnx, export_clip_run, verify_clip_onnx
from unmask_train.clip_train import BackboneFreeze, ClipTrainConfig, check_clip_config, load_clip_init, train_clips
from unmask_train.data import ImageStore, to_tensor
from unmask_train.model import build_model
from unmask_train.models_temporal import FTCN, ClipSpec, build_clip_model, temporal_arch_names
from unmask_train.sbi import self_blend
from tests.synth import make_clip_crops_dir

REPO = Path(__file__).resolve().parents[2]


class WindowTest(unittest.TestCase):
    def test_reflection(self):
        self.assertEqual([C.reflect_index(i, 1) for i in range(5)], [0] * 5)
        self.assertEqual([C.reflect_index(i, 2) for i in range(5)], [0, 1, 0, 1, 0])
        self.assertEqual([C.reflect_index(i, 3) for i in range(9)], [0, 1, 2, 1, 0, 1, 2, 1, 0])
        with self.assertRaises(ValueError):
            C.reflect_index(0, 0)

    def test_windows_cover_every_frame_for_all_lengths_and_strides(self):
        for t in (1, 2, 4, 8):
            for stride in range(1, t + 1):
                for n in range(1, t + 4):
                    wins = C.plan_windows(n, t, stride)
                    self.assertTrue(wins, (n, t, stride))
                    for w in wins:
                        self.assertEqual(len(w), t)
                        self.assertTrue(all(0 <= i < n for i in w))
                        if n >= t:
                            self.assertEqual(w, list(range(w[0], w[0] + t)), "no padding when the track is long enough")
                    self.assertEqual(set().union(*map(set, wins)), set(range(n)), (n, t, stride))
                    if n < t:
                        self.assertEqual(wins, [C.window_indices(n, t)])

    def test_known_plans(self):
        self.assertEqual(C.plan_windows(1, 4, 2), [[0, 0, 0, 0]])
        self.assertEqual(C.plan_windows(3, 8, 4), [[0, 1, 2, 1, 0, 1, 2, 1]])
        self.assertEqual(C.plan_windows(4, 4, 2), [[0, 1, 2, 3]])
        # stride 2 lands on 0, 2; the last window is added to end on the last frame
        self.assertEqual(C.plan_windows(7, 4, 2), [[0, 1, 2, 3], [2, 3, 4, 5], [3, 4, 5, 6]])
        self.assertEqual(C.plan_windows(0, 4, 2), [])
        with self.assertRaises(ValueError):
            C.plan_windows(5, 4, 5)

    def test_segments_and_frame_means(self):
        self.assertEqual(C.split_segments([0, 1, 2, 4, 5, 9]), [[0, 1, 2], [3, 4], [5]])
        self.assertEqual(C.split_segments([0, 1, 2, 4, 5, 9], max_gap=1), [[0, 1, 2, 3, 4], [5]])
        self.assertEqual(C.split_segments([]), [])
        wins = C.plan_windows(5, 4, 2)  # [0..3], [1..4]
        means = C.frame_means(5, wins, [1.0, 3.0])
        np.testing.assert_allclose(means, [1, 2, 2, 2, 3])
        # a reflected window counts once per frame, however often the frame repeats in it
        np.testing.assert_allclose(C.frame_means(2, [[0, 1, 0, 1]], [5.0]), [5, 5])


class ArchTest(unittest.TestCase):
    def test_every_arch_builds_and_trains_one_step(self):
        torch.manual_seed(0)
        for arch in temporal_arch_names():
            for t in (1, 3, 8):
                m = build_clip_model(arch, ClipSpec(size=32, clip_len=t, rnn="lstm" if t == 3 else "gru"))
                x = torch.randn(4, 3, t, 32, 32)
                y = m(x)
                self.assertEqual(tuple(y.shape), (4, 1), (arch, t))
                y.sum().backward()
                grads = [p.grad for p in m.parameters() if p.requires_grad]
                self.assertTrue(all(g is not None and torch.isfinite(g).all() for g in grads), (arch, t))
        self.assertEqual(temporal_arch_names(), ["c3d", "ftcn", "rnn"])

    def test_ftcn_convolutions_are_temporal_only(self):
        m = build_clip_model("ftcn", ClipSpec(size=32, clip_len=8))
        self.assertIsInstance(m, FTCN)
        convs = [mod for mod in m.modules() if isinstance(mod, nn.Conv3d)]
        self.assertGreater(len(convs), 10)
        for c in convs:
            self.assertEqual(tuple(c.kernel_size[1:]), (1, 1), c)
            self.assertEqual(tuple(c.stride), (1, 1, 1), c)
        self.assertTrue(any(c.kernel_size[0] > 1 for c in convs), "temporal kernels are kept")
        self.assertFalse(any(isinstance(mod, nn.Conv2d) for mod in m.modules()))
        # no spatial mixing by convolution: a change of one pixel's history changes only pooled features,
        # while the time axis matters: reversing time changes the logit
        m.eval()
        x = torch.randn(1, 3, 8, 32, 32)
        self.assertFalse(torch.allclose(m(x), m(x.flip(2))))

    def test_rnn_init_from_a_frame_checkpoint(self):
        frame = build_model("resnet_xs", 32)
        with torch.no_grad():
            for p in frame.parameters():
                p.uniform_(-0.1, 0.1)
        with tempfile.TemporaryDirectory() as tmp:
            torch.save({"arch": "resnet_xs", "size": 32, "model": frame.state_dict(), "epoch": 3}, Path(tmp) / "best.pt")
            cfg = ClipTrainConfig(crops=[], out=tmp, arch="rnn", size=32, clip_len=4, init=tmp)
            m = build_clip_model("rnn", cfg.spec())
            msg = load_clip_init(m, cfg)
            self.assertIn("frame run", msg)
            fs, bs = frame.state_dict(), m.backbone.state_dict()
            for k, v in bs.items():
                self.assertTrue(torch.equal(v, fs[k]), k)
            bad = ClipTrainConfig(crops=[], out=tmp, arch="c3d", size=32, clip_len=4, init=tmp)
            with self.assertRaises(ValueError):
                load_clip_init(build_clip_model("c3d", bad.spec()), bad)

    def test_frozen_backbone(self):
        m = build_clip_model("rnn", ClipSpec(size=32, clip_len=4))
        freeze = BackboneFreeze(m, frozen=True)
        self.assertTrue(freeze.apply(0))
        self.assertFalse(freeze.apply(1), "applied once")
        m.train()
        freeze.freeze_bn()
        self.assertTrue(all(not p.requires_grad for p in m.backbone.parameters()))
        self.assertTrue(all(p.requires_grad for p in m.rnn.parameters()))
        self.assertTrue(all(not b.training for b in m.backbone.modules() if isinstance(b, nn.BatchNorm2d)))
        before = {k: v.clone() for k, v in m.backbone.state_dict().items()}
        opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=0.1)
        m(torch.randn(2, 3, 4, 32, 32)).sum().backward()
        opt.step()
        for k, v in m.backbone.state_dict().items():
            self.assertTrue(torch.equal(v, before[k]), k)
        self.assertFalse(BackboneFreeze(m, frozen=False).apply(0))

    def test_unsupported_options_are_refused(self):
        for kw in ({"loss": "triplet"}, {"folds": 3}, {"bagging": 2}, {"freeze_backbone": True},
                   {"clip_stride": 9}, {"rnn": "tcn"}, {"sbi_flicker": -1.0}):
            cfg = ClipTrainConfig(crops=[], out="x", arch="c3d", clip_len=8, **kw)
            with self.assertRaises(ValueError, msg=str(kw)):
                check_clip_config(cfg)


class ClipDataTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.root = make_clip_crops_dir(Path(cls.tmp.name) / "crops")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_segments(self):
        cs = C.load_clip_set([self.root])
        self.assertEqual(cs.margin, 0.3)
        self.assertEqual(cs.sampling, [{"kind": "clip", "count": 12}])
        one = [s for s in cs.segments if s.key == "ffpp_c40__real_0"]
        # 12 decoded frames, frame 106 missed: [100..105], [107..111]; plus the 1-frame track 1
        self.assertEqual([(s.track, s.frames) for s in one],
                         [(0, tuple(range(100, 106))), (0, tuple(range(107, 112))), (1, (100,))])
        joined = [s for s in C.load_clip_set([self.root], max_gap=1).segments if s.key == "ffpp_c40__real_0"]
        self.assertEqual(len(joined), 2)

    def test_short_tracks_are_padded_by_reflection(self):
        cs = C.load_clip_set([self.root])
        store = ImageStore(cs.paths, 32, cache=False)
        single = next(s for s in cs.segments if len(s.frames) == 1)
        short = next(s for s in cs.segments if len(s.frames) == 2)  # the 5-frame videos: [0, 1] + gap + [3, 4]
        t = 6
        clips = C.plan_clips([single, short], t, 3)
        self.assertEqual([c.window for c in clips], [(0,) * t, (0, 1, 0, 1, 0, 1)])
        ds = C.ClipEvalSet([single, short], clips, store, [0.5] * 3, [0.5] * 3)
        x0, _, _ = ds[0]
        self.assertEqual(tuple(x0.shape), (3, t, 32, 32))
        for k in range(1, t):
            self.assertTrue(torch.equal(x0[:, k], x0[:, 0]))
        x1, _, _ = ds[1]
        f0 = C.clip_tensor(store, short, [0], [0.5] * 3, [0.5] * 3)[:, 0]
        f1 = C.clip_tensor(store, short, [1], [0.5] * 3, [0.5] * 3)[:, 0]
        for k in range(t):
            self.assertTrue(torch.equal(x1[:, k], f0 if k % 2 == 0 else f1))
        # training windows of short segments are padded the same way
        train = C.ClipTrainSet([short], store, t, [0.5] * 3, [0.5] * 3)
        xt, y, _ = train[C.clip_code(0, 0)]
        self.assertTrue(torch.equal(xt, x1))
        self.assertEqual(y, float(short.label))

    def test_balanced_sampler(self):
        cs = C.load_clip_set([self.root])
        train = [s for s in cs.segments if s.split == "train"]
        for ratio in (0.0, 0.5):
            sampler = C.BalancedClipSampler(train, 4, pairs_per_epoch=50, seed=0, sbi_ratio=ratio)
            codes = [C.decode_clip_code(c) for c in sampler]
            self.assertEqual(len(codes), 100)
            labels = [1 if sbi else train[si].label for si, _, sbi in codes]
            self.assertEqual(labels, [0, 1] * 50)
            for si, start, sbi in codes:
                self.assertLessEqual(start, max(0, len(train[si].frames) - 4))
            blended = [(r, f) for r, f in zip(codes[::2], codes[1::2]) if f[2]]
            if ratio == 0:
                self.assertEqual(blended, [])
            else:
                self.assertTrue(10 < len(blended) < 40, len(blended))
                for r, f in blended:  # a self-blended FAKE is the copy of its REAL partner's window
                    self.assertEqual(r, (f[0], f[1], False))
        fakes_only_sbi = [s for s in train if s.label == 0]
        self.assertEqual(C.BalancedClipSampler(fakes_only_sbi, 4, 10, 0, sbi_ratio=0.3).sbi_ratio, 1.0)
        with self.assertRaises(C.CropDataError):
            C.BalancedClipSampler(fakes_only_sbi, 4, 10, 0, sbi_ratio=0.0)

    def test_self_blended_clip_is_one_blend_over_time(self):
        cs = C.load_clip_set([self.root])
        store = ImageStore(cs.paths, 32, cache=False)
        # synthetic REAL faces are still: every frame (and its keypoints) is the same image
        seg = next(s for s in cs.segments if s.label == 0 and len(s.frames) >= 4)
        self.assertTrue(seg.sbi_usable())
        ds = C.ClipTrainSet([seg], store, 4, [0.5] * 3, [0.5] * 3)
        real, y0, _ = ds[C.clip_code(0, 0)]
        fake, y1, _ = ds[C.clip_code(0, 0, sbi=True)]
        self.assertEqual((y0, y1), (0.0, 1.0))
        self.assertFalse(torch.equal(real, fake))
        for k in range(1, 4):
            self.assertTrue(torch.equal(fake[:, k], fake[:, 0]), "the same blend in every frame")

    def test_flickering_self_blended_clip_wobbles_inside_the_face_only(self):
        cs = C.load_clip_set([self.root])
        store = ImageStore(cs.paths, 32, cache=False)
        seg = next(s for s in cs.segments if s.label == 0 and len(s.frames) >= 4)
        steady = C.ClipTrainSet([seg], store, 4, [0.5] * 3, [0.5] * 3)
        wobbly = C.ClipTrainSet([seg], store, 4, [0.5] * 3, [0.5] * 3, sbi_flicker=2.0)
        code = C.clip_code(0, 0, sbi=True)
        real = steady[C.clip_code(0, 0)][0]
        for seed in range(5):  # the per-clip draw comes from the worker rng; reseed both alike
            steady._rng.get().seed(seed)
            wobbly._rng.get().seed(seed)
            a, b = steady[code][0], wobbly[code][0]
            # the still synthetic face: any change between frames is the flicker
            moved = [float((b[:, k] - b[:, 0]).abs().max()) for k in range(1, 4)]
            self.assertGreater(max(moved), 1e-3, f"seed {seed}: frames of a flickering clip differ")
            # outside the clip's blend mask nothing flickers (the mask of frame 0: the face is still)
            arr, side = store.get(seg.images[0])
            _, mask = self_blend(to_tensor(arr), seg.keypoints[0] * (32 / side),
                                 random.Random(random.Random(seed).random()))
            outside = mask[0] == 0
            self.assertGreater(int(outside.sum()), 32 * 32 // 10)
            self.assertTrue(torch.equal(a[:, :, outside], real[:, :, outside]))
            self.assertTrue(torch.equal(b[:, :, outside], real[:, :, outside]))
        # the clip's draw is shared: a faint flicker stays close to the steady blend, not a new blend
        faint = C.ClipTrainSet([seg], store, 4, [0.5] * 3, [0.5] * 3, sbi_flicker=0.05)
        steady._rng.get().seed(7)
        faint._rng.get().seed(7)
        a, c = steady[code][0], faint[code][0]
        self.assertFalse(torch.equal(a, c))
        self.assertLess(float((a - c).abs().mean()), 0.1 * float((a - real).abs().mean()))


class ClipTrainExportTest(unittest.TestCase):
    """A real two-epoch ftcn run (resumed once), exported; every arch's ONNX agrees with PyTorch."""

    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(2)
        cls.tmp = tempfile.TemporaryDirectory()
        root = Path(cls.tmp.name)
        crops = make_clip_crops_dir(root / "crops")
        cls.run_dir = root / "run"
        cfg = ClipTrainConfig(crops=[str(crops)], out=str(cls.run_dir), arch="ftcn", size=32, clip_len=4, epochs=1,
                              batch_size=4, samples_per_epoch=8, workers=0, command="test")
        cls.first = train_clips(cfg)
        cfg.epochs, cfg.resume = 2, True
        cls.second = train_clips(cfg)
        cls.onnx, cls.manifest, cls.check = export_clip_run(cls.run_dir, root / "export", "unit-clip")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_run(self):
        rows = [json.loads(l) for l in (self.run_dir / "log.jsonl").read_text().splitlines()]
        self.assertEqual([r["epoch"] for r in rows], [1, 2])
        self.assertEqual([r["step"] for r in rows], [2, 4])
        for r in rows:
            self.assertTrue(np.isfinite(r["train_loss"]))
            self.assertTrue(0 <= r["val_frame_auc"] <= 1)
        # every frame of every validation segment is scored, 1-frame tracks included
        frames = sum(len(s.frames) for s in C.load_clip_set([Path(self.tmp.name) / "crops"]).segments if s.split == "val")
        self.assertEqual(rows[-1]["val_frames"], frames)
        self.assertEqual(self.second["epochs_run"], 2)

    def test_manifest(self):
        man = json.loads(self.manifest.read_text())
        self.assertEqual(man["kind"], "clip")
        self.assertEqual(man["input"]["layout"], "NCTHW")
        self.assertEqual(man["input"]["clipLength"], 4)
        self.assertEqual(man["input"]["clipStride"], 2)
        self.assertEqual(man["input"]["clipMaxGap"], 0)
        self.assertEqual(man["input"]["sampling"], "clip:12")
        self.assertEqual(man["input"]["size"], 32)
        self.assertEqual(man["crop"], {"policy": "margin", "margin": 0.3, "size": 32})
        self.assertEqual(man["training"]["arch"], "ftcn")

    def test_scan_sampling_follows_the_clip_records(self):
        from unmask_train.clip_export import scan_sampling
        stills = {"kind": "uniform", "count": 32}
        self.assertEqual(scan_sampling({"clip_len": 16, "sampling": [{"kind": "clip", "count": 64}, stills]}), "clip:64")
        self.assertEqual(scan_sampling({"clip_len": 16, "sampling": [stills]}), "clip:32")
        self.assertEqual(scan_sampling({"clip_len": 40, "sampling": [{"kind": "clip", "count": 8}]}), "clip:40")

    def test_onnx_agrees_with_torch_for_every_arch(self):
        if self.check["runtime"] is None:
            self.skipTest("no ONNX runtime (onnx.reference, onnxruntime or node + onnxruntime-node)")
        self.assertLessEqual(self.check["max_abs_diff"], 1e-4)
        for arch, rnn in (("c3d", "gru"), ("rnn", "gru"), ("rnn", "lstm")):
            spec = ClipSpec(size=32, clip_len=4, rnn=rnn)
            m = build_clip_model(arch, spec).eval()
            path = Path(self.tmp.name) / f"{arch}-{rnn}.onnx"
            export_clip_onnx(m, spec, path)
            check_clip_graph(path, spec)
            runtime, err = verify_clip_onnx(m, path, spec)
            self.assertIsNotNone(runtime)
            self.assertLessEqual(err, 1e-4, arch)

    def test_manifest_passes_the_typescript_schema(self):
        schema_js = REPO / "dist" / "src" / "models" / "manifest.js"
        node = shutil.which("node")
        if node is None or not schema_js.is_file():
            self.skipTest("node or dist/src/models/manifest.js missing (run `npx tsc -p tsconfig.json`)")
        script = ("const [js, p] = process.argv.slice(1);"
                  "import(js).then(async (m) => { const l = await m.loadManifest(p);"
                  "console.log(JSON.stringify(l.manifest.input)); })"
                  ".catch((e) => { console.error(e.message); process.exit(1); });")
        r = subprocess.run([node, "-e", script, schema_js.as_uri(), str(self.manifest)], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["clipLength"], 4)


if __name__ == "__main__":
    unittest.main()
