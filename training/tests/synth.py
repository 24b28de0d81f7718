"""A tiny synthetic crops directory in the `unmask extract` format, drawn with PIL.

Faces are ellipses with eyes, nose and mouth at the keypoints; FAKE faces get a colour-shifted,
sharp-edged inner patch (a crude blend boundary) so that a model can tell them apart.
`make_clip_crops_dir` writes videos of consecutive frames for the clip (temporal) models.
"""
from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import List, Tuple

import numpy as np
from PIL import Image, ImageDraw

Kp = List[List[float]]


def frontal_landmarks(side: int = 96) -> np.ndarray:
    """A plausible dlib-68 layout in a `side` px crop: a jaw U, brows, eyes, nose, mouth."""
    c, s = side / 2, side / 96
    lm = np.zeros((68, 2))
    t = np.linspace(np.pi, 0, 17)  # jaw from the image left, down round the chin, to the right
    lm[0:17] = np.stack([c + 26 * s * np.cos(t), 44 * s + 30 * s * np.sin(np.pi - t) * 1.0], 1)
    lm[17:27] = np.stack([np.linspace(26, 70, 10) * s, np.full(10, 34 * s)], 1)
    lm[36:42], lm[42:48] = [36 * s, 40 * s], [60 * s, 40 * s]
    lm[27:36] = [48 * s, 52 * s]
    lm[48:68] = [48 * s, 64 * s]
    return lm


def draw_face(side: int, rng: random.Random, fake: bool) -> Tuple[Image.Image, Kp]:
    bg = tuple(rng.randint(0, 255) for _ in range(3))
    img = Image.new("RGB", (side, side), bg)
    d = ImageDraw.Draw(img)
    cx, cy = side / 2 + rng.uniform(-2, 2), side / 2 + rng.uniform(-2, 2)
    fw, fh = side * 0.3, side * 0.38  # half-width/height of the face ellipse (the 0.3 margin leaves room)
    skin = (rng.randint(150, 230), rng.randint(110, 180), rng.randint(90, 150))
    d.ellipse([cx - fw, cy - fh, cx + fw, cy + fh], fill=skin)
    eye_l = [cx - fw * 0.4, cy - fh * 0.25]
    eye_r = [cx + fw * 0.4, cy - fh * 0.25]
    nose = [cx, cy + fh * 0.1]
    mouth = [cx, cy + fh * 0.45]
    ear_l = [cx - fw * 0.95, cy - fh * 0.05]
    ear_r = [cx + fw * 0.95, cy - fh * 0.05]
    if fake:
        shift = tuple(max(0, min(255, c + rng.choice((-40, 40)))) for c in skin)
        d.rectangle([cx - fw * 0.6, cy - fh * 0.45, cx + fw * 0.6, cy + fh * 0.6], fill=shift)
    r = max(1.0, side * 0.03)
    for x, y in (eye_l, eye_r):
        d.ellipse([x - r, y - r, x + r, y + r], fill=(20, 20, 20))
    d.line([nose[0], nose[1] - r * 2, nose[0], nose[1]], fill=(90, 60, 50), width=max(1, int(r / 2)))
    d.line([mouth[0] - fw * 0.3, mouth[1], mouth[0] + fw * 0.3, mouth[1]], fill=(150, 40, 40), width=max(1, int(r)))
    return img, [eye_l, eye_r, nose, mouth, ear_l, ear_r]


