import contextlib
import io
import json
import math
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import onnx
import torch

from unmask_train import export as E
from unmask_train.train import TrainConfig, train
from tests.synth import make_crops_dir

REPO = Path(__file__).resolve().parents[2]


class FinalForEpochTest(unittest.TestCase):
    """`export --weights last` of a run whose best epoch is another: the manifest must not carry the
    best epoch's temperature and metrics."""

    def test_other_epoch_gets_its_own_metrics_and_no_temperature(self):
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(tmp)
            final = {"best_epoch": 1, "temperature": 2.5, "decision": {"realBelow": 0.3, "fakeAbove": 0.7},
                     "metrics": {"video_auc": 0.58, "video_logloss": 0.73}}
            rows = [{"epoch": 1, "val_video_auc": 0.58, "val_video_logloss": 0.73, "train_loss": 0.6},
                    {"epoch": 2, "val_video_auc": 0.62, "val_video_logloss": 1.15, "train_loss": 0.3}]
            (run / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
            self.assertIs(E.final_for_epoch(run, final, 1), final)
            with contextlib.redirect_stdout(io.StringIO()) as said:
                other = E.final_for_epoch(run, final, 2)
            self.assertIn("not the best epoch 1", said.getvalue())
            self.assertEqual(other["temperature"], 1.0)
            self.assertEqual(other["metrics"], {"video_auc": 0.62, "video_logloss": 1.15})
            self.assertEqual(other["decision"], final["decision"])
            self.assertEqual(final["temperature"], 2.5, "final.json's dict is not modified")


class TrainExportTest(unittest.TestCase):
    """A real (tiny) training run on synthetic crops, resumed once, then exported."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        root = Path(cls.tmp.name)
        crops = make_crops_dir(root / "crops", side=64, per_class=4, frames=2)
        cls.run_dir = root / "run"
        cfg = TrainConfig(crops=[str(crops)], out=str(cls.run_dir), arch="resnet_xs", size=32, epochs=1,
                          batch_size=8, samples_per_epoch=16, workers=0, command="test")
        cls.first = train(cfg)
        cfg.epochs, cfg.resume = 2, True
        cls.second = train(cfg)
        cls.out = root / "export"
        cls.onnx, cls.manifest, cls.check = E.export_run(cls.run_dir, cls.out, "unit-test-model")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_run_dir_and_logs(self):
        for name in ("last.pt", "best.pt", "epoch_001.pt", "epoch_002.pt", "log.jsonl", "final.json"):
            self.assertTrue((self.run_dir / name).is_file(), name)
        rows = [json.loads(l) for l in (self.run_dir / "log.jsonl").read_text().splitlines()]
        self.assertEqual([r["epoch"] for r in rows], [1, 2], "resume continued at epoch 2")
        self.assertEqual([r["step"] for r in rows], [2, 4], "2 steps of 8 per epoch")
        # The resumed run re-plans the cosine over its own --epochs: LR has not hit the floor yet.
        self.assertGreater(rows[1]["lr"], 1e-4)
        for r in rows:
            self.assertTrue(math.isfinite(r["train_loss"]))
            self.assertTrue(0.0 <= r["val_frame_auc"] <= 1.0)
            self.assertTrue(math.isfinite(r["val_video_logloss"]))
        self.assertEqual(self.second["epochs_run"], 2)
        self.assertGreater(self.second["temperature"], 0)
        self.assertEqual(self.second["val_faces"], 16)

    def test_any_epoch_can_be_exported(self):
        # --weights epoch:N loads epoch_NNN.pt (the weights after that epoch), not best.pt or last.pt
        best = E.load_checkpoint(self.run_dir / "best.pt")["epoch"]
        other = 1 if best == 2 else 2
        with contextlib.redirect_stdout(io.StringIO()):
            model, ckpt, final = E.load_run(self.run_dir, f"epoch:{other}")
        self.assertEqual(ckpt["epoch"], other)
        saved = E.load_checkpoint(self.run_dir / f"epoch_{other:03d}.pt")["model"]
        for k, v in model.state_dict().items():
            self.assertTrue(torch.equal(v, saved[k]), k)
        self.assertEqual(final["temperature"], 1.0)
        self.assertEqual(E.checkpoint_path(self.run_dir, "best"), self.run_dir / "best.pt")
        for bad, said in (("epoch:9", "no checkpoint"), ("epoch", "best, last or epoch:N"), ("3", "epoch:N")):
            with self.assertRaisesRegex(E.ExportError, said):
                E.checkpoint_path(self.run_dir, bad)

    def test_onnx_graph_and_agreement(self):
        m = onnx.load(str(self.onnx))
        onnx.checker.check_model(m)
        self.assertEqual([i.name for i in m.graph.input][:1], ["input"])
        if self.check["runtime"] is None:
            self.skipTest("no ONNX runtime here (onnx.reference, onnxruntime or node + onnxruntime-node)")
        self.assertLessEqual(self.check["max_abs_diff"], 1e-4)

    def test_manifest_contents(self):
        man = json.loads(self.manifest.read_text())
        self.assertEqual(man["file"], "unit-test-model.onnx")
        self.assertEqual(man["input"], {"size": 32, "layout": "NCHW", "mean": [0.5] * 3, "std": [0.5] * 3})
        self.assertEqual(man["crop"], {"policy": "margin", "margin": 0.3, "size": 64})
        self.assertEqual(man["output"], {"meaning": "logit_fake", "explanation": {"output": "cam", "method": "grad-cam"}})
        self.assertEqual(man["training"]["arch"], "resnet_xs")
        self.assertEqual(man["training"]["epochs"], 2)
        for k in ("frame_auc", "frame_logloss", "video_auc", "video_logloss"):
            self.assertIn(k, man["metrics"])
        # Checkpoints written before crop_size was recorded still export (without crop.size).
        ckpt = E.load_checkpoint(self.run_dir / "best.pt")
        del ckpt["crop_size"]
        old = E.build_manifest("old", "0.1.0", ckpt, {}, "notes")
        self.assertEqual(old["crop"], {"policy": "margin", "margin": 0.3})
        E.check_manifest(old)
        bad = dict(man, decision={"realBelow": 0.8, "fakeAbove": 0.2})
        with self.assertRaises(E.ExportError):
            E.check_manifest(bad)

    def test_manifest_passes_the_typescript_schema(self):
        self.check_with_typescript(self.manifest, self.onnx)

    def test_half_weights_copy(self):
        from unmask_train.half_weights import HALF_NOTE, convert_export

        out = Path(self.tmp.name) / "half"
        onnx_path, man_path, check = convert_export(self.manifest, out, "unit-test-half")
        self.assertGreater(check["initializers_halved"], 0)
        self.assertLess(check["bytes_after"], 0.7 * check["bytes_before"])
        model = onnx.load(str(onnx_path))
        onnx.checker.check_model(model)
        halved = [i for i in model.graph.initializer if i.data_type == onnx.TensorProto.FLOAT16]
        self.assertEqual(len(halved), check["initializers_halved"])
        casts = [n for n in model.graph.node if n.op_type == "Cast" and n.input[0].endswith("__f16")]
        self.assertEqual(len(casts), len(halved))
        src, dst = json.loads(self.manifest.read_text()), json.loads(man_path.read_text())
        self.assertEqual((dst["name"], dst["file"]), ("unit-test-half", onnx_path.name))
        self.assertIn(f"{HALF_NOTE} Converted from unit-test-model", dst["training"]["notes"])
        for key in ("input", "crop", "calibration", "decision", "metrics"):
            self.assertEqual(dst[key], src[key])
        self.check_with_typescript(man_path, onnx_path)
        if math.isnan(check["max_abs_logit_diff"]):
            self.skipTest("no ONNX runtime here (onnx.reference, onnxruntime or node + onnxruntime-node): "
                          "the float16 copy's logits were not compared")
        self.assertLessEqual(check["max_abs_logit_diff"], 0.05)

    def test_half_weights_refusals(self):
        from unmask_train.half_weights import HalfWeightsError, convert_export

        with self.assertRaisesRegex(HalfWeightsError, "is the source file"):
            convert_export(self.manifest, self.out)
        tmp = Path(self.tmp.name)
        with self.assertRaisesRegex(HalfWeightsError, "only frame models"):
            convert_export(self.patched_manifest("clip", kind="clip"), tmp / "clip-half")
        with self.assertRaisesRegex(HalfWeightsError, "not a readable model manifest"):
            convert_export(tmp / "missing.manifest.json", tmp / "x")
        with self.assertRaisesRegex(HalfWeightsError, "ONNX file .* is missing"):
            convert_export(self.patched_manifest("no-onnx", file="gone.onnx"), tmp / "y")

    def test_int8_copy(self):
        from unmask_train.quantize import INT8_NOTE, QuantizeError, convert_export

        if shutil.which("node") is None or not (REPO / "node_modules" / "onnxruntime-node").is_dir():
            self.skipTest("quantization runs onnxruntime-node: needs node and `npm ci`")
        crops = Path(self.tmp.name) / "crops"
        out = Path(self.tmp.name) / "int8"
        # 24 training-split faces: 12 calibrate, 12 compare
        onnx_path, man_path, check = convert_export(self.manifest, crops, out, calib=12, check=12)
        self.assertEqual(onnx_path.name, "unit-test-model-int8.onnx")
        self.assertGreater(check["convs_quantized"], 0)
        self.assertGreaterEqual(check["logit_correlation"], 0.98)
        model = onnx.load(str(onnx_path))
        onnx.checker.check_model(model)
        int8 = [i for i in model.graph.initializer if i.data_type == onnx.TensorProto.INT8 and i.name.endswith("__int8")]
        self.assertEqual(len(int8), check["convs_quantized"])
        dst = json.loads(man_path.read_text())
        self.assertIn(f"{INT8_NOTE.format(n=12)} Converted from unit-test-model", dst["training"]["notes"])
        self.check_with_typescript(man_path, onnx_path)
        with self.assertRaisesRegex(QuantizeError, "training-split faces, 100 needed"):
            convert_export(self.manifest, crops, out, calib=50, check=50)
        with self.assertRaisesRegex(QuantizeError, "only frame models"):
            convert_export(self.patched_manifest("clip-q", kind="clip"), crops, out)

    def patched_manifest(self, name: str, **changes) -> Path:
        """A copy of the exported manifest with top-level fields changed, beside the export."""
        path = Path(self.tmp.name) / f"{name}.manifest.json"
        path.write_text(json.dumps({**json.loads(self.manifest.read_text()), **changes}))
        return path

    def check_with_typescript(self, manifest: Path, onnx_path: Path) -> None:
        schema_js = REPO / "dist" / "src" / "models" / "manifest.js"
        node = shutil.which("node")
        if node is None or not schema_js.is_file():
            self.skipTest("node or dist/src/models/manifest.js missing (run `npx tsc -p tsconfig.json`)")
        script = ("const [js, p] = process.argv.slice(1);"
                  "import(js).then(async (m) => { const l = await m.loadManifest(p);"
                  "console.log(JSON.stringify({ok: true, onnx: l.onnxPath})); })"
                  ".catch((e) => { console.error(e.message); process.exit(1); });")
        r = subprocess.run([node, "-e", script, schema_js.as_uri(), str(manifest)], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["onnx"], str(onnx_path))


if __name__ == "__main__":
    unittest.main()
