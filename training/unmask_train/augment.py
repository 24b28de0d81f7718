"""Training augmentations in the style of the DFDC-winning solution (Seferbekov), torch/torchvision only.

They simulate what happens to real-world media (re-encoding, blur, downscaling, colour grading,
imprecise face boxes, mirroring), so the model cannot rely on pristine high-frequency detail.
Images are float tensors [3, H, W] in [0, 1]; an explicit `random.Random` makes runs reproducible
(each DataLoader worker seeds its own).
"""
from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from PIL import Image


@dataclass(frozen=True)
class AugmentConfig:
    p_jpeg: float = 0.5
    jpeg_quality: Tuple[int, int] = (30, 100)
    # side at which the JPEG round trip happens, as a multiple of the training image's (drawn per
    # image; (1, 1): at its own side, and no draw): a face scanned from a small compressed picture or
    # video frame carries its 8-pixel blocks at a finer scale than the network's input (`jpeg`)
    jpeg_scale: Tuple[float, float] = (1.0, 1.0)
    p_blur: float = 0.1
    blur_sigma: Tuple[float, float] = (0.3, 1.5)
    p_downscale: float = 0.2
    downscale: Tuple[float, float] = (0.4, 0.9)  # factor of the side before scaling back up
    p_noise: float = 0.1
    noise_std: Tuple[float, float] = (0.005, 0.03)
    p_colour: float = 0.5
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue: float = 0.03
    p_hue: float = 0.3  # hue is the costliest colour op (RGB<->HSV), so only some of the time
    p_gray: float = 0.05
    p_flip: float = 0.5
    p_affine: float = 0.5
    shift: float = 0.06  # fraction of the side
    scale: Tuple[float, float] = (0.9, 1.1)
    rotate: float = 10.0  # degrees


# `strong` is the DFDC-winner recipe (the defaults above), for long runs. `light` keeps the same kinds
# of change but rarer and milder: in 2.5-minute CPU runs on the dev crops, SBI-only training with
# `strong` barely moved the loss (0.694 -> 0.676, DFDC AUC ~0.5) while without augmentation it fell to
# 0.574 with DFDC frame AUC 0.63, because heavy JPEG/downscaling erases the subtle blending traces.
AUGMENT_PRESETS = {
    "strong": AugmentConfig(),
    "light": AugmentConfig(
        p_jpeg=0.3, jpeg_quality=(60, 100), p_blur=0.05, blur_sigma=(0.3, 0.8), p_downscale=0.1,
        downscale=(0.6, 0.9), p_noise=0.05, noise_std=(0.005, 0.015), brightness=0.1, contrast=0.1,
        saturation=0.1, p_gray=0.02, p_affine=0.3, shift=0.03, scale=(0.95, 1.05), rotate=5.0),
}


def to_uint8(img: torch.Tensor) -> torch.Tensor:
    return (img.clamp(0, 1) * 255).round().to(torch.uint8)


def jpeg(img: torch.Tensor, quality: int, scale: float = 1.0) -> torch.Tensor:
    """Round-trip through JPEG at `quality` (PIL, available everywhere torchvision is). With `scale` > 1
    the picture is enlarged by it first and shrunk back after, so the 8x8 blocks land 8 / scale pixels
    apart, as in a crop the scan enlarged from a small compressed picture and the network then shrank:
    a DFDC still's 8-pixel blocks lie about 3 pixels apart at a 128 px network's input."""
    h, w = img.shape[-2:]
    x = img
    if scale != 1.0:
        x = TF.resize(x, [max(8, round(h * scale)), max(8, round(w * scale))], interpolation=TF.InterpolationMode.BILINEAR, antialias=True)
    arr = to_uint8(x).permute(1, 2, 0).contiguous().numpy()
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    out = torch.from_numpy(np.asarray(Image.open(buf).convert("RGB")).copy()).permute(2, 0, 1).float() / 255.0
    if scale != 1.0:
        out = TF.resize(out, [h, w], interpolation=TF.InterpolationMode.BILINEAR, antialias=True).clamp(0, 1)
    return out


