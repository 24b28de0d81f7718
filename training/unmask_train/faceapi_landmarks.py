"""face-api.js's 68-point face landmark net, ported to PyTorch, for face-shaped self-blend masks.

Self-blending (sbi.py) needs a mask shaped like the region a face swap replaces. BlazeFace gives 6
points (eyes, nose, mouth, ears), so the default mask is a hull of those plus a guessed chin and brows.
The SBI paper (Shiohara & Yamasaki 2022) takes the hull of dlib's 68 landmarks: the jaw line and the
brows. The npm package @vladmandic/face-api ships such a net (`face_landmark_68_model`, the tfjs weights
format read by `tfjs_weights.py`); nothing is downloaded.

Network (face-api's FaceFeatureExtractor + FaceLandmark68Net): input 112x112 RGB, the image padded to a
square with the picture centred, `(rgb - mean_rgb) / 255`; four dense blocks, each four convolutions
(the first of block 0 a plain 3x3 conv, every other a depthwise-separable 3x3), stride 2 on each
block's first; a block's outputs are summed densely (out1, out1+out2, ...) with ReLU; a 7x7 average
pool; a fully connected layer to 136 numbers, (x, y) for each point in [0, 1] of the padded square.
TensorFlow's 'same' padding at stride 2 pads bottom/right only (112 -> 56), reproduced here.

`python -m unmask_train landmarks --crops DIR` runs it on the crops of `unmask extract` and writes
`DIR/landmarks68.json` (LANDMARKS_FILE); `data.load_crop_set` reads it when present.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .pretrained_faceapi import FaceApiWeightsError, read_tfjs_weights
from .sbi import LEFT_EYE, MOUTH, NOSE_TIP, RIGHT_EYE
from .tfjs_weights import torch_filter

MANIFEST_NAME = "face_landmark_68_model-weights_manifest.json"
INPUT_SIDE = 112
MEAN_RGB = (122.782, 117.001, 104.298)
LANDMARKS_FILE = "landmarks68.json"
LANDMARKS_SCHEMA = "unmask.landmarks68/1"
# The part of a margin crop handed to the net: the BlazeFace box widened by this factor about its
# centre (face-api runs the net on its own detectors' boxes, which take in more forehead and chin).
# On 200 dev crops every factor from 0.9 to 1.4 put the landmarks' eyes, nose and mouth as close to
# BlazeFace's (`landmark_agreement`: 0.084 eye distances on average); 1.2 is the middle of that range.
BOX_SCALE = 1.2


def _same_pad_stride2(x: torch.Tensor) -> torch.Tensor:
    """TensorFlow 'same' for a 3x3 kernel at stride 2 on an even side: one zero row/column, bottom/right."""
    return F.pad(x, (0, 1, 0, 1))


class SeparableConv(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.depthwise = nn.Conv2d(cin, cin, 3, stride, 1 if stride == 1 else 0, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(_same_pad_stride2(x) if self.stride == 2 else x))


class FirstConv(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 2, 0, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(_same_pad_stride2(x))


class DenseBlock4(nn.Module):
    def __init__(self, cin: int, cout: int, first: bool) -> None:
        super().__init__()
        self.conv0 = FirstConv(cin, cout) if first else SeparableConv(cin, cout, 2)
        self.conv1, self.conv2, self.conv3 = (SeparableConv(cout, cout, 1) for _ in range(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out1 = F.relu(self.conv0(x))
        out2 = self.conv1(out1)
        out3 = self.conv2(F.relu(out1 + out2))
        out4 = self.conv3(F.relu(out1 + out2 + out3))
        return F.relu(out1 + out2 + out3 + out4)


class FaceLandmark68Net(nn.Module):
    """[N,3,112,112] RGB in 0-255 -> [N,68,2] points in [0, 1] of the input square."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([DenseBlock4(3, 32, True), DenseBlock4(32, 64, False),
                                     DenseBlock4(64, 128, False), DenseBlock4(128, 256, False)])
        self.fc = nn.Linear(256, 136)
        self.register_buffer("mean", torch.tensor(MEAN_RGB).view(1, 3, 1, 1))

    def forward(self, rgb255: torch.Tensor) -> torch.Tensor:
        x = (rgb255 - self.mean) / 255.0
        for b in self.blocks:
            x = b(x)
        x = F.avg_pool2d(x, 7, 2)  # 7x7 map -> 1x1
        return self.fc(x.flatten(1)).view(-1, 68, 2)


def load_landmark_net(model_dir: Optional[Path] = None) -> FaceLandmark68Net:
    w = read_tfjs_weights(model_dir, MANIFEST_NAME)
    net = FaceLandmark68Net()
    used = set()

    def take(name: str) -> torch.Tensor:
        if name not in w:
            raise FaceApiWeightsError(f"face-api landmark weights: tensor {name} missing")
        used.add(name)
        return torch.from_numpy(w[name])

    with torch.no_grad():
        for i, block in enumerate(net.blocks):
            for j, conv in enumerate((block.conv0, block.conv1, block.conv2, block.conv3)):
                p = f"dense{i}/conv{j}"
                if isinstance(conv, FirstConv):
                    conv.conv.weight.copy_(torch_filter(take(f"{p}/filters").numpy()))
                    conv.conv.bias.copy_(take(f"{p}/bias"))
                else:
                    conv.depthwise.weight.copy_(torch_filter(take(f"{p}/depthwise_filter").numpy(), depthwise=True))
                    conv.pointwise.weight.copy_(torch_filter(take(f"{p}/pointwise_filter").numpy()))
                    conv.pointwise.bias.copy_(take(f"{p}/bias"))
        net.fc.weight.copy_(take("fc/weights").t())
        net.fc.bias.copy_(take("fc/bias"))
    left = sorted(set(w) - used)
    if left:
        raise FaceApiWeightsError(f"face-api landmark weights: unused tensor {left[0]}")
    return net.eval()


