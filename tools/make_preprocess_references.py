#!/usr/bin/python3
"""Test images and PIL's preprocessing of them, the reference for the C# preprocessor.

  /usr/bin/python3 tools/make_preprocess_references.py

Writes tests/assets/images/* (a photo-like JPEG, a PNG with transparency, grayscale, wide, tall, tiny,
EXIF-rotated, palette GIF, CMYK JPEG; then the decoder set: JPEG 4:2:2, progressive, greyscale, odd and tiny
sizes, all 8 EXIF orientations, a 12-megapixel photo, WebP lossy and lossless, BMP, ICO, 16-bit PNGs and a PNG
whose gAMA chunk must be ignored) and tests/assets/preprocess/: for each case the resized and centre-cropped
RGB crop PIL computes (lossless PNG; normalisation is a per-byte formula) listed in manifest.json, plus one
complete float tensor (tensor_photo_64.json) to check rescaling and normalisation end to end.

16-bit PNGs: ClipService scales every sample to 8 bits by keeping its high byte (v >> 8, Skia's reading). For 16-bit
RGB that is what PIL does too; 16-bit grey PIL clips at 255 (nearly white), so there the reference is PIL's resize of
the scaled image, ClipService's documented choice.
"""
from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, JpegImagePlugin, PngImagePlugin

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


def make_decoder_set(rng: np.random.Generator) -> None:
    """The JPEG variants and other formats the Skia decoder is held to (a separate seed: the images above stay
    byte for byte what they were)."""
    photo = photo_like(rng, 640, 480)
    Image.fromarray(photo).save(IMAGES / "photo_422.jpg", quality=90, subsampling=1)
    Image.fromarray(photo).save(IMAGES / "photo_progressive.jpg", quality=90, progressive=True)
    Image.fromarray(photo).convert("L").save(IMAGES / "gray_jpeg.jpg", quality=90)
    # Odd sizes: partial MCUs at the right and bottom edges; tiny 4:2:0 images are where chroma upsampling shows most.
    Image.fromarray(photo_like(rng, 641, 359)).save(IMAGES / "odd_420.jpg", quality=88)
    Image.fromarray(photo_like(rng, 37, 23)).save(IMAGES / "tiny_420.jpg", quality=90)
    upright = photo_like(rng, 161, 121)
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        Image.fromarray(upright).save(IMAGES / f"orientation_{orientation}.jpg", quality=90, exif=exif)
    # A 12-megapixel phone-sized photo: less sensor noise than the small ones keeps the file near 2 MB.
    big = np.clip(np.rint(smooth_field(rng, 3000, 4000, 8) * 0.6 + smooth_field(rng, 3000, 4000, 300) * 0.4
                          + rng.normal(0, 1.5, (3000, 4000, 3))), 0, 255).astype(np.uint8)
    Image.fromarray(big).save(IMAGES / "photo_12mp.jpg", quality=85)

    small = photo_like(rng, 300, 220)
    Image.fromarray(small).save(IMAGES / "lossless.webp", lossless=True)
    Image.fromarray(small).save(IMAGES / "lossy.webp", quality=85)
    Image.fromarray(small).save(IMAGES / "bitmap.bmp")
    Image.fromarray(photo_like(rng, 64, 64)).save(IMAGES / "icon.ico", sizes=[(64, 64)])
    rgb16 = rng.integers(0, 65536, (90, 120, 3), dtype=np.uint16)
    rgb16[:] = (photo_like(rng, 120, 90).astype(np.uint16) * 257 + rng.integers(-128, 128, (90, 120, 3))).clip(0, 65535)
    write_png16(IMAGES / "rgb16.png", rgb16)
    grey16 = photo_like(rng, 110, 80)[:, :, 0].astype(np.int32) * 257 + rng.integers(-128, 128, (80, 110))
    Image.fromarray(grey16.clip(0, 65535).astype(np.uint16)).save(IMAGES / "gray16.png")
    gamma = PngImagePlugin.PngInfo()
    gamma.add(b"gAMA", (100000).to_bytes(4, "big"))  # gamma 1.0: a colour-managing decoder would brighten it
    Image.fromarray(small).save(IMAGES / "gamma.png", pnginfo=gamma)


