"""`sharpness`: a hand-made cue beside the networks, not a trained network: how smooth a face is.

A face swap's inner face is generated or warped at a lower resolution than the frame it is pasted into,
so it tends to be smoother than a real face filmed the same way (Li & Lyu, "Exposing DeepFake Videos By
Detecting Face Warping Artifacts", CVPRW 2019). The networks here learn blending traces from self-blends,
under augmentation that blurs, downscales and re-encodes REAL and FAKE faces alike: they are taught to
ignore a face's overall sharpness. This cue measures exactly that: the log of the mean absolute
Laplacian of the grey middle square of the scan's margin crop (MIDDLE of its side, about the face box),
centred on the median of the training split's REAL crops and negated, so a smoother face gives a higher
logit of FAKE. Nothing in it is fitted to labels: `unmask eval --fit-calibration` fits its temperature
and `--fit-stacking` its weight beside the networks, on validation data, as for every member.
`bench/sharpness_baseline.ts` scores a similar figure (log variance of the Laplacian) on the raw pictures, as a
training-free reference point for `unmask eval` runs; this one is cut as the scan cuts, and ships.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Dict, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .data import DEFAULT_CROP_MARGIN, CropSet, load_crop_set, load_image, normalise, to_tensor

SIZE = 256  # the side the scan cuts crops at: the cue sees them unresized
MIDDLE = 0.4  # side of the measured square, as a share of the crop's (a 0.3 margin crop's face box is 0.625)
FLOOR = 1e-3  # keeps log() finite on a flat picture
MEAN = STD = (0.5, 0.5, 0.5)  # the networks' normalisation: inputs in [-1, 1]
_GREY = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma
_LAPLACE = ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0))


class SharpnessError(ValueError):
    pass


def check_middle(middle: float) -> None:
    if not 0.0 < middle <= 1.0:
        raise SharpnessError(f"the measured middle is a share of the crop side, in (0, 1]; got {middle}")


class SharpnessCue(nn.Module):
    """[N, 3, size, size] normalised to [-1, 1] -> [N, 1] logit of FAKE = centre - log sharpness."""

    def __init__(self, centre: float, size: int = SIZE, middle: float = MIDDLE) -> None:
        super().__init__()
        check_middle(middle)
        self.centre = float(centre)
        # grey levels 0-255 from [-1, 1] (the offset cancels in the Laplacian)
        self.register_buffer("grey", torch.tensor(_GREY).view(1, 3, 1, 1) * 127.5)
        self.register_buffer("laplace", torch.tensor(_LAPLACE).view(1, 1, 3, 3))
        # the middle square in the coordinates of the 'valid' Laplacian (pixel i + 1 of the input is its i);
        # fixed ints, so the ONNX graph slices constants
        lo = max(1, int(round(size * (1.0 - middle) / 2)))
        self.rows = (lo - 1, size - lo - 1)

    def log_sharpness(self, x: torch.Tensor) -> torch.Tensor:
        """[N] log of the mean |Laplacian| of the grey middle square."""
        g = (x * self.grey).sum(dim=1, keepdim=True)
        a, b = self.rows
        lap = F.conv2d(g, self.laplace)[..., a:b, a:b].abs()
        return torch.log(lap.mean(dim=(1, 2, 3)) + FLOOR)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.centre - self.log_sharpness(x)).unsqueeze(1)


def real_train_centre(crops: CropSet, size: int = SIZE, middle: float = MIDDLE, batch: int = 64) -> Tuple[float, int, Sequence[str]]:
    """Median log sharpness over the REAL faces of the `train` split of a crop set (`load_crop_set`), the
    count of those faces, and their data sets."""
    faces = [f for f in crops.faces if f.split == "train" and f.label == 0]
    if not faces:
        raise SharpnessError("no REAL faces in the train split to centre the cue on")
    cue = SharpnessCue(0.0, size, middle).eval()
    values = []
    with torch.no_grad():
        for i in range(0, len(faces), batch):
            x = torch.stack([normalise(to_tensor(load_image(f.image, size)[0]), MEAN, STD) for f in faces[i:i + batch]])
            values.append(cue.log_sharpness(x))
    return float(torch.cat(values).median()), len(faces), sorted({f"{f.dataset}:train" for f in faces})


def export_sharpness(crops_dir: Path, out_dir: Path, name: str, middle: float = MIDDLE) -> Tuple[Path, Path, Dict]:
    """Writes <out>/<name>.onnx + <name>.manifest.json for the cue centred on `crops_dir`'s REAL training faces."""
    from .export import write_frame_model

    check_middle(middle)  # before the crops are read
    crops = load_crop_set(crops_dir)
    try:
        centre, n, data = real_train_centre(crops, SIZE, middle)
    except SharpnessError as e:
        raise SharpnessError(f"{crops_dir}: {e}") from None
    cue = SharpnessCue(centre, SIZE, middle).eval()
    manifest = {
        "name": name,
        "version": "0.1.0",
        "kind": "frame",
        "input": {"size": SIZE, "layout": "NCHW", "mean": list(MEAN), "std": list(STD)},
        "crop": {"policy": "margin", "margin": float(crops.margin if crops.margin is not None else DEFAULT_CROP_MARGIN), "size": SIZE},
        "output": {"meaning": "logit_fake"},
        "calibration": {"temperature": 1.0},
        "decision": {"realBelow": 0.35, "fakeAbove": 0.65},
        "training": {
            "data": list(data),
            "command": f"python -m unmask_train sharpness --crops {crops_dir} --out {out_dir} --name {name} --middle {middle}",
            "arch": "sharpness",
            "notes": (f"Hand-made cue, no trained weights: centre - log mean |Laplacian| of the grey middle "
                      f"{middle:g} of the crop side; centre {centre:.4f} = median over {n} REAL training faces. "
                      f"Smoother than that -> positive logit of FAKE. Temperature 1 until `unmask eval --fit-calibration`."),
        },
        "metrics": {},
        "createdAt": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    onnx_path, man_path, check = write_frame_model(cue, SIZE, out_dir, name, manifest, SharpnessError)
    return onnx_path, man_path, {"centre": centre, "real_train_faces": n, **check}
