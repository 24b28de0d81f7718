"""Clips of consecutive face crops of one track, for the temporal families (models_temporal.py).

Input: a crops directory written by `unmask extract --sample clip:N` (consecutive frames), schema
`unmask.extract/1`. Each record's faces are grouped by track id and ordered by frame; a track is cut
into *segments* wherever it misses a sampled frame (by default any miss: a temporal model must never be
shown a jump as if it were motion). The windowing rules are the same as the scanner's
(src/pipeline/clip_scoring.ts), so validation scores what `unmask scan` scores:

- a segment of n >= T frames gives windows starting at 0, stride, 2*stride, ..., plus one ending at
  the last frame when the stride does not land there;
- a segment of n < T frames gives one window, padded by reflection: 1 frame -> that frame T times;
  a b c -> a b c b a b c b ...;
- the score of a frame is the mean of the logits of the windows that contain it.

Self-blended clips (`--sbi-ratio`): as for frames (sbi.py), a FAKE clip can be made from a REAL window by
blending every frame with an altered copy of itself, with the same random draw for the whole clip and
each frame's own keypoints, so the blend follows the face as a face swap does. With `--sbi-flicker S`
each frame's pasted face also wobbles independently around that draw (shift, scale, blend ratio, tone;
sbi.draw_jitter), the frame-to-frame incoherence of swaps made frame by frame, which a model with
spatial kernel 1 such as FTCN can see; the clip's strength is drawn in [S/4, S].
"""
from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from .augment import AugmentConfig, augment
from .data import LABELS, CropDataError, ImageStore, _WorkerRng, check_schema, normalise, read_labels, record_crop, to_tensor
from .camera_motion import FrameMove, MotionConfig, draw_motion, move_frame
from .sbi import NO_JITTER, SbiConfig, draw_jitter, keypoints_usable, self_blend


# --- windowing (pure; mirrored by src/pipeline/clip_scoring.ts) -----------------------------------


def reflect_index(i: int, n: int) -> int:
    """Position i >= 0 of an endless reflection of 0..n-1 (0 1 .. n-1 n-2 .. 1 0 1 ..); n = 1 gives 0."""
    if n < 1:
        raise ValueError(f"cannot reflect into an empty segment (n={n})")
    if n == 1:
        return 0
    period = 2 * (n - 1)
    j = i % period
    return j if j < n else period - j


def window_indices(n: int, clip_len: int, start: int = 0) -> List[int]:
    """The clip_len positions of a window starting at `start` in a segment of n frames (reflected past the end)."""
    return [reflect_index(start + k, n) for k in range(clip_len)]


def plan_windows(n: int, clip_len: int, stride: int) -> List[List[int]]:
    """Windows covering every frame of a segment of n frames (see the module docstring)."""
    if clip_len < 1 or not 1 <= stride <= clip_len:
        raise ValueError(f"need clip length >= 1 and 1 <= stride <= clip length, got T={clip_len}, stride={stride}")
    if n < 1:
        return []
    if n <= clip_len:
        return [window_indices(n, clip_len)]
    starts = list(range(0, n - clip_len + 1, stride))
    if starts[-1] != n - clip_len:
        starts.append(n - clip_len)
    return [list(range(s, s + clip_len)) for s in starts]


def split_segments(positions: Sequence[int], max_gap: int = 0) -> List[List[int]]:
    """Indices into `positions` (sorted sampled-frame positions of one track) cut into runs whose steps
    skip at most `max_gap` sampled frames."""
    segs: List[List[int]] = []
    for i, p in enumerate(positions):
        if segs and p - positions[segs[-1][-1]] <= max_gap + 1:
            segs[-1].append(i)
        else:
            segs.append([i])
    return segs


def frame_means(n_frames: int, windows: Sequence[Sequence[int]], logits: Sequence[float]) -> np.ndarray:
    """Per-frame mean of the logits of the windows containing the frame (each window counted once)."""
    total = np.zeros(n_frames, dtype=np.float64)
    count = np.zeros(n_frames, dtype=np.int64)
    for w, z in zip(windows, logits):
        for i in set(w):
            total[i] += z
            count[i] += 1
    if (count == 0).any():
        raise ValueError("some frames are covered by no window")
    return total / count