def window_input(img: np.ndarray, centre: Tuple[float, float], side: float) -> torch.Tensor:
    """HxWx3 uint8 crop -> [3,112,112] float 0-255 of the square window (zero outside the crop)."""
    h, w = img.shape[:2]
    cx, cy = centre
    t = torch.from_numpy(np.array(img, dtype=np.float32)).permute(2, 0, 1).unsqueeze(0)
    # affine_grid maps output [-1, 1] to input [-1, 1]; the window in normalised input coordinates:
    theta = torch.tensor([[[side / w, 0.0, (2 * cx / w) - 1], [0.0, side / h, (2 * cy / h) - 1]]], dtype=torch.float32)
    grid = F.affine_grid(theta, [1, 3, INPUT_SIDE, INPUT_SIDE], align_corners=False)
    return F.grid_sample(t, grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0]


def predict_crops(net: FaceLandmark68Net, images: Sequence[np.ndarray], box_sides: Sequence[float],
                  scale: float = BOX_SCALE) -> np.ndarray:
    """68 landmarks per crop, in crop pixels. Each crop is a margin crop centred on its face box of side
    `box_sides[i]` (crop pixels)."""
    batch, places = [], []
    for img, bs in zip(images, box_sides):
        h, w = img.shape[:2]
        side = bs * scale
        centre = (w / 2, h / 2)
        batch.append(window_input(img, centre, side))
        places.append((centre[0] - side / 2, centre[1] - side / 2, side))
    with torch.no_grad():
        pts = net(torch.stack(batch)).numpy().astype(np.float64)
    out = np.empty_like(pts)
    for i, (x0, y0, side) in enumerate(places):
        out[i, :, 0] = x0 + pts[i, :, 0] * side
        out[i, :, 1] = y0 + pts[i, :, 1] * side
    return out


def landmark_agreement(lm: np.ndarray, kp: np.ndarray) -> float:
    """Distance between the landmarks' eyes, nose tip and mouth and BlazeFace's 4 core points, in
    eye distances (mean of the four). A check that the landmarks sit on the face."""
    ours = np.stack([lm[LEFT_EYE].mean(0), lm[RIGHT_EYE].mean(0), lm[NOSE_TIP], lm[MOUTH].mean(0)])
    eye = float(np.linalg.norm(kp[1] - kp[0])) or 1.0
    return float(np.linalg.norm(ours - kp[:4], axis=1).mean() / eye)


# Landmarks whose eyes, nose and mouth lie further than this from BlazeFace's (in eye distances) are
# not written: the net failed on that face (profile, occlusion), and sbi.py falls back to the keypoints.
MAX_DISAGREEMENT = 0.35


def write_crop_landmarks(crops_dir: Path, batch: int = 64, only_real: bool = True,
                         progress: bool = True) -> Dict[str, int]:
    """Runs the net on the crops of `unmask extract` (REAL faces only by default: self-blending's sources)
    and writes `crops_dir/LANDMARKS_FILE`: {schema, boxScale, faces: {crop file: [[x, y] x 68]}}, points in
    pixels of the crop as written. Returns counts (written, rejected)."""
    from PIL import Image

    from .data import load_crop_set

    root = Path(crops_dir).resolve()
    crop_set = load_crop_set(root)
    faces = [f for f in crop_set.faces if f.label == 0 or not only_real]
    if not faces:
        raise ValueError(f"{root}: no {'REAL ' if only_real else ''}faces to put landmarks on")
    margin = crop_set.margin if crop_set.margin is not None else 0.0
    net = load_landmark_net()
    out: Dict[str, List[List[float]]] = {}
    counts = {"written": 0, "rejected": 0}
    for k, chunk in enumerate(batched(faces, batch)):
        imgs = [np.asarray(Image.open(f.image).convert("RGB")) for f in chunk]
        # The crop as written is the box plus `margin` of its side on every side, centred on the box.
        sides = [img.shape[0] / (1 + 2 * margin) for img in imgs]
        pts = predict_crops(net, imgs, sides)
        for f, img, lm in zip(chunk, imgs, pts):
            kp = f.keypoints * (img.shape[0] / f.crop_size) if f.crop_size else f.keypoints
            if landmark_agreement(lm, kp) > MAX_DISAGREEMENT:
                counts["rejected"] += 1
                continue
            out[str(Path(f.image).relative_to(root))] = np.round(lm, 2).tolist()
            counts["written"] += 1
        if progress and k % 10 == 0:
            print(f"landmarks: {min((k + 1) * batch, len(faces))}/{len(faces)}", flush=True)
    doc = {"schema": LANDMARKS_SCHEMA, "model": MANIFEST_NAME, "boxScale": BOX_SCALE, "faces": out}
    (root / LANDMARKS_FILE).write_text(json.dumps(doc), encoding="utf-8")
    return counts


def read_crop_landmarks(crops_dir: Path) -> Optional[Dict[str, np.ndarray]]:
    """crop file (relative to crops_dir) -> (68, 2) landmarks in pixels of the crop as written, or None
    when the directory has no landmarks file."""
    path = Path(crops_dir) / LANDMARKS_FILE
    if not path.is_file():
        return None
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("schema") != LANDMARKS_SCHEMA:
        raise ValueError(f"{path}: schema {doc.get('schema')!r}, expected {LANDMARKS_SCHEMA!r}")
    return {k: np.asarray(v, dtype=np.float32).reshape(68, 2) for k, v in doc.get("faces", {}).items()}


def batched(items: Sequence, n: int) -> Iterable[Sequence]:
    for i in range(0, len(items), n):
        yield items[i:i + n]
