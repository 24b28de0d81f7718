"""MesoNet import (peer_mesonet.py): Keras weight files written here with h5py, in the layout Keras 2
saves, and a channels-last NumPy forward pass that follows Keras's own conventions, independent of the
PyTorch port (kernel layouts, BatchNorm epsilon 1e-3, channels-last flatten, branch order)."""
import json
import tempfile
import unittest
from pathlib import Path

import numpy as np
import torch

try:
    import h5py
except ImportError:  # pragma: no cover
    h5py = None

from unmask_train.peer_mesonet import PeerWeightsError, build_from_keras, import_mesonet

MESO4 = [("conv2d", 3, 3, 8, 1), ("conv2d", 5, 8, 8, 1), ("conv2d", 5, 8, 16, 1), ("conv2d", 5, 16, 16, 1)]


def _inception_convs(cin, a, b, c, d):
    # creation order: x1; x2 1x1, 3x3; x3 1x1, 3x3 dil 2; x4 1x1, 3x3 dil 3
    return [("conv2d", 1, cin, a, 1), ("conv2d", 1, cin, b, 1), ("conv2d", 3, b, b, 1), ("conv2d", 1, cin, c, 1),
            ("conv2d", 3, c, c, 2), ("conv2d", 1, cin, d, 1), ("conv2d", 3, d, d, 3)]


def keras_weights(inception: bool, seed: int = 0):
    """{layer: arrays} and the model's layer names, as a Keras 2 file of that architecture holds them."""
    rng = np.random.default_rng(seed)
    convs = (_inception_convs(3, 1, 4, 4, 2) + _inception_convs(11, 2, 4, 4, 2) +
             [("conv2d", 5, 12, 16, 1), ("conv2d", 5, 16, 16, 1)]) if inception else MESO4
    widths = [11, 12, 16, 16] if inception else [8, 8, 16, 16]
    layers, names, n = {}, ["input_1"], 5  # numbering need not start at 1 (a session's earlier models)
    for _, k, cin, cout, _dil in convs:
        layers[f"conv2d_{n}"] = [(rng.standard_normal((k, k, cin, cout)) * 0.3).astype(np.float32),
                                 (rng.standard_normal(cout) * 0.1).astype(np.float32)]
        names.append(f"conv2d_{n}")
        n += 1
    for i, w in enumerate(widths):
        layers[f"batch_normalization_{i + 3}"] = [
            rng.uniform(0.5, 1.5, w).astype(np.float32), (rng.standard_normal(w) * 0.1).astype(np.float32),
            (rng.standard_normal(w) * 0.1).astype(np.float32), rng.uniform(0.001, 0.01, w).astype(np.float32)]
        names.append(f"batch_normalization_{i + 3}")
    layers["dense_7"] = [(rng.standard_normal((1024, 16)) * 0.1).astype(np.float32),
                         (rng.standard_normal(16) * 0.1).astype(np.float32)]
    layers["dense_8"] = [(rng.standard_normal((16, 1)) * 0.5).astype(np.float32), np.array([0.2], np.float32)]
    names += ["flatten_1", "dropout_1", "dense_7"] + (["leaky_re_lu_1"] if inception else []) + ["dropout_2", "dense_8"]
    return names, layers, convs


def write_h5(path: Path, names, layers) -> None:
    kinds = {"conv2d": ["kernel:0", "bias:0"], "dense": ["kernel:0", "bias:0"],
             "batch_normalization": ["gamma:0", "beta:0", "moving_mean:0", "moving_variance:0"]}
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [n.encode() for n in names]
        f.attrs["keras_version"] = b"2.1.5"
        for name in names:
            g = f.create_group(name)
            arrays = layers.get(name, [])
            wn = [f"{name}/{w}" for w in kinds[name.rsplit("_", 1)[0]]] if arrays else []
            g.attrs["weight_names"] = [w.encode() for w in wn]
            for w, a in zip(wn, arrays):
                g.create_dataset(w, data=a)


def np_conv_same(x, kernel, bias, dil=1):
    """Keras Conv2D(padding='same', dilation_rate=dil) on one HWC image, kernel (kh, kw, in, out)."""
    k = kernel.shape[0]
    pad = dil * (k - 1) // 2
    xp = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    h, w = x.shape[:2]
    out = np.zeros((h, w, kernel.shape[3]), np.float64) + bias
    for i in range(k):
        for j in range(k):
            out += xp[i * dil:i * dil + h, j * dil:j * dil + w, :] @ kernel[i, j]
    return out


