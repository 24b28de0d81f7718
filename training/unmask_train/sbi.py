"""Self-Blended Images (Shiohara & Yamasaki, CVPR 2022).

A synthetic fake is made from one REAL crop: a slightly altered copy of the face (colour, sharpness,
scale, position) is blended back into the original inside a face mask with soft, irregular edges.
The result has the statistical traces of face swapping (blending boundary, colour and resolution
mismatch) without any identity change, so a classifier learns the traces rather than identities.

Images are float tensors [3, H, W] in [0, 1]; keypoints are BlazeFace's 6 points in crop pixels:
[0] eye on the image left, [1] eye on the image right, [2] nose tip, [3] mouth centre,
[4] ear on the image left, [5] ear on the image right.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from PIL import Image, ImageDraw

from .augment import gaussian_blur

Point = Tuple[float, float]


@dataclass(frozen=True)
class FrameJitter:
    """One frame's departure from its clip's single self-blend draw. Face swaps made frame by frame wobble:
    the pasted face shifts, rescales and changes tone slightly from one frame to the next. Zero = no change."""
    dx: float = 0.0  # source shift, fraction of the side
    dy: float = 0.0
    dscale: float = 0.0  # relative change of the source scale
    dratio: float = 0.0  # added to the blend ratio (clamped to [0, 1])
    rgb: Tuple[float, float, float] = (0.0, 0.0, 0.0)  # added to the pasted face, [0, 1] units


NO_JITTER = FrameJitter()

# Per-frame jitter of strength 1 (`draw_jitter`): shift up to 2% of the side (about 1 px at 64 px),
# scale 2%, blend ratio 0.1, tone 0.02.
JITTER_SHIFT, JITTER_SCALE, JITTER_RATIO, JITTER_RGB = 0.02, 0.02, 0.1, 0.02


def draw_jitter(rng: random.Random, strength: float) -> FrameJitter:
    """Independent per-frame jitter; `strength` scales every amplitude (0 -> NO_JITTER)."""
    if strength <= 0:
        return NO_JITTER
    u = lambda a: rng.uniform(-a, a) * strength  # noqa: E731
    return FrameJitter(u(JITTER_SHIFT), u(JITTER_SHIFT), u(JITTER_SCALE), u(JITTER_RATIO),
                       (u(JITTER_RGB), u(JITTER_RGB), u(JITTER_RGB)))


@dataclass(frozen=True)
class SbiConfig:
    # Blend ratio of the altered face; 1 is a full paste (the paper's choice list, favouring 1).
    blend_ratios: Tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)
    # Chin = mouth + f * (mouth - eye midpoint); the eyes->mouth vector is a stable face-length unit.
    chin_factor: Tuple[float, float] = (0.5, 0.9)
    # Brow points = eye - f * (mouth - eye midpoint), so the mask covers the eyebrows.
    brow_factor: Tuple[float, float] = (0.15, 0.45)
    source_scale: Tuple[float, float] = (0.95, 1.05)
    source_translate: float = 0.03  # fraction of the side
    rgb_shift: float = 0.06  # per-channel additive shift, in [0, 1] units
    brightness: float = 0.1
    contrast: float = 0.1
    saturation: float = 0.1
    hue: float = 0.03
    # Mask morphology: dilate/erode radius and edge blur sigma, as fractions of the side.
    morph_radius: float = 0.04
    blur_sigma: Tuple[float, float] = (0.005, 0.04)
    # Source-target augmentation of the paper: the colour/sharpness change goes to the target (the
    # surroundings) instead of the pasted face with this probability, and a nearest-neighbour
    # downscale (x1/2 or x1/4, then bilinear back) joins sharpen/blur as a resolution mismatch.
    p_swap: float = 0.0
    p_downscale: float = 0.0
    downscale_factors: Tuple[float, ...] = (0.5, 0.25)
    # Sharpen or blur the altered face (2/3 of the draws). Off, the fake differs from its source only
    # in colour, position and the blend edge: no sharpness mismatch for the model to lean on.
    resolution_change: bool = True
    # With this probability the mask is one part of the face instead of brows-to-chin: the inner face
    # (eyes, nose, mouth, chin; no brows or cheeks) or the lower face (below the eyes to the chin).
    # Re-enactment (Face2Face, NeuralTextures) rewrites the mouth and lower face only, so its blend
    # edge lies inside the face, where a whole-face mask never puts one.
    p_region: float = 0.0
    # Mask from face-api's 68 landmarks (the jaw line and the brows, as the SBI paper's dlib hull) where a
    # face has them (`python -m unmask_train landmarks`); the keypoint hull above where it has none.
    # A face swap replaces the face inside its jaw line, whose outline 6 keypoints cannot follow.
    landmark_mask: bool = False
    # Brows raised by f * (mouth - eye midpoint) so the hull reaches the lower forehead, as the paper's
    # 81-point variant does; f = 0 keeps the brow line itself.
    forehead_factor: Tuple[float, float] = (0.0, 0.3)


# `basic`: appearance change always on the pasted face, sharpen or blur. `sta`: the paper's
# source-target augmentation (either side altered, downscaling as well). `colour`: colour change and
# movement only; DFDC's fakes are blurrier than their reals, and a sharpness score alone ranks them
# about as well as the basic recipe (README), so this asks what the blend edge teaches without it.
# `parts`: basic, but half the masks cover only the inner or the lower face (re-enactment's edits).
SBI_PRESETS = {
    "basic": SbiConfig(),
    "sta": SbiConfig(p_swap=0.5, p_downscale=0.25),
    "colour": SbiConfig(resolution_change=False),
    "parts": SbiConfig(p_region=0.5),
    "landmarks": SbiConfig(landmark_mask=True),
}


def keypoints_usable(kp: np.ndarray, side: int) -> bool:
    """SBI needs a sane face geometry: finite points, eyes apart, mouth below the eyes, inside the crop."""
    if kp.shape != (6, 2) or not np.isfinite(kp).all():
        return False
    core = kp[:4]
    if (core < 0).any() or (core >= side).any():
        return False
    eye_dist = float(np.linalg.norm(kp[1] - kp[0]))
    eye_mouth = float(np.linalg.norm(kp[3] - (kp[0] + kp[1]) / 2))
    return eye_dist > 0.05 * side and eye_mouth > 0.05 * side


def mask_points(kp: np.ndarray, rng: random.Random, cfg: SbiConfig) -> np.ndarray:
    """The 6 keypoints plus a chin point and two brow points, so the hull spans brows to chin."""
    eye_mid = (kp[0] + kp[1]) / 2
    down = kp[3] - eye_mid
    chin = kp[3] + rng.uniform(*cfg.chin_factor) * down
    up = rng.uniform(*cfg.brow_factor)
    brows = [kp[0] - up * down, kp[1] - up * down]
    return np.vstack([kp, chin[None], np.stack(brows)])


REGIONS = ("inner", "lower")


def region_points(kp: np.ndarray, region: str, rng: random.Random, cfg: SbiConfig) -> np.ndarray:
    """Points whose hull is one part of the face: `inner` = eyes, nose, mouth and chin (no brows,
    ears or outer cheeks); `lower` = from just below the eyes to the chin, cheeks included.
    Widths are in half eye-distances (`across`) beyond the eyes and the mouth centre."""
    eye_mid = (kp[0] + kp[1]) / 2
    down = kp[3] - eye_mid
    across = (kp[1] - kp[0]) / 2
    chin = kp[3] + rng.uniform(*cfg.chin_factor) * down
    if region == "inner":
        eyes = [kp[0] - 0.15 * across, kp[1] + 0.15 * across]
        corners = [kp[3] - 0.9 * across, kp[3] + 0.9 * across]
        return np.vstack([np.stack(eyes), kp[2:4], np.stack(corners), chin[None]])
    if region == "lower":
        top = rng.uniform(0.25, 0.5)  # how far below the eyes the region starts, in eyes-to-mouth lengths
        cheeks = [kp[0] + top * down - 0.4 * across, kp[1] + top * down + 0.4 * across]
        jaw = [kp[3] - 1.2 * across, kp[3] + 1.2 * across]
        return np.vstack([np.stack(cheeks), kp[2:3], np.stack(jaw), chin[None]])
    raise ValueError(f"unknown face region {region!r}; expected one of {', '.join(REGIONS)}")


def blend_points(kp: np.ndarray, rng: random.Random, cfg: SbiConfig) -> np.ndarray:
    """The mask's points: the whole face, or with probability `p_region` one part of it. No extra
    draw when `p_region` is 0, so the other presets' draws stay what they were."""
    if cfg.p_region > 0 and rng.random() < cfg.p_region:
        return region_points(kp, rng.choice(REGIONS), rng, cfg)
    return mask_points(kp, rng, cfg)