def gaussian_blur(img: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of a [C, H, W] tensor (radius 3 sigma, edges replicated).

    torchvision's version convolves with the full 2-D kernel, which is slow for the wide kernels
    that soften SBI masks.
    """
    r = max(1, int(math.ceil(3 * sigma)))
    x = torch.arange(-r, r + 1, dtype=img.dtype)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    k = k / k.sum()
    c = img.shape[0]
    y = F.pad(img[None], [r, r, r, r], mode="replicate")
    y = F.conv2d(y, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    y = F.conv2d(y, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    return y[0]


def downscale_upscale(img: torch.Tensor, factor: float) -> torch.Tensor:
    """Isotropic resolution loss: shrink (antialiased) and enlarge back."""
    h, w = img.shape[-2:]
    small = (max(8, int(h * factor)), max(8, int(w * factor)))
    x = TF.resize(img, list(small), interpolation=TF.InterpolationMode.BILINEAR, antialias=True)
    return TF.resize(x, [h, w], interpolation=TF.InterpolationMode.BILINEAR, antialias=True)


def colour_jitter(img: torch.Tensor, rng: random.Random, cfg: AugmentConfig) -> torch.Tensor:
    x = TF.adjust_brightness(img, 1 + rng.uniform(-cfg.brightness, cfg.brightness))
    x = TF.adjust_contrast(x, 1 + rng.uniform(-cfg.contrast, cfg.contrast))
    x = TF.adjust_saturation(x, 1 + rng.uniform(-cfg.saturation, cfg.saturation))
    if cfg.hue > 0 and rng.random() < cfg.p_hue:
        x = TF.adjust_hue(x, rng.uniform(-cfg.hue, cfg.hue))
    return x.clamp(0, 1)


def draw_shift_scale_rotate(rng: random.Random, cfg: AugmentConfig, side: int) -> Tuple[float, List[int], float]:
    """(angle in degrees, [tx, ty] in pixels, scale): one draw, so an image and its mask move alike."""
    t = cfg.shift * side
    angle = rng.uniform(-cfg.rotate, cfg.rotate)
    translate = [int(round(rng.uniform(-t, t))), int(round(rng.uniform(-t, t)))]
    return angle, translate, rng.uniform(*cfg.scale)


def apply_shift_scale_rotate(img: torch.Tensor, move: Tuple[float, List[int], float]) -> torch.Tensor:
    angle, translate, scale = move
    return TF.affine(img, angle=angle, translate=translate, scale=scale, shear=[0.0, 0.0],
                     interpolation=TF.InterpolationMode.BILINEAR)


def shift_scale_rotate(img: torch.Tensor, rng: random.Random, cfg: AugmentConfig) -> torch.Tensor:
    """Imprecise face boxes: small random shift, scale and rotation; black fill like a crop off the frame edge."""
    return apply_shift_scale_rotate(img, draw_shift_scale_rotate(rng, cfg, img.shape[-1]))


def augment(img: torch.Tensor, rng: random.Random, cfg: AugmentConfig = AugmentConfig()) -> torch.Tensor:
    """One random draw of the training augmentation; same shape out as in."""
    return augment_with_mask(img, None, rng, cfg)[0]


def augment_with_mask(img: torch.Tensor, mask: Optional[torch.Tensor], rng: random.Random,
                      cfg: AugmentConfig = AugmentConfig()) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """`augment`, plus the same flip and shift-scale-rotate applied to `mask` ([1, H, W], e.g. a
    self-blend's mask); the photometric steps leave it alone. The random draws are those of `augment`."""
    x = img
    # Photometric changes and resolution loss first, compression after them (as a re-encode would be),
    # geometry last.
    if rng.random() < cfg.p_colour:
        x = colour_jitter(x, rng, cfg)
    if rng.random() < cfg.p_gray:
        x = TF.rgb_to_grayscale(x, num_output_channels=3)
    if rng.random() < cfg.p_blur:
        x = gaussian_blur(x, rng.uniform(*cfg.blur_sigma))
    elif rng.random() < cfg.p_downscale:
        x = downscale_upscale(x, rng.uniform(*cfg.downscale))
    if rng.random() < cfg.p_noise:
        g = torch.Generator().manual_seed(rng.getrandbits(62))
        x = (x + torch.randn(x.shape, generator=g) * rng.uniform(*cfg.noise_std)).clamp(0, 1)
    if rng.random() < cfg.p_jpeg:
        quality = rng.randint(*cfg.jpeg_quality)
        # no draw at the default scale: recipes from before `jpeg_scale` replay their draws
        x = jpeg(x, quality, rng.uniform(*cfg.jpeg_scale) if cfg.jpeg_scale != (1.0, 1.0) else 1.0)
    if rng.random() < cfg.p_flip:
        x = TF.hflip(x)
        mask = TF.hflip(mask) if mask is not None else None
    if rng.random() < cfg.p_affine:
        move = draw_shift_scale_rotate(rng, cfg, x.shape[-1])
        x = apply_shift_scale_rotate(x, move)
        mask = apply_shift_scale_rotate(mask, move) if mask is not None else None
    return x, mask


# A face picture that was cut tight around the face before it reached unmask (DFDC's and FF++'s
# face-crop sets, a user's cropped photo): the scan's crop runs off it and is padded black. Side of
# that picture in face boxes, and how far off the box centre its centre may lie (in boxes).
PRECROP_SCALE = (0.9, 1.3)
PRECROP_SHIFT = 0.08


def precrop(img: torch.Tensor, mask: Optional[torch.Tensor], rng: random.Random,
            margin: float) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """Black outside a square of PRECROP_SCALE face boxes around the face of a `margin` crop (the face
    box is its centred 1 / (1 + 2 margin)), as a scan pads a crop of a tightly cut face picture. Where
    a self-blend's edge falls outside that square, only what lies inside it can tell the fake."""
    side = img.shape[-1]
    box = side / (1 + 2 * margin)
    s = rng.uniform(*PRECROP_SCALE) * box
    cx = side / 2 + rng.uniform(-PRECROP_SHIFT, PRECROP_SHIFT) * box
    cy = side / 2 + rng.uniform(-PRECROP_SHIFT, PRECROP_SHIFT) * box
    x0, y0 = max(0, round(cx - s / 2)), max(0, round(cy - s / 2))
    x1, y1 = min(side, round(cx + s / 2)), min(side, round(cy + s / 2))
    keep = torch.zeros((1, side, side), dtype=img.dtype)
    keep[:, y0:y1, x0:x1] = 1
    return img * keep, (mask * keep if mask is not None else None)