# --- data ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """Consecutive crops of one track of one record."""

    key: str
    label: int
    dataset: str
    split: str
    group: str
    method: str
    track: int
    frames: Tuple[int, ...]  # frame indices
    images: Tuple[int, ...]  # indices into ClipSet.paths
    keypoints: Tuple[np.ndarray, ...] = ()  # (6, 2) BlazeFace keypoints per frame, pixels of the crop as written
    crop_size: int = 0  # side of the crops as written

    def sbi_usable(self) -> bool:
        """Every frame has a face geometry SBI can use (sbi.keypoints_usable)."""
        return bool(self.keypoints) and all(keypoints_usable(k, self.crop_size) for k in self.keypoints)


@dataclass
class ClipSet:
    segments: List[Segment]
    paths: List[str]  # every crop image, once
    margin: Optional[float]
    crop_size: Optional[int]
    sampling: List[object]  # distinct `sampling` policies of the records (for the run log and manifest)


def load_clip_set(crops_dirs: Sequence[str | Path], max_gap: int = 0) -> ClipSet:
    """Segments of every `ok` record listed in the labels.csv of each directory."""
    out = ClipSet(segments=[], paths=[], margin=None, crop_size=None, sampling=[])
    for d in crops_dirs:
        root = Path(d).resolve()
        for row in read_labels(root):
            rec_path = root / f"{row['key']}.json"
            if not rec_path.is_file():
                continue
            rec = json.loads(rec_path.read_text(encoding="utf-8"))
            check_schema(rec_path, rec)
            if rec.get("status") != "ok":
                continue
            out.margin, out.crop_size = record_crop(rec_path, rec, out.margin, out.crop_size)
            if rec.get("sampling") not in out.sampling:
                out.sampling.append(rec.get("sampling"))
            out.segments += _record_segments(root, row, rec, out.paths, max_gap)
    return out


def add_still_segments(clips: ClipSet, crops_dirs: Sequence[str | Path]) -> List[Segment]:
    """`--still-crops`: the REAL faces of still pictures (split `train`, 1-frame tracks) of other crops dirs,
    as 1-frame segments for training with synthetic camera motion; their images join `clips.paths`.
    Other rows are ignored."""
    stills = load_clip_set(crops_dirs)
    if clips.margin is not None and stills.margin not in (None, clips.margin):
        raise CropDataError(f"--still-crops: crop margin {stills.margin} differs from the clips' {clips.margin}")
    offset = len(clips.paths)
    keep = [replace(s, images=tuple(i + offset for i in s.images)) for s in stills.segments
            if s.split == "train" and s.label == 0 and len(s.frames) == 1]
    clips.paths.extend(stills.paths)
    return keep


def _record_segments(root: Path, row: Dict[str, str], rec: Dict, paths: List[str], max_gap: int) -> List[Segment]:
    decoded = rec.get("framesDecoded") or sorted({f["frameIndex"] for f in rec.get("faces", [])})
    position = {f: i for i, f in enumerate(decoded)}
    by_track: Dict[int, List[Dict]] = defaultdict(list)
    for f in rec.get("faces", []):
        by_track[int(f["trackId"])].append(f)
    segs: List[Segment] = []
    for track, faces in sorted(by_track.items()):
        faces.sort(key=lambda f: f["frameIndex"])
        pos = [position.get(f["frameIndex"], f["frameIndex"]) for f in faces]
        for run in split_segments(pos, max_gap):
            first = len(paths)
            paths.extend(str(root / faces[i]["file"]) for i in run)
            segs.append(Segment(
                key=row["key"], label=LABELS[row["label"]], dataset=row.get("dataset", ""), split=row.get("split", ""),
                group=row.get("group", "") or row["key"], method=row.get("method", ""), track=track,
                frames=tuple(faces[i]["frameIndex"] for i in run), images=tuple(range(first, len(paths))),
                keypoints=tuple(np.asarray(faces[i]["cropKeypoints"], dtype=np.float32).reshape(6, 2) for i in run),
                crop_size=int(rec.get("crop", {}).get("size") or 0)))
    return segs


