"""Face crops written by `unmask extract`, and the datasets/samplers that feed training.

Layout of a crops directory (schema `unmask.extract/1`):
    <dir>/labels.csv            key,label,dataset,split,group,method
    <dir>/<key>.json            one record per source media: status + faces[] with crop file and keypoints
    <dir>/<key>/f000012_t0.png  the crops
"""
from __future__ import annotations

import csv
import json
import random
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset, Sampler

from .augment import AugmentConfig, augment_with_mask, precrop
from .boundary import boundary_map, pooled_target
from .cross_blend import cross_blend
from .faceapi_landmarks import read_crop_landmarks
from .sbi import SbiConfig, keypoints_usable, self_blend

RECORD_SCHEMA = "unmask.extract/1"
LABELS = {"REAL": 0, "FAKE": 1}
# `unmask extract`'s crop margin (a share of the face box on each side), for records that name none
DEFAULT_CROP_MARGIN = 0.3


class CropDataError(ValueError):
    pass


@dataclass(frozen=True)
class Face:
    """One face crop and what is known about it."""

    image: str  # absolute path of the crop
    key: str  # record key: all crops of one video share it (video-level metrics)
    label: int  # 1 = FAKE, 0 = REAL
    dataset: str
    split: str
    group: str  # identity ids joined by '+'
    method: str
    keypoints: np.ndarray  # (6, 2) BlazeFace keypoints in pixels of the crop as written
    crop_size: int  # side of the crop as written
    # (68, 2) face-api landmarks in pixels of the crop as written (`python -m unmask_train landmarks`), if any
    landmarks: Optional[np.ndarray] = None


@dataclass
class CropSet:
    faces: List[Face]
    margin: Optional[float]  # crop margin of the records (goes into the model manifest)
    crop_size: Optional[int]
    status: Counter = field(default_factory=Counter)  # records per status (ok / no_face / error / missing)


def read_labels(crops_dir: Path) -> List[Dict[str, str]]:
    path = crops_dir / "labels.csv"
    if not path.is_file():
        raise CropDataError(f"{path} not found (is this a directory written by `unmask extract`?)")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for i, r in enumerate(rows):
        if r.get("label") not in LABELS or not r.get("key"):
            raise CropDataError(f"{path}:{i + 2}: needs a key and a label REAL|FAKE")
    return rows


def check_schema(rec_path: Path, rec: Dict) -> None:
    """A record written by `unmask extract` of the schema this package reads, or CropDataError."""
    if rec.get("schema") != RECORD_SCHEMA:
        raise CropDataError(f"{rec_path}: schema {rec.get('schema')!r}, expected {RECORD_SCHEMA!r}")


def record_crop(rec_path: Path, rec: Dict, margin: Optional[float], size: Optional[int]) -> Tuple[Optional[float], Optional[int]]:
    """The crop margin and side of a set of records: the first record's, which every later one must share."""
    crop = rec.get("crop", {})
    if margin is None:
        return crop.get("margin"), crop.get("size")
    if crop.get("margin") != margin:
        raise CropDataError(f"{rec_path}: crop margin {crop.get('margin')} differs from {margin}")
    return margin, size


def load_crop_set(crops_dir: str | Path) -> CropSet:
    """Every face of every `ok` record listed in labels.csv. labels.csv is the source of truth for labels."""
    root = Path(crops_dir).resolve()
    out = CropSet(faces=[], margin=None, crop_size=None)
    landmarks = read_crop_landmarks(root) or {}
    for row in read_labels(root):
        rec_path = root / f"{row['key']}.json"
        if not rec_path.is_file():
            out.status["missing"] += 1
            continue
        rec = json.loads(rec_path.read_text(encoding="utf-8"))
        check_schema(rec_path, rec)
        if rec.get("label") not in (None, row["label"]):
            raise CropDataError(f"{rec_path}: label {rec.get('label')} disagrees with labels.csv ({row['label']})")
        out.status[rec.get("status", "?")] += 1
        if rec.get("status") != "ok":
            continue
        out.margin, out.crop_size = record_crop(rec_path, rec, out.margin, out.crop_size)
        crop = rec.get("crop", {})  # this record's own side, per face below
        for f in rec.get("faces", []):
            out.faces.append(
                Face(
                    image=str(root / f["file"]),
                    key=row["key"],
                    label=LABELS[row["label"]],
                    dataset=row.get("dataset", ""),
                    split=row.get("split", ""),
                    group=row.get("group", "") or row["key"],
                    method=row.get("method", ""),
                    keypoints=np.asarray(f["cropKeypoints"], dtype=np.float32).reshape(6, 2),
                    crop_size=int(crop.get("size") or 0),
                    landmarks=landmarks.get(f["file"]),
                )
            )
    return out


