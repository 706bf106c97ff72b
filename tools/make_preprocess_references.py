#!/usr/bin/python3
"""Test images and PIL's preprocessing of them, the reference for the C# preprocessor.

  /usr/bin/python3 tools/make_preprocess_references.py

Writes tests/assets/images/* (a photo-like JPEG, a PNG with transparency, grayscale, wide, tall, tiny,
EXIF-rotated, palette GIF, CMYK JPEG) and tests/assets/preprocess/: for each case the resized and centre-
cropped RGB crop PIL computes (lossless PNG; normalisation is a per-byte formula) listed in manifest.json,
plus one complete float tensor (tensor_photo_64.json) to check rescaling and normalisation end to end.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, JpegImagePlugin

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clipkit.preprocess import clip_tensor, resized_and_cropped  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
IMAGES = REPO / "tests" / "assets" / "images"
OUT = REPO / "tests" / "assets" / "preprocess"


def smooth_field(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    coarse = Image.fromarray(rng.integers(0, 256, (cells, cells, 3), dtype=np.uint8))
    return np.asarray(coarse.resize((w, h), Image.BICUBIC), dtype=np.float64)


def photo_like(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    image = smooth_field(rng, h, w, 6) * 0.7 + smooth_field(rng, h, w, 40) * 0.3
    for _ in range(12):
        x0, y0 = rng.integers(0, w), rng.integers(0, h)
        image[y0:y0 + rng.integers(1, max(2, h // 3)), x0:x0 + rng.integers(1, max(2, w // 3))] = rng.integers(0, 256, 3)
    image += rng.normal(0, 6, image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def make_images(rng: np.random.Generator) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    photo = photo_like(rng, 640, 480)
    Image.fromarray(photo).save(IMAGES / "photo.jpg", quality=90)
    # The same photo without chroma subsampling: isolates the decoders' IDCT from their chroma upsampling.
    Image.fromarray(photo).save(IMAGES / "photo_444.jpg", quality=90, subsampling=0)

    rgba = np.dstack([photo_like(rng, 300, 200), np.tile(np.linspace(0, 255, 300, dtype=np.uint8), (200, 1))])
    rgba[:60, :60, 3] = 0  # fully transparent corner whose colour must still come through, as PIL drops alpha
    Image.fromarray(rgba, "RGBA").save(IMAGES / "transparent.png")

    Image.fromarray(photo_like(rng, 257, 193)).convert("L").save(IMAGES / "gray.png")
    Image.fromarray(photo_like(rng, 900, 200)).save(IMAGES / "wide.png")
    Image.fromarray(photo_like(rng, 150, 700)).save(IMAGES / "tall.png")
    Image.fromarray(photo_like(rng, 20, 15)).save(IMAGES / "tiny.png")

    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the stored image must be turned 90° clockwise to be upright
    Image.fromarray(photo_like(rng, 320, 240)).save(IMAGES / "exif_rotated.jpg", quality=92, exif=exif)

    Image.fromarray(photo_like(rng, 120, 90)).quantize(64).save(IMAGES / "palette.gif")
    Image.fromarray(photo_like(rng, 200, 160)).convert("CMYK").save(IMAGES / "cmyk.jpg", quality=92)


CASES = [
    # (image, shortest edge, crop)
    ("photo.jpg", 224, 224), ("photo_444.jpg", 224, 224), ("transparent.png", 224, 224), ("gray.png", 224, 224), ("wide.png", 224, 224),
    ("tall.png", 224, 224), ("tiny.png", 224, 224), ("exif_rotated.jpg", 224, 224), ("palette.gif", 224, 224),
    ("cmyk.jpg", 224, 224),
    ("wide.png", 64, 64), ("photo.jpg", 64, 64),
    # Crop offsets of 1.5 and 3.5 pixels: torchvision rounds them half to even (2 and 4).
    ("tall.png", 67, 64), ("gray.png", 71, 64),
]


def main() -> None:
    rng = np.random.default_rng(20261127)
    make_images(rng)
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = []
    for name, size, crop in CASES:
        with Image.open(IMAGES / name) as image:
            upright = ImageOps.exif_transpose(image)
            reference = resized_and_cropped(upright, size, crop)
            out_name = f"{Path(name).stem}.{size}.{crop}.png"
            reference.save(OUT / out_name)
            # PIL's code: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0, -1 = not YCbCr (CMYK); null for other formats.
            sampling = JpegImagePlugin.get_sampling(image) if image.format == "JPEG" else None
            manifest.append({"image": name, "shortest_edge": size, "crop": crop, "reference": out_name,
                             "source_mode": image.mode, "source_size": list(image.size),
                             "jpeg_subsampling": sampling})
    (OUT / "manifest.json").write_text(json.dumps({
        "description": "PIL (Debian python3-pil) resize-bicubic + centre-crop of each image, as RGB PNG; "
                       "made by tools/make_preprocess_references.py",
        "cases": manifest}, indent=1) + "\n")

    with Image.open(IMAGES / "photo.jpg") as image:
        tensor = clip_tensor(image, 64, 64)
    (OUT / "tensor_photo_64.json").write_text(json.dumps({
        "description": "clip_tensor(photo.jpg, 64, 64): OpenAI mean/std, CHW float32",
        "shape": list(tensor.shape), "values": [float(v) for v in tensor.flatten()]}) + "\n")
    print(f"wrote {len(manifest)} references to {OUT}")


if __name__ == "__main__":
    main()