def clip_tensor(store: ImageStore, seg: Segment, window: Sequence[int], mean: Sequence[float], std: Sequence[float],
                rng: Optional[random.Random] = None, augment_cfg: Optional[AugmentConfig] = None,
                sbi_cfg: Optional[SbiConfig] = None, sbi_flicker: float = 0.0,
                motion: Optional[Sequence[FrameMove]] = None) -> torch.Tensor:
    """[3, T, S, S] normalised clip; self-blended when `sbi_cfg` is given. Augmentation and blending use one
    random draw per clip for every frame, so they add no flicker a temporal model could learn as a cue,
    except the per-frame jitter of the blend that `sbi_flicker` > 0 asks for. `motion` (one move per
    window frame, camera_motion.py) moves each frame and its keypoints before blending: a still made a clip."""
    seed = rng.random() if (rng is not None and augment_cfg is not None) else None
    sbi_seed = (rng or random.Random(0)).random() if sbi_cfg is not None else None
    jitter_rng = random.Random(f"flicker:{sbi_seed}") if sbi_seed is not None and sbi_flicker > 0 else None
    strength = jitter_rng.uniform(sbi_flicker / 4, sbi_flicker) if jitter_rng is not None else 0.0
    frames = []
    for k, i in enumerate(window):
        arr, side = store.get(seg.images[i])
        img = to_tensor(arr)
        # keypoints at the store's size, only where blending or motion uses them (not on the eval path)
        kp = seg.keypoints[i] * (store.size / side) if seg.keypoints and (sbi_seed is not None or motion) else None
        if motion is not None and kp is not None:
            img, kp = move_frame(img, kp, motion[k])
        if sbi_seed is not None:
            jitter = draw_jitter(jitter_rng, strength) if jitter_rng is not None else NO_JITTER
            img, _ = self_blend(img, kp, random.Random(sbi_seed), sbi_cfg, jitter)  # type: ignore[arg-type]
        if seed is not None:
            img = augment(img, random.Random(seed), augment_cfg)  # type: ignore[arg-type]
        frames.append(normalise(img, mean, std))
    return torch.stack(frames, dim=1)


def clip_code(segment: int, start: int, sbi: bool = False) -> int:
    """A training sample as one integer: segment, window start, and whether to self-blend it."""
    return (segment * ClipTrainSet.MAX_START + start) * 2 + int(sbi)


def decode_clip_code(code: int) -> Tuple[int, int, bool]:
    rest, sbi = divmod(code, 2)
    return rest // ClipTrainSet.MAX_START, rest % ClipTrainSet.MAX_START, bool(sbi)


class ClipTrainSet(Dataset):
    """Samples by clip_code (segment, window start, self-blend flag); the sampler chooses them."""

    MAX_START = 1 << 20

    def __init__(self, segments: Sequence[Segment], store: ImageStore, clip_len: int, mean: Sequence[float],
                 std: Sequence[float], augment_cfg: Optional[AugmentConfig] = None,
                 sbi_cfg: SbiConfig = SbiConfig(), sbi_flicker: float = 0.0,
                 still_motion: Optional[MotionConfig] = None) -> None:
        self.segments = list(segments)
        self.store, self.clip_len = store, clip_len
        self.mean, self.std = list(mean), list(std)
        self.augment_cfg, self.sbi_cfg, self.sbi_flicker = augment_cfg, sbi_cfg, sbi_flicker
        self.still_motion = still_motion  # 1-frame segments (stills) get synthetic camera motion
        self._rng = _WorkerRng()

    def __len__(self) -> int:
        return len(self.segments) * self.MAX_START * 2

    def __getitem__(self, code: int) -> Tuple[torch.Tensor, float, int]:
        si, start, sbi = decode_clip_code(code)
        seg = self.segments[si]
        window = window_indices(len(seg.frames), self.clip_len, start)
        rng = self._rng.get()
        motion = (draw_motion(rng, len(window), self.still_motion)
                  if self.still_motion is not None and len(seg.frames) == 1 else None)
        x = clip_tensor(self.store, seg, window, self.mean, self.std, rng, self.augment_cfg,
                        self.sbi_cfg if sbi else None, self.sbi_flicker, motion)
        return x, 1.0 if sbi else float(seg.label), code