class UnionFind:
    def __init__(self) -> None:
        self.parent: Dict[str, str] = {}

    def find(self, a: str) -> str:
        self.parent.setdefault(a, a)
        root = a
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[a] != root:  # path compression
            self.parent[a], a = root, self.parent[a]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # deterministic root


def group_components(groups: Sequence[str]) -> List[str]:
    """Component id (a representative identity) of each `+`-joined group: files sharing any id connect."""
    uf = UnionFind()
    for g in groups:
        ids = g.split("+")
        for other in ids[1:]:
            uf.union(ids[0], other)
        uf.find(ids[0])
    return [uf.find(g.split("+")[0]) for g in groups]


def holdout_by_components(faces: Sequence[Face], fraction: float, seed: int) -> Tuple[List[Face], List[Face]]:
    """Move whole identity components into a holdout until it has >= `fraction` of the faces."""
    if fraction <= 0:
        return list(faces), []
    comps = group_components([f.group for f in faces])
    sizes = Counter(comps)
    order = sorted(sizes)
    random.Random(seed).shuffle(order)
    chosen: set = set()
    n = 0
    for c in order:
        if n >= fraction * len(faces):
            break
        chosen.add(c)
        n += sizes[c]
    train = [f for f, c in zip(faces, comps) if c not in chosen]
    hold = [f for f, c in zip(faces, comps) if c in chosen]
    return train, hold


def margin_fraction(written: float, wanted: float) -> float:
    """Side of a `wanted`-margin crop as a fraction of the `written`-margin crop of the same face box,
    both squares centred on it (a margin m adds m of the box side on each side: side = box * (1 + 2m))."""
    if not 0 <= wanted <= written:
        raise CropDataError(f"crop margin {wanted} must lie in [0, {written}], the margin the crops were written with")
    return (1 + 2 * wanted) / (1 + 2 * written)


def centre_box(side: int, fraction: float) -> Tuple[int, int]:
    """(offset, side) in whole pixels of the centred square that is `fraction` of a `side` crop."""
    inner = max(1, round(side * fraction))
    return (side - inner) // 2, inner


def tighter_faces(faces: Sequence[Face], fraction: float) -> List[Face]:
    """The faces as seen in the centred `fraction` of their crops (`ImageStore(..., fraction)`): keypoints
    and landmarks moved into that square's pixels, `crop_size` its side."""
    if fraction == 1.0:
        return list(faces)
    out = []
    for f in faces:
        off, inner = centre_box(f.crop_size, fraction)
        out.append(replace(f, keypoints=f.keypoints - off, crop_size=inner,
                           landmarks=None if f.landmarks is None else f.landmarks - off))
    return out


def load_image(path: str, size: int, fraction: float = 1.0) -> Tuple[np.ndarray, int]:
    """RGB uint8 [size, size, 3] and the side it had before resizing: the crop on disk, or its centred
    `fraction` (a tighter margin, see `margin_fraction`). Lanczos, as sharp's default resize."""
    with Image.open(path) as im:
        im = im.convert("RGB")
        if fraction != 1.0:
            off, inner = centre_box(im.width, fraction)
            im = im.crop((off, off, off + inner, off + inner))
        side = im.width
        if im.width != size or im.height != size:
            im = im.resize((size, size), Image.LANCZOS)
        return np.array(im, dtype=np.uint8), side  # a writable copy


