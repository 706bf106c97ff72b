"""Makes the small labelled datasets the `evaluate` command's tests and the README's worked example use.

tests/assets/eval/shapes/       an ImageFolder: 6 classes x 5 pictures from tools/independent_shapes.py (the
                                generator the default model was not trained on), in JPEG, WebP and PNG as the
                                generator picks, a classes.csv mapping the folder names to label text, and one
                                corrupt file (a JPEG cut off after its header) that the evaluation must skip;
tests/assets/eval/shapes48/     the README's worked example: all 48 colour-shape classes of the default model, 4
                                pictures each, reduced to at most 96 px on the short side (the model sees 64) and
                                saved as JPEG, so the whole set stays small;
tests/assets/eval/captions.csv  a retrieval manifest (path,caption) over 12 pictures of 12 distinct colour-shape
                                pairs, in tests/assets/eval/captioned/.

Deterministic (fixed seed); run with Debian's python3 and python3-pil:
    /usr/bin/python3 tools/make_eval_fixtures.py
"""
from __future__ import annotations

import csv
import random
import shutil
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from independent_shapes import COLOURS, SHAPES, picture  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests" / "assets" / "eval"
# Pairs a shapes model may confuse (circle/ring, square/cross) beside easy ones.
CLASSES = ["red circle", "red ring", "blue square", "green cross", "black triangle", "yellow star"]
PER_CLASS = 5
CAPTIONED = ["red circle", "green square", "blue triangle", "yellow star", "orange cross", "purple ring",
             "black circle", "white square", "red triangle", "green star", "blue cross", "yellow ring"]


def save(img, info: dict, path: Path) -> Path:
    ext = {"jpeg": ".jpg", "webp": ".webp", "png": ".png"}[info["format"]]
    path = path.with_suffix(ext)
    options = {"jpeg": {"quality": 88}, "webp": {"quality": 85}, "png": {}}[info["format"]]
    img.save(path, {"jpeg": "JPEG", "webp": "WEBP", "png": "PNG"}[info["format"]], **options)
    return path


def main() -> None:
    rng = random.Random(20261207)
    shapes = OUT / "shapes"
    shutil.rmtree(shapes, ignore_errors=True)
    shapes.mkdir(parents=True)
    with open(shapes / "classes.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["folder", "label"])
        for name in CLASSES:
            writer.writerow([name.replace(" ", "_"), name])
    for name in CLASSES:
        folder = shapes / name.replace(" ", "_")
        folder.mkdir()
        colour, shape = name.split()
        for i in range(PER_CLASS):
            img, info = picture(rng, colour, shape)
            save(img, info, folder / f"{i:02d}")
    whole = (shapes / "red_circle").glob("*.jpg")
    jpeg = next(iter(sorted(whole)), None)
    if jpeg is None:
        img, info = picture(rng, "red", "circle")
        jpeg = save(img, {**info, "format": "jpeg"}, shapes / "red_circle" / "05")
    (shapes / "red_circle" / "corrupt.jpg").write_bytes(jpeg.read_bytes()[:600])

    captioned = OUT / "captioned"
    shutil.rmtree(captioned, ignore_errors=True)
    captioned.mkdir(parents=True)
    rows = []
    for i, name in enumerate(CAPTIONED):
        colour, shape = name.split()
        img, info = picture(rng, colour, shape)
        path = save(img, info, captioned / f"{i:02d}_{name.replace(' ', '_')}")
        rows.append([f"captioned/{path.name}", f"{'an' if name[0] in 'aeiou' else 'a'} {name}"])
    with open(OUT / "captions.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["path", "caption"])
        writer.writerows(rows)

    example_rng = random.Random(48)
    example = OUT / "shapes48"
    shutil.rmtree(example, ignore_errors=True)
    for colour in COLOURS:
        for shape in SHAPES:
            folder = example / f"{colour} {shape}"
            folder.mkdir(parents=True)
            for i in range(4):
                img, _ = picture(example_rng, colour, shape)
                scale = 96 / min(img.size)
                if scale < 1:
                    img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.LANCZOS)
                img.save(folder / f"{i}.jpg", "JPEG", quality=85)


if __name__ == "__main__":
    main()