class BalancedClipSampler(Sampler[int]):
    """REAL/FAKE pairs of training windows, drawn with replacement (codes for ClipTrainSet).

    With probability `sbi_ratio` a pair is a REAL window and its self-blended copy; otherwise a REAL window
    and a window of a real FAKE video. Within a class, a window is drawn uniformly over all window starts
    of all segments (long tracks weigh more than a detector's short false tracks). Under DDP each rank
    draws its own stream (seed, epoch, rank).
    """

    def __init__(self, segments: Sequence[Segment], clip_len: int, pairs_per_epoch: int, seed: int,
                 sbi_ratio: float = 0.0, rank: int = 0, world_size: int = 1) -> None:
        self.segments = list(segments)
        self.clip_len = clip_len
        starts = [max(1, len(s.frames) - clip_len + 1) for s in self.segments]
        pools = {"real": [i for i, s in enumerate(self.segments) if s.label == 0],
                 "fake": [i for i, s in enumerate(self.segments) if s.label == 1],
                 "sbi": [i for i, s in enumerate(self.segments) if s.label == 0 and s.sbi_usable()]}
        self.pools = {k: (v, [starts[i] for i in v]) for k, v in pools.items()}
        if not pools["real"]:
            raise CropDataError("no REAL training clips")
        if not pools["fake"] and not (sbi_ratio > 0 and pools["sbi"]):
            raise CropDataError("no FAKE training clips (and no self-blending: --sbi-ratio 0 or no usable keypoints)")
        self.sbi_ratio = 1.0 if not pools["fake"] else (0.0 if not pools["sbi"] else sbi_ratio)
        self.pairs = max(1, pairs_per_epoch // world_size)
        self.seed, self.rank, self.epoch = seed, rank, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return 2 * self.pairs

    def _draw(self, rng: random.Random, pool: str) -> Tuple[int, int]:
        idx, weights = self.pools[pool]
        s = rng.choices(idx, weights)[0]
        return s, rng.randrange(max(1, len(self.segments[s].frames) - self.clip_len + 1))

    def __iter__(self) -> Iterator[int]:
        rng = random.Random(f"{self.seed}/{self.epoch}/{self.rank}")
        for _ in range(self.pairs):
            if rng.random() < self.sbi_ratio:
                s, start = self._draw(rng, "sbi")
                yield clip_code(s, start)
                yield clip_code(s, start, sbi=True)
            else:
                yield clip_code(*self._draw(rng, "real"))
                yield clip_code(*self._draw(rng, "fake"))


@dataclass(frozen=True)
class PlannedClip:
    segment: int  # index into the segment list
    window: Tuple[int, ...]  # positions within the segment


def plan_clips(segments: Sequence[Segment], clip_len: int, stride: int) -> List[PlannedClip]:
    return [PlannedClip(si, tuple(w)) for si, s in enumerate(segments) for w in plan_windows(len(s.frames), clip_len, stride)]


class ClipEvalSet(Dataset):
    def __init__(self, segments: Sequence[Segment], clips: Sequence[PlannedClip], store: ImageStore,
                 mean: Sequence[float], std: Sequence[float]) -> None:
        self.segments, self.clips, self.store = list(segments), list(clips), store
        self.mean, self.std = list(mean), list(std)

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, i: int) -> Tuple[torch.Tensor, float, int]:
        c = self.clips[i]
        seg = self.segments[c.segment]
        return clip_tensor(self.store, seg, c.window, self.mean, self.std), float(seg.label), i


def segment_frame_scores(segments: Sequence[Segment], clips: Sequence[PlannedClip],
                         clip_logits: np.ndarray) -> Tuple[List[str], List[int], np.ndarray]:
    """(record key, label, logit) per frame of every segment, each frame's logit being the mean of the
    clips covering it: what `unmask scan` reports per face."""
    by_seg: Dict[int, Tuple[List[Tuple[int, ...]], List[float]]] = defaultdict(lambda: ([], []))
    for c, z in zip(clips, clip_logits):
        by_seg[c.segment][0].append(c.window)
        by_seg[c.segment][1].append(float(z))
    keys: List[str] = []
    labels: List[int] = []
    scores: List[np.ndarray] = []
    for si, seg in enumerate(segments):
        windows, logits = by_seg[si]
        scores.append(frame_means(len(seg.frames), windows, logits))
        keys += [seg.key] * len(seg.frames)
        labels += [seg.label] * len(seg.frames)
    return keys, labels, np.concatenate(scores) if scores else np.zeros(0)