# dlib's 68-point layout (face-api's landmark net uses it too: faceapi_landmarks.py).
JAW, BROWS, NOSE_TIP = slice(0, 17), slice(17, 27), 30
LEFT_EYE, RIGHT_EYE, MOUTH = slice(36, 42), slice(42, 48), slice(48, 68)


def landmark_points(lm: np.ndarray, rng: random.Random, cfg: SbiConfig) -> np.ndarray:
    """The jaw line and the brows raised toward the forehead: the region a face swap pastes. `lm` is
    (68, 2) in dlib's order."""
    eye_mid = (lm[LEFT_EYE].mean(0) + lm[RIGHT_EYE].mean(0)) / 2
    down = lm[MOUTH].mean(0) - eye_mid
    brows = lm[BROWS] - rng.uniform(*cfg.forehead_factor) * down
    return np.vstack([lm[JAW], brows])


def convex_hull(points: Sequence[Sequence[float]]) -> List[Point]:
    """Andrew's monotone chain; counter-clockwise, no repeated end point."""
    pts = sorted(set((float(x), float(y)) for x, y in points))
    if len(pts) <= 2:
        return pts

    def cross(o: Point, a: Point, b: Point) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: List[Point] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: List[Point] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def polygon_mask(polygon: Sequence[Point], height: int, width: int) -> torch.Tensor:
    """Filled polygon as a float mask [1, H, W] in {0, 1}."""
    img = Image.new("L", (width, height), 0)
    if len(polygon) >= 3:
        ImageDraw.Draw(img).polygon([(x, y) for x, y in polygon], fill=255)
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)[None]