def write_png16(path: Path, rgb: np.ndarray) -> None:
    """PIL cannot write 16-bit RGB PNGs; this writes one by hand (filter 0 on every row)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([16, 2, 0, 0, 0])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def scaled_to_8_bits(path: Path) -> Image.Image:
    """ClipService's reading of a 16-bit PNG: every sample's high byte."""
    data = path.read_bytes()
    if Image.open(path).mode == "RGB":  # 16-bit RGB (PIL has already dropped the low bytes): decode by hand
        w, h = Image.open(path).size
        raw = zlib.decompress(b"".join(chunks(data, b"IDAT")))
        rows = [np.frombuffer(raw[y * (1 + 6 * w) + 1:(y + 1) * (1 + 6 * w)], dtype=">u2") for y in range(h)]
        samples = np.stack(rows).reshape(h, w, 3)
    else:
        samples = np.asarray(Image.open(path))
    return Image.fromarray((samples.astype(np.uint16) >> 8).astype(np.uint8))


def chunks(data: bytes, kind: bytes) -> list[bytes]:
    found, pos = [], 8
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        if data[pos + 4:pos + 8] == kind:
            found.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    return found


CASES = [
    # (image, shortest edge, crop)
    ("photo.jpg", 224, 224), ("photo_444.jpg", 224, 224), ("transparent.png", 224, 224), ("gray.png", 224, 224), ("wide.png", 224, 224),
    ("tall.png", 224, 224), ("tiny.png", 224, 224), ("exif_rotated.jpg", 224, 224), ("palette.gif", 224, 224),
    ("cmyk.jpg", 224, 224),
    ("wide.png", 64, 64), ("photo.jpg", 64, 64),
    # Crop offsets of 1.5 and 3.5 pixels: torchvision rounds them half to even (2 and 4).
    ("tall.png", 67, 64), ("gray.png", 71, 64),
    # The decoder set.
    ("photo_422.jpg", 224, 224), ("photo_progressive.jpg", 224, 224), ("gray_jpeg.jpg", 224, 224), ("odd_420.jpg", 224, 224),
    ("tiny_420.jpg", 224, 224), ("photo_12mp.jpg", 224, 224),
    *((f"orientation_{o}.jpg", 224, 224) for o in range(1, 9)),
    ("lossless.webp", 224, 224), ("lossy.webp", 224, 224), ("bitmap.bmp", 224, 224), ("icon.ico", 224, 224),
    ("rgb16.png", 224, 224), ("gray16.png", 224, 224), ("gamma.png", 224, 224),
]
SCALED_16_BIT = {"rgb16.png", "gray16.png"}
# SigLIP's and open_clip's "squash": straight to width x height, no crop, with the processor's resample (2 bilinear,
# 3 bicubic). Down- and upscaling, both directions of aspect change.
SQUASH_CASES = [
    ("wide.png", 224, 224, 3), ("wide.png", 224, 224, 2), ("tall.png", 256, 256, 2), ("transparent.png", 384, 384, 3),
    ("tiny.png", 32, 32, 2), ("gray.png", 64, 48, 2), ("photo.jpg", 224, 224, 2), ("bitmap.bmp", 512, 512, 2),
]


def main() -> None:
    rng = np.random.default_rng(20261127)
    make_images(rng)
    make_decoder_set(np.random.default_rng(20261201))
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = []
    for name, size, crop in CASES:
        with Image.open(IMAGES / name) as image:
            upright = scaled_to_8_bits(IMAGES / name) if name in SCALED_16_BIT else ImageOps.exif_transpose(image)
            reference = resized_and_cropped(upright, size, crop)
            out_name = f"{Path(name).stem}.{size}.{crop}.png"
            reference.save(OUT / out_name)
            # PIL's code: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0, -1 = not YCbCr (CMYK); null for other formats.
            sampling = JpegImagePlugin.get_sampling(image) if image.format == "JPEG" else None
            manifest.append({"image": name, "shortest_edge": size, "crop": crop, "reference": out_name,
                             "source_mode": image.mode, "source_size": list(image.size),
                             "jpeg_subsampling": sampling, "lossy": image.format == "JPEG" or name == "lossy.webp"})
    squash = []
    for name, width, height, resample in SQUASH_CASES:
        with Image.open(IMAGES / name) as image:
            reference = ImageOps.exif_transpose(image).convert("RGB").resize((width, height), resample)
            out_name = f"{Path(name).stem}.squash.{width}x{height}.r{resample}.png"
            reference.save(OUT / out_name)
            squash.append({"image": name, "width": width, "height": height, "resample": resample,
                           "reference": out_name, "lossy": image.format == "JPEG"})
    (OUT / "manifest.json").write_text(json.dumps({
        "description": "PIL (Debian python3-pil) resize-bicubic + centre-crop of each image, as RGB PNG; "
                       "squash_cases: resize to width x height with the given resample, no crop; "
                       "made by tools/make_preprocess_references.py",
        "cases": manifest, "squash_cases": squash}, indent=1) + "\n")

    # FastJpegScaling's reading of the 12 MP photo: PIL's draft() at 1/4 scale (the largest reduction that keeps
    # twice 224 on the short side), then the resize and crop the full-size image gets.
    with Image.open(IMAGES / "photo_12mp.jpg") as image:
        full_size = image.size
        image.draft("RGB", (full_size[0] // 4, full_size[1] // 4))
        assert image.size == (1000, 750), image.size
        resized_and_cropped(image, 224, 224, geometry_from=full_size).save(OUT / "photo_12mp.draft4.224.224.png")

    with Image.open(IMAGES / "photo.jpg") as image:
        tensor = clip_tensor(image, 64, 64)
    (OUT / "tensor_photo_64.json").write_text(json.dumps({
        "description": "clip_tensor(photo.jpg, 64, 64): OpenAI mean/std, CHW float32",
        "shape": list(tensor.shape), "values": [float(v) for v in tensor.flatten()]}) + "\n")
    print(f"wrote {len(manifest)} references to {OUT}")


if __name__ == "__main__":
    main()
