#!/usr/bin/python3
"""The default model (models/clip-shapes) on pictures from a generator of its own, through the running service.

  dotnet run --project src/ClipService &                  # the service on the default model, port 8080
  /usr/bin/python3 tools/evaluate_default_model.py [--per-class 40] [--url http://localhost:8080] [--out report.json]

The pictures are drawn here with PIL's ImageDraw, independently of tools/clipkit/shapes.py (the training renderer):
its own colour shades, backgrounds (flat, two-tone, gradient, noise), sizes, rotations, outline-only shapes and JPEG.
Each is classified against the 48 "colour shape" labels with POST /classify (the path users hit, the service's
exact preprocessing), and the script reports per-class recall, the commonest confusions and, for the weakest
classes, recall split by the picture's attributes (background brightness, shape size, outline), to say why.
"""
from __future__ import annotations

import argparse
import collections
import io
import json
import math
import random
import urllib.request
import uuid

from PIL import Image, ImageDraw, ImageFilter

COLOURS = {  # name: a few RGB shades, light to dark, chosen here
    "red": [(220, 30, 30), (170, 10, 20), (255, 70, 60)],
    "green": [(40, 170, 60), (20, 110, 40), (110, 210, 90)],
    "blue": [(40, 80, 220), (20, 40, 150), (80, 140, 255)],
    "yellow": [(245, 220, 30), (255, 240, 90), (220, 200, 20)],
    "orange": [(255, 140, 20), (240, 110, 10), (255, 165, 60)],
    "purple": [(130, 40, 170), (90, 20, 130), (170, 90, 210)],
    "black": [(10, 10, 10), (35, 35, 40), (0, 0, 0)],
    "white": [(250, 250, 250), (230, 230, 235), (255, 255, 255)],
}
SHAPES = ["circle", "square", "triangle", "star", "cross", "ring"]


def polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    def at(radius: float, a: float) -> tuple[float, float]:
        return cx + radius * math.cos(a + angle), cy + radius * math.sin(a + angle)

    if shape == "square":
        return [at(r, math.pi / 4 + k * math.pi / 2) for k in range(4)]
    if shape == "triangle":
        return [at(r, -math.pi / 2 + k * 2 * math.pi / 3) for k in range(3)]
    if shape == "star":
        return [at(r if k % 2 == 0 else r * 0.42, -math.pi / 2 + k * math.pi / 5) for k in range(10)]
    if shape == "cross":
        w = r * 0.33
        points = [(w, r), (w, w), (r, w), (r, -w), (w, -w), (w, -r), (-w, -r), (-w, -w), (-r, -w), (-r, w), (-w, w), (-w, r)]
        return [at(math.hypot(x, y), math.atan2(y, x)) for x, y in points]
    raise ValueError(shape)


def background(rng: random.Random, size: int, kind: str) -> Image.Image:
    level = rng.randint(0, 255)
    base = tuple(max(0, min(255, level + rng.randint(-40, 40))) for _ in range(3))
    image = Image.new("RGB", (size, size), base)
    draw = ImageDraw.Draw(image)
    if kind == "two-tone":
        other = tuple(rng.randint(0, 255) for _ in range(3))
        draw.rectangle([0, 0, size, rng.randint(size // 3, 2 * size // 3)], fill=other)
    elif kind == "gradient":
        for y in range(size):
            t = y / size
            draw.line([(0, y), (size, y)], fill=tuple(int(b * (1 - t) + (255 - b) * t) for b in base))
    elif kind == "noise":
        image = Image.effect_noise((size, size), rng.uniform(20, 60)).convert("RGB")
        image = Image.blend(image, Image.new("RGB", (size, size), base), 0.6)
    return image


def render(rng: random.Random, colour: str, shape: str) -> tuple[bytes, dict]:
    size = rng.choice([64, 96, 160, 224])
    kind = rng.choice(["flat", "two-tone", "gradient", "noise"])
    image = background(rng, size, kind)
    draw = ImageDraw.Draw(image)
    fill = rng.choice(COLOURS[colour])
    scale = rng.uniform(0.22, 0.45)
    r = size * scale
    cx, cy = size / 2 + rng.uniform(-0.1, 0.1) * size, size / 2 + rng.uniform(-0.1, 0.1) * size
    # An outlined circle is a ring: only the polygons are drawn outlined.
    outline = shape not in ("circle", "ring") and rng.random() < 0.2
    width = max(2, int(r * 0.18))
    if shape in ("circle", "ring"):
        box = [cx - r, cy - r, cx + r, cy + r]
        if shape == "ring":
            draw.ellipse(box, outline=fill, width=max(3, int(r * 0.3)))
        elif outline:
            draw.ellipse(box, outline=fill, width=width)
        else:
            draw.ellipse(box, fill=fill)
    else:
        points = polygon(shape, cx, cy, r, rng.uniform(-0.35, 0.35))
        if outline:
            draw.line(points + [points[0]], fill=fill, width=width, joint="curve")
        else:
            draw.polygon(points, fill=fill)
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    out = io.BytesIO()
    if rng.random() < 0.5:
        image.save(out, "JPEG", quality=rng.randint(60, 95))
    else:
        image.save(out, "PNG")
    brightness = sum(image.resize((1, 1)).getpixel((0, 0))) / 3
    return out.getvalue(), {"background": kind, "brightness": "dark" if brightness < 85 else "mid" if brightness < 170 else "light",
                            "size": "small" if scale < 0.3 else "large", "outline": outline}


def classify(url: str, image: bytes, labels: list[str]) -> str:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="x"\r\n\r\n'.encode() + image + b"\r\n"]
    parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="labels"\r\n\r\n{label}\r\n'.encode() for label in labels]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(url + "/classify", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["labels"][0]["label"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:8080")
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--out", help="write the report as JSON here")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    labels = [f"{c} {s}" for c in COLOURS for s in SHAPES]
    hits, confusions = collections.Counter(), collections.Counter()
    by_attribute = collections.defaultdict(lambda: [0, 0])
    for label in labels:
        colour, shape = label.split(" ")
        for _ in range(args.per_class):
            image, attributes = render(rng, colour, shape)
            predicted = classify(args.url, image, labels)
            right = predicted == label
            hits[label] += right
            if not right:
                confusions[f"{label} -> {predicted}"] += 1
            for key, value in attributes.items():
                cell = by_attribute[(label, key, str(value))]
                cell[0] += right
                cell[1] += 1
    recall = {label: hits[label] / args.per_class for label in labels}
    weakest = sorted(recall, key=recall.get)[:5]
    report = {
        "images": len(labels) * args.per_class,
        "top1": sum(hits.values()) / (len(labels) * args.per_class),
        "weakest": {label: recall[label] for label in weakest},
        "below_0_9": [label for label in labels if recall[label] < 0.9],
        "confusions": dict(confusions.most_common(10)),
        "weakest_by_attribute": {label: {f"{k}={v}": f"{h}/{n}" for (l, k, v), (h, n) in sorted(by_attribute.items()) if l == label}
                                 for label in weakest},
        "recall": recall,
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