def np_forward(x_hwc, layers, convs, inception: bool) -> float:
    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    conv_names = sorted((n for n in layers if n.startswith("conv2d")), key=lambda n: int(n.split("_")[1]))
    bn_names = sorted(n for n in layers if n.startswith("batch_normalization"))
    it = iter(zip(conv_names, convs))

    def conv(x):
        name, (_, _k, _ci, _co, dil) = next(it)
        return relu(np_conv_same(x, *layers[name], dil=dil))

    def inception_block(x):
        x1 = conv(x)
        x2 = conv(conv(x))
        x3 = conv(conv(x))
        x4 = conv(conv(x))
        return np.concatenate([x1, x2, x3, x4], axis=-1)

    def bn_pool(x, bn, p):
        g, b, m, v = layers[bn]
        x = g * (x - m) / np.sqrt(v + 1e-3) + b
        h, w, c = x.shape
        return x.reshape(h // p, p, w // p, p, c).max(axis=(1, 3))

    x = x_hwc.astype(np.float64)
    for i, (bn, p) in enumerate(zip(bn_names, [2, 2, 2, 4])):
        x = inception_block(x) if inception and i < 2 else conv(x)
        x = bn_pool(x, bn, p)
    y = x.reshape(-1) @ layers["dense_7"][0] + layers["dense_7"][1]
    if inception:
        y = np.where(y > 0, y, 0.1 * y)
    return float((y @ layers["dense_8"][0] + layers["dense_8"][1])[0])


@unittest.skipIf(h5py is None, "h5py not installed (apt install python3-h5py): MesoNet import not tested")
class MesoNetImportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def check_arch(self, inception: bool):
        names, layers, convs = keras_weights(inception, seed=int(inception))
        path = self.dir / "w.h5"
        write_h5(path, names, layers)
        model, arch = build_from_keras(path, positive="fake")
        self.assertEqual(arch, "mesoinception4" if inception else "meso4")
        x = np.random.default_rng(3).uniform(0, 1, (2, 256, 256, 3)).astype(np.float32)
        with torch.no_grad():
            got = model(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()))[:, 0].numpy()
        want = [np_forward(x[i], layers, convs, inception) for i in range(2)]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
        real, _ = build_from_keras(path, positive="real")
        with torch.no_grad():
            flipped = real(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()))[:, 0].numpy()
        np.testing.assert_allclose(flipped, -got, rtol=1e-6)

    def test_meso4_matches_keras_semantics(self):
        self.check_arch(inception=False)

    def test_mesoinception4_matches_keras_semantics(self):
        self.check_arch(inception=True)

    def test_export_writes_a_manifest_and_agrees_with_torch(self):
        names, layers, _ = keras_weights(False)
        path = self.dir / "Meso4_DF.h5"
        write_h5(path, names, layers)
        onnx_path, man_path, check = import_mesonet(path, self.dir / "out", "meso-test")
        self.assertTrue(onnx_path.is_file())
        m = json.loads(man_path.read_text())
        self.assertEqual((m["input"]["size"], m["input"]["mean"], m["input"]["std"]), (256, [0.0] * 3, [1.0] * 3))
        self.assertEqual(m["output"]["meaning"], "logit_fake")
        self.assertEqual(m["training"]["arch"], "meso4")
        self.assertFalse(check["leaky_relu"])
        # import_mesonet raises ExportError when ONNX and PyTorch disagree (relative to the logit's size,
        # which random weights make large); here it only has to have been compared when a runtime exists
        self.assertTrue(check["runtime"] is None or np.isfinite(check["max_abs_diff"]))

    def test_refusals(self):
        with self.assertRaises(FileNotFoundError):
            build_from_keras(self.dir / "missing.h5")
        text = self.dir / "text.h5"
        text.write_text("not hdf5")
        with self.assertRaisesRegex(PeerWeightsError, "not an HDF5"):
            build_from_keras(text)
        names, layers, _ = keras_weights(False)
        del layers["dense_8"]
        names.remove("dense_8")
        write_h5(self.dir / "short.h5", names, layers)
        with self.assertRaisesRegex(PeerWeightsError, "not Meso4"):
            build_from_keras(self.dir / "short.h5")


PEERS = Path(__file__).resolve().parents[3] / "shared" / "peers" / "mesonet"


@unittest.skipIf(h5py is None or not PEERS.is_dir(),
                 "../shared/peers/mesonet (or h5py) absent: the published MesoNet files are not converted")
class PublishedMesoNetTest(unittest.TestCase):
    def test_each_published_file_converts_to_its_architecture(self):
        for path in sorted(PEERS.glob("mesonet_*.h5")):
            with self.subTest(path.name):
                model, arch = build_from_keras(path)
                self.assertEqual(arch, "mesoinception4" if "Inception" in path.name else "meso4")
                # the files list a leaky_re_lu layer for MesoInception4 only; the port follows the file
                self.assertEqual(isinstance(model.act, torch.nn.LeakyReLU), arch == "mesoinception4")
                x = torch.rand(2, 3, 256, 256)
                with torch.no_grad():
                    p = torch.sigmoid(model(x))
                self.assertTrue(bool(torch.isfinite(p).all()))


if __name__ == "__main__":
    unittest.main()