def deform_mask(mask: torch.Tensor, rng: random.Random, cfg: SbiConfig) -> torch.Tensor:
    """Random dilation or erosion, then a Gaussian blur for a soft, varied blending edge."""
    side = mask.shape[-1]
    r = int(round(rng.uniform(0, cfg.morph_radius) * side))
    if r > 0:
        k = 2 * r + 1
        m = mask[None]
        m = F.max_pool2d(m, k, 1, r) if rng.random() < 0.5 else -F.max_pool2d(-m, k, 1, r)
        mask = m[0]
    mask = gaussian_blur(mask, max(0.3, rng.uniform(*cfg.blur_sigma) * side))
    return mask.clamp(0, 1)


def nearest_downscale(img: torch.Tensor, factor: float) -> torch.Tensor:
    """Blocky resolution loss as in the SBI code: nearest-neighbour shrink, bilinear enlarge."""
    h, w = img.shape[-2:]
    small = F.interpolate(img[None], size=(max(4, int(h * factor)), max(4, int(w * factor))), mode="nearest")
    return F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)[0]


def alter_appearance(img: torch.Tensor, rng: random.Random, cfg: SbiConfig) -> torch.Tensor:
    """Colour/brightness change, then sharpen, blur or (with p_downscale) a blocky downscale."""
    x = TF.adjust_brightness(img, 1 + rng.uniform(-cfg.brightness, cfg.brightness))
    x = TF.adjust_contrast(x, 1 + rng.uniform(-cfg.contrast, cfg.contrast))
    x = TF.adjust_saturation(x, 1 + rng.uniform(-cfg.saturation, cfg.saturation))
    if cfg.hue > 0:
        x = TF.adjust_hue(x, rng.uniform(-cfg.hue, cfg.hue))
    shift = torch.tensor([rng.uniform(-cfg.rgb_shift, cfg.rgb_shift) for _ in range(3)]).view(3, 1, 1)
    x = (x + shift).clamp(0, 1)
    if cfg.p_downscale > 0 and rng.random() < cfg.p_downscale:
        return nearest_downscale(x, rng.choice(cfg.downscale_factors)).clamp(0, 1)
    if not cfg.resolution_change:
        return x
    u = rng.random()
    if u < 1 / 3:
        x = TF.adjust_sharpness(x, rng.uniform(1.5, 3.0))
    elif u < 2 / 3:
        x = gaussian_blur(x, rng.uniform(0.4, 1.2))
    return x