def make_crops_dir(
    root: Path,
    side: int = 64,
    per_class: int = 6,
    frames: int = 2,
    seed: int = 0,
) -> Path:
    """Records for ffpp_c23_faces (train, REAL+FAKE), utkface (train, REAL) and dfdc_faces (val, REAL+FAKE)."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    plan = [("ffpp_c23_faces", "train", "REAL"), ("ffpp_c23_faces", "train", "FAKE"),
            ("utkface", "train", "REAL"), ("dfdc_faces", "val", "REAL"), ("dfdc_faces", "val", "FAKE")]
    for dataset, split, label in plan:
        for n in range(per_class):
            key = f"{dataset}__{label.lower()}_{n:03d}"
            ident = f"{dataset}:{n:03d}"
            group = f"{ident}+{dataset}:{(n + 1) % per_class:03d}" if label == "FAKE" else ident
            (root / key).mkdir(exist_ok=True)
            faces = []
            for fi in range(frames):
                img, kp = draw_face(side, rng, label == "FAKE")
                name = f"{key}/f{fi * 10:06d}_t0.png"
                img.save(root / name)
                faces.append({
                    "file": name, "frameIndex": fi * 10, "timeMs": fi * 400, "trackId": 0, "score": 0.9,
                    "box": {"x": 0, "y": 0, "width": side, "height": side},
                    "keypoints": kp, "cropKeypoints": kp,
                })
            rec = {
                "schema": "unmask.extract/1", "key": key, "source": f"/synthetic/{key}.png", "label": label,
                "dataset": dataset, "split": split, "group": group, "method": "Synthetic" if label == "FAKE" else "",
                "media": {"kind": "image", "width": side, "height": side},
                "crop": {"policy": "margin", "margin": 0.3, "size": side},
                "status": "ok", "faces": faces,
            }
            (root / f"{key}.json").write_text(json.dumps(rec))
            rows.append([key, label, dataset, split, group, rec["method"]])
    # One record without faces, as the extractor writes when detection fails.
    rows.append(["utkface__noface", "REAL", "utkface", "train", "utkface:nf", ""])
    (root / "utkface__noface.json").write_text(json.dumps({
        "schema": "unmask.extract/1", "key": "utkface__noface", "label": "REAL", "status": "no_face",
        "crop": {"policy": "margin", "margin": 0.3, "size": side}, "faces": []}))
    with (root / "labels.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "label", "dataset", "split", "group", "method"])
        w.writerows(rows)
    return root


def make_clip_crops_dir(root: Path, side: int = 32, lengths=(12, 9, 5), seed: int = 0) -> Path:
    """Videos of consecutive frames: REAL faces are still, FAKE faces flicker inside the face (a temporal
    artefact). Each video has a main track of `lengths[i % len]` frames with one missed frame in the
    middle (a gap), and a 1-frame second track."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    plan = [("ffpp_c40", "train", "REAL"), ("ffpp_c40", "train", "FAKE"), ("dfdc_face_tracks", "val", "REAL"),
            ("dfdc_face_tracks", "val", "FAKE")]
    n = 0
    for dataset, split, label in plan:
        for v in range(3):
            key = f"{dataset}__{label.lower()}_{v}"
            length = lengths[n % len(lengths)]
            n += 1
            decoded = list(range(100, 100 + length))
            gap = decoded[length // 2] if length >= 5 else None
            face_seed = rng.random()
            (root / key).mkdir(exist_ok=True)
            faces = []
            for fi in decoded:
                if fi == gap:
                    continue
                img, kp = draw_face(side, random.Random(face_seed), False)
                if label == "FAKE":
                    d = ImageDraw.Draw(img)
                    c = 60 + 120 * (fi % 2)
                    d.rectangle([side * 0.35, side * 0.35, side * 0.65, side * 0.6], fill=(c, c, c))
                for track in ((0, 1) if fi == decoded[0] else (0,)):
                    name = f"{key}/f{fi:06d}_t{track}.png"
                    img.save(root / name)
                    faces.append({"file": name, "frameIndex": fi, "timeMs": fi * 40, "trackId": track, "score": 0.9,
                                  "box": {"x": 0, "y": 0, "width": side, "height": side},
                                  "keypoints": kp, "cropKeypoints": kp})
            rec = {"schema": "unmask.extract/1", "key": key, "label": label, "status": "ok",
                   "crop": {"policy": "margin", "margin": 0.3, "size": side},
                   "sampling": {"kind": "clip", "count": 12}, "framesDecoded": decoded, "faces": faces}
            (root / f"{key}.json").write_text(json.dumps(rec))
            rows.append([key, label, dataset, split, f"{dataset}:{v}", "Synthetic" if label == "FAKE" else ""])
    with (root / "labels.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["key", "label", "dataset", "split", "group", "method"])
        w.writerows(rows)
    return root