class ImageStore:
    """Decoded crops at the training size, optionally all preloaded into one array.

    Preloading happens in the main process before DataLoader workers fork, so they share the pages.
    """

    def __init__(self, paths: Sequence[str], size: int, cache: bool, threads: int = 2, fraction: float = 1.0) -> None:
        self.paths = list(paths)
        self.size = size
        self.fraction = fraction  # centred part of each crop that is used (`load_image`)
        self.images: Optional[np.ndarray] = None
        self.sides: Optional[np.ndarray] = None
        if cache and self.paths:
            self.images = np.empty((len(self.paths), size, size, 3), dtype=np.uint8)
            self.sides = np.empty(len(self.paths), dtype=np.int32)

            def fill(i: int) -> None:
                self.images[i], self.sides[i] = load_image(self.paths[i], size, fraction)  # type: ignore[index]

            with ThreadPoolExecutor(max(1, threads)) as ex:
                list(ex.map(fill, range(len(self.paths))))

    def __len__(self) -> int:
        return len(self.paths)

    def get(self, i: int) -> Tuple[np.ndarray, int]:
        if self.images is not None and self.sides is not None:
            return self.images[i], int(self.sides[i])
        return load_image(self.paths[i], self.size, self.fraction)


def to_tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float() / 255.0


def normalise(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    m = torch.tensor(mean, dtype=x.dtype).view(3, 1, 1)
    s = torch.tensor(std, dtype=x.dtype).view(3, 1, 1)
    return (x - m) / s


class _WorkerRng:
    """A random.Random seeded from torch's per-worker seed, re-seeded when that seed changes (new epoch)."""

    def __init__(self) -> None:
        self._seed: Optional[int] = None
        self._rng = random.Random(0)

    def get(self) -> random.Random:
        s = torch.initial_seed()
        if s != self._seed:
            self._seed, self._rng = s, random.Random(s)
        return self._rng


class TrainSet(Dataset):
    """Index i < n: face i as it is; n <= i < 2n: an SBI fake made from face i - n (label 1).

    With `p_cross` > 0, that share of the synthetic fakes of a face listed in `donors` (face index ->
    donor face indices, `cross_blend.donor_table`) pastes a donor's face instead of its own (cross_blend.py)."""

    def __init__(self, faces: Sequence[Face], store: ImageStore, mean: Sequence[float], std: Sequence[float],
                 augment_cfg: Optional[AugmentConfig] = AugmentConfig(), sbi_cfg: SbiConfig = SbiConfig(),
                 p_precrop: float = 0.0, margin: float = DEFAULT_CROP_MARGIN, p_cross: float = 0.0,
                 donors: Optional[Dict[int, np.ndarray]] = None) -> None:
        self.faces = list(faces)
        self.store = store
        self.mean, self.std = list(mean), list(std)
        self.augment_cfg = augment_cfg
        self.sbi_cfg = sbi_cfg
        # share of the images (REAL and FAKE alike) shown as a tightly cut face picture (augment.precrop),
        # and the margin of the crops the network sees, which places the face box
        self.p_precrop = p_precrop
        self.margin = margin
        self.p_cross = p_cross
        self.donors = donors or {}
        self._rng = _WorkerRng()

    def __len__(self) -> int:
        return 2 * len(self.faces)

    def sample(self, code: int) -> Tuple[torch.Tensor, float, Optional[torch.Tensor]]:
        """(augmented image [3,H,W] in [0,1], label, blend mask [1,H,W] moved with the image, or None
        where the image is not a self-blend)."""
        rng = self._rng.get()
        n = len(self.faces)
        i = code % n
        arr, side = self.store.get(i)
        img = to_tensor(arr)
        label = float(self.faces[i].label)
        mask = None
        if code >= n:
            face = self.faces[i]
            kp = face.keypoints * (self.store.size / side)
            lm = face.landmarks * (self.store.size / side) if face.landmarks is not None else None
            donors = self.donors.get(i) if self.p_cross > 0 else None  # no draw unless asked: old recipes replay
            if donors is not None and lm is not None and rng.random() < self.p_cross:
                j = int(donors[rng.randrange(len(donors))])
                donor, donor_side = self.store.get(j)
                donor_lm = self.faces[j].landmarks * (self.store.size / donor_side)
                img, mask = cross_blend(img, lm, to_tensor(donor), donor_lm, rng, self.sbi_cfg)
            else:
                img, mask = self_blend(img, kp, rng, self.sbi_cfg, landmarks=lm)
            label = 1.0
        if self.augment_cfg is not None:
            img, mask = augment_with_mask(img, mask, rng, self.augment_cfg)
        # last, so the black outside is clean, as a scan's padding is
        if self.p_precrop > 0 and rng.random() < self.p_precrop:
            img, mask = precrop(img, mask, rng, self.margin)
        return img, label, mask

    def __getitem__(self, code: int) -> Tuple[torch.Tensor, float, int]:
        img, label, _ = self.sample(code)
        return normalise(img, self.mean, self.std), label, code


class BoundaryTrainSet(TrainSet):
    """TrainSet items plus a Face X-ray boundary target (boundary.py) on a grid x grid map and its
    weight: the pooled boundary of a self-blend, zeros for a REAL face, weight 0 for a real fake."""

    def __init__(self, *args, grid: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.grid = grid

    def __getitem__(self, code: int) -> Tuple[torch.Tensor, float, int, torch.Tensor, float]:
        img, label, mask = self.sample(code)
        if mask is not None:
            target, weight = pooled_target(boundary_map(mask), self.grid), 1.0
        else:
            target, weight = torch.zeros(1, self.grid, self.grid), 0.0 if label == 1.0 else 1.0
        return normalise(img, self.mean, self.std), label, code, target, weight


class EvalSet(Dataset):
    def __init__(self, faces: Sequence[Face], store: ImageStore, mean: Sequence[float], std: Sequence[float]) -> None:
        self.faces = list(faces)
        self.store = store
        self.mean, self.std = list(mean), list(std)

    def __len__(self) -> int:
        return len(self.faces)

    def __getitem__(self, i: int) -> Tuple[torch.Tensor, float, int]:
        arr, _ = self.store.get(i)
        return normalise(to_tensor(arr), self.mean, self.std), float(self.faces[i].label), i


class PairSampler(Sampler[int]):
    """Balanced REAL/FAKE pairs, drawn with replacement, for TrainSet's index codes.

    Each pair is either (real face r, SBI fake of r), with probability `sbi_ratio`, or (a real face of
    the same dataset as the fake, a real fake f). Pairing keeps every batch balanced and keeps the
    image domain (data set, compression) equal between the REAL and FAKE halves, so the domain of
    a crop is no cue. Under DDP each rank draws its own stream (seed, epoch, rank), so no
    DistributedSampler is needed for training.
    """

    def __init__(self, faces: Sequence[Face], sbi_ratio: float, pairs_per_epoch: int, seed: int,
                 sbi_sources: Optional[Sequence[int]] = None, rank: int = 0, world_size: int = 1) -> None:
        self.n = len(faces)
        self.fakes = [i for i, f in enumerate(faces) if f.label == 1]
        self.reals = [i for i, f in enumerate(faces) if f.label == 0]
        by_ds: Dict[str, List[int]] = defaultdict(list)
        for i in self.reals:
            by_ds[faces[i].dataset].append(i)
        self.real_by_dataset = dict(by_ds)
        self.dataset_of = [f.dataset for f in faces]
        if sbi_sources is None:
            sbi_sources = [i for i in self.reals if keypoints_usable(faces[i].keypoints, faces[i].crop_size)]
        self.sbi_sources = list(sbi_sources)
        if not self.reals:
            raise CropDataError("no REAL training faces")
        if not self.fakes and not self.sbi_sources:
            raise CropDataError("no FAKE training faces and no REAL faces usable for SBI")
        self.sbi_ratio = 1.0 if not self.fakes else (0.0 if not self.sbi_sources else sbi_ratio)
        self.pairs = max(1, pairs_per_epoch // world_size)
        self.seed, self.rank = seed, rank
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return 2 * self.pairs

    def __iter__(self) -> Iterator[int]:
        rng = random.Random(f"{self.seed}/{self.epoch}/{self.rank}")
        for _ in range(self.pairs):
            if rng.random() < self.sbi_ratio:
                s = rng.choice(self.sbi_sources)
                yield s
                yield self.n + s
            else:
                f = rng.choice(self.fakes)
                # A fake's partner comes from its own data set when that has real faces.
                yield rng.choice(self.real_by_dataset.get(self.dataset_of[f], self.reals))
                yield f