def move_source(img: torch.Tensor, centre: np.ndarray, rng: random.Random, cfg: SbiConfig,
                jitter: FrameJitter = NO_JITTER) -> torch.Tensor:
    """Slight scale about the face centre (not the image centre, so the face stays under the mask) and shift."""
    side = img.shape[-1]
    scale = rng.uniform(*cfg.source_scale) * (1 + jitter.dscale)
    t = cfg.source_translate * side
    cx, cy = float(centre[0]) - side / 2, float(centre[1]) - side / 2
    tx = cx * (1 - scale) + rng.uniform(-t, t) + jitter.dx * side
    ty = cy * (1 - scale) + rng.uniform(-t, t) + jitter.dy * side
    return TF.affine(img, angle=0.0, translate=[int(round(tx)), int(round(ty))], scale=scale, shear=[0.0, 0.0],
                     interpolation=TF.InterpolationMode.BILINEAR)


def self_blend(img: torch.Tensor, kp: np.ndarray, rng: random.Random, cfg: SbiConfig = SbiConfig(),
               jitter: FrameJitter = NO_JITTER, landmarks: Optional[np.ndarray] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """Return (fake image [3,H,W], blend mask [1,H,W] in [0,1]) for a REAL crop and its keypoints.

    `rng` makes the draw; the frames of a clip share one (same seed). `jitter` then moves this frame's
    pasted face away from the shared draw without consuming `rng`, so the draw itself stays the same.
    `landmarks` ((68, 2), crop pixels) shape the mask instead of the keypoints when `cfg.landmark_mask`."""
    _, h, w = img.shape
    use_landmarks = cfg.landmark_mask and landmarks is not None
    hull = convex_hull(landmark_points(landmarks, rng, cfg) if use_landmarks else blend_points(kp, rng, cfg))
    mask = deform_mask(polygon_mask(hull, h, w), rng, cfg)  # before the ratio: the order of draws is the recipe
    mask = mask * min(1.0, max(0.0, rng.choice(cfg.blend_ratios) + jitter.dratio))
    centre = kp[:4].mean(axis=0)
    if cfg.p_swap > 0 and rng.random() < cfg.p_swap:
        source, target = move_source(img, centre, rng, cfg, jitter), alter_appearance(img, rng, cfg)
    else:
        source, target = move_source(alter_appearance(img, rng, cfg), centre, rng, cfg, jitter), img
    if any(jitter.rgb):
        source = (source + torch.tensor(jitter.rgb, dtype=img.dtype).view(3, 1, 1)).clamp(0, 1)
    return (source * mask + target * (1 - mask)).clamp(0, 1), mask
