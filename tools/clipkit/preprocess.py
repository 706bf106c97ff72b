"""CLIP image preprocessing as PIL computes it: the reference the C# preprocessor is tested against.

convert("RGB") -> resize the shortest side to N (bicubic; the long side truncated as torchvision and
Hugging Face do) -> centre crop (offsets rounded half-to-even, as torchvision's CenterCrop) -> [0, 1] ->
(x - mean) / std, channels first.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

from .export import OPENAI_MEAN, OPENAI_STD


def resized_and_cropped(image: Image.Image, size: int, crop: int, geometry_from: tuple[int, int] | None = None) -> Image.Image:
    """geometry_from: the full size of an image decoded at reduced scale (draft), whose resize target and crop
    are computed as for the full-size image."""
    image = image.convert("RGB")
    w, h = geometry_from or image.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    if (new_w, new_h) != image.size:
        image = image.resize((new_w, new_h), Image.BICUBIC)
    top = int(round((new_h - crop) / 2.0))
    left = int(round((new_w - crop) / 2.0))
    return image.crop((left, top, left + crop, top + crop))


def clip_tensor(image: Image.Image, size: int, crop: int, mean=OPENAI_MEAN, std=OPENAI_STD,
                apply_exif: bool = True) -> np.ndarray:
    if apply_exif:
        image = ImageOps.exif_transpose(image)
    pixels = np.asarray(resized_and_cropped(image, size, crop), dtype=np.float32) / np.float32(255.0)
    pixels = (pixels - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    return pixels.transpose(2, 0, 1).copy()
