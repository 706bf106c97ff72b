"""Procedural coloured-shape pictures for training the default model.

One shape of a named colour per picture, drawn as varied as pictures from users and other renderers are:
colours sampled from an HSV range per colour name (dark and light shades, black and white), anti-aliased
shapes (PIL polygons on a supersampled mask) with soft shading, outline-only shapes, thick and thin rings,
crosses of different arm widths, stars of different depths, drop shadows, textured backgrounds kept far from
the shape's colour (gradients, radial, smoothed noise, low-contrast stripes and checks, paper grain), blur,
sensor noise and JPEG, on canvases of 48-640 px and aspect up to 1.8:1 with the shape in the central square.

The test suite's generator (tests/Shared/VariedShapeImageGenerator.cs) is written separately: another
rasteriser (analytic coverage), another random number generator, its own colour ranges and backgrounds.
"""
from __future__ import annotations

import colorsys
import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

COLOURS = ("red", "green", "blue", "yellow", "orange", "purple", "black", "white")
SHAPES = ("circle", "square", "triangle", "star", "cross", "ring")
# The held-out experiment (train_default_model.py --hold-out) never renders these pairs.
HELD_OUT = {("purple", "star"), ("orange", "ring"), ("green", "triangle")}

# Hue in degrees (may wrap below 0), saturation and value ranges per colour name; wide enough to cover
# dark and light shades, narrow enough that neighbouring names do not overlap.
HSV_RANGES = {
    "red": ((-12.0, 6.0), (0.50, 1.0), (0.38, 1.0)),
    "orange": ((20.0, 40.0), (0.70, 1.0), (0.78, 1.0)),
    "yellow": ((43.0, 63.0), (0.50, 1.0), (0.78, 1.0)),
    "green": ((82.0, 158.0), (0.42, 1.0), (0.28, 0.95)),
    "blue": ((198.0, 246.0), (0.45, 1.0), (0.33, 1.0)),
    "purple": ((260.0, 302.0), (0.35, 1.0), (0.28, 0.92)),
    "black": ((0.0, 360.0), (0.0, 0.6), (0.0, 0.17)),
    "white": ((0.0, 360.0), (0.0, 0.10), (0.90, 1.0)),
}


def sample_colour(rng: np.random.Generator, name: str) -> np.ndarray:
    (h0, h1), (s0, s1), (v0, v1) = HSV_RANGES[name]
    h = (rng.uniform(h0, h1) % 360.0) / 360.0
    r, g, b = colorsys.hsv_to_rgb(h, rng.uniform(s0, s1), rng.uniform(v0, v1))
    return np.array([r, g, b]) * 255.0


def _hsv(c: np.ndarray) -> tuple[float, float, float]:
    return colorsys.rgb_to_hsv(*(np.clip(c, 0, 255) / 255.0))


def far_from(fg: np.ndarray, c: np.ndarray) -> bool:
    """A background colour that no one would call by the shape's colour name."""
    if np.linalg.norm(c - fg) < 95.0:
        return False
    hf, sf, vf = _hsv(fg)
    hc, sc, vc = _hsv(c)
    if sf > 0.3 and vf > 0.3 and sc > 0.3 and vc > 0.3:
        dh = abs(hf - hc) * 360.0
        return min(dh, 360.0 - dh) >= 40.0
    return True


def background_colour(rng: np.random.Generator, fg: np.ndarray) -> np.ndarray:
    while True:
        kind = rng.random()
        if kind < 0.45:
            c = rng.uniform(0, 255, 3)
        elif kind < 0.8:  # pastel / muted, the commonest real backgrounds
            grey = rng.uniform(60, 250)
            c = np.clip(grey + rng.uniform(-35, 35, 3), 0, 255)
        else:  # a saturated colour from another colour name
            c = sample_colour(rng, COLOURS[rng.integers(len(COLOURS))])
        if far_from(fg, c):
            return c


def _resize_field(field: np.ndarray, width: int, height: int) -> np.ndarray:
    """Smoothly upsample a small float field (h, w) or (h, w, 3) to the canvas."""
    channels = field[..., None] if field.ndim == 2 else field
    out = np.empty((height, width, channels.shape[2]), dtype=np.float32)
    for k in range(channels.shape[2]):
        img = Image.fromarray(channels[..., k].astype(np.float32), mode="F")
        out[..., k] = np.asarray(img.resize((width, height), Image.BICUBIC))
    return out if field.ndim == 3 else out[..., 0]


def background(rng: np.random.Generator, fg: np.ndarray, width: int, height: int) -> np.ndarray:
    kind = rng.integers(0, 8)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    xs = (xs + 0.5) / width - 0.5
    ys = (ys + 0.5) / height - 0.5
    c1 = background_colour(rng, fg)
    if kind == 0:
        image = np.broadcast_to(c1.astype(np.float32), (height, width, 3)).copy()
    elif kind == 1:
        c2 = background_colour(rng, fg)
        angle = rng.uniform(0, 2 * math.pi)
        t = np.clip(xs * math.cos(angle) + ys * math.sin(angle) + 0.5, 0, 1)[..., None]
        image = c1 * (1 - t) + c2 * t
    elif kind == 2:
        c2 = background_colour(rng, fg)
        ox, oy = rng.uniform(-0.4, 0.4, 2)
        t = np.clip(np.sqrt((xs - ox) ** 2 + (ys - oy) ** 2) / rng.uniform(0.4, 0.9), 0, 1)[..., None]
        image = c1 * (1 - t) + c2 * t
    elif kind == 3:
        cells = int(rng.integers(2, 10))
        grid = rng.uniform(-1, 1, (cells, cells, 3 if rng.random() < 0.5 else 1)).astype(np.float32)
        field = _resize_field(grid, width, height)
        if field.ndim == 2:
            field = field[..., None]
        image = c1 + field * rng.uniform(15, 45)
    elif kind in (4, 5):
        period = rng.uniform(3, 40) * max(1.0, min(width, height) / 160)
        angle = rng.uniform(0, math.pi)
        px = xs * width
        py = ys * height
        contrast = rng.uniform(8, 45)
        if kind == 4:
            phase = (px * math.cos(angle) + py * math.sin(angle)) / period
            t = np.sign(np.sin(2 * math.pi * phase)) if rng.random() < 0.5 else np.sin(2 * math.pi * phase)
        else:
            u = (px * math.cos(angle) + py * math.sin(angle)) / period
            v = (-px * math.sin(angle) + py * math.cos(angle)) / period
            t = np.where((np.floor(u) + np.floor(v)) % 2 == 0, 1.0, -1.0)
        image = c1 + (t * contrast)[..., None]
    elif kind == 7:  # two surfaces meeting at a straight edge (a horizon, a table's edge, a wall's corner)
        c2 = background_colour(rng, fg)
        angle = rng.uniform(0, 2 * math.pi)
        offset = rng.uniform(-0.35, 0.35)
        softness = rng.uniform(0.3, 3.0) / min(width, height)
        t = np.clip((xs * math.cos(angle) + ys * math.sin(angle) - offset) / softness + 0.5, 0, 1)[..., None]
        image = c1 * (1 - t) + c2 * t
    else:  # paper grain: a light, slightly uneven sheet with fine grain
        paper = np.clip(rng.uniform(200, 250) + rng.uniform(-15, 10, 3), 0, 255)
        base = paper if far_from(fg, paper) else c1
        low = _resize_field(rng.uniform(-1, 1, (4, 4)).astype(np.float32), width, height)
        image = base + (low * rng.uniform(4, 12))[..., None] + rng.normal(0, rng.uniform(3, 9), (height, width, 1))
    if rng.random() < 0.3:
        image = image + rng.normal(0, rng.uniform(2, 6), (height, width, 1))
    return image.astype(np.float32)


def _star(points: int, inner: float) -> list[tuple[float, float]]:
    out = []
    for k in range(2 * points):
        r = 1.0 if k % 2 == 0 else inner
        a = -math.pi / 2 + k * math.pi / points
        out.append((r * math.cos(a), r * math.sin(a)))
    return out


def _triangle_angles(poly: list[tuple[float, float]]) -> list[float]:
    out = []
    for k in range(3):
        (ax, ay), (bx, by), (cx, cy) = poly[k], poly[(k + 1) % 3], poly[(k + 2) % 3]
        u, v = (bx - ax, by - ay), (cx - ax, cy - ay)
        cos = (u[0] * v[0] + u[1] * v[1]) / max(1e-9, math.hypot(*u) * math.hypot(*v))
        out.append(math.degrees(math.acos(max(-1.0, min(1.0, cos)))))
    return out


def _general_triangle(rng: np.random.Generator) -> list[tuple[float, float]]:
    """Isosceles, right-angled, obtuse and scalene triangles (every angle 22-125 degrees): a base and an apex
    anywhere above it, scaled so that its farthest vertex from the bounding-box centre is at radius 1."""
    while True:
        apex_x = rng.uniform(-1.3, 1.3) if rng.random() < 0.6 else 0.0  # 40% isosceles
        height = math.exp(rng.uniform(math.log(0.45), math.log(3.6)))
        poly = [(-1.0, 0.0), (1.0, 0.0), (apex_x, -height)]
        angles = _triangle_angles(poly)
        if min(angles) >= 22.0 and max(angles) <= 125.0:
            break
    xs, ys = [p[0] for p in poly], [p[1] for p in poly]
    mx, my = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    far = max(math.hypot(x - mx, y - my) for x, y in poly)
    return [((x - mx) / far, (y - my) / far) for x, y in poly]


def outline(rng: np.random.Generator, shape: str) -> tuple[list[tuple[float, float]] | None, dict]:
    """The shape's polygon in units of its radius (None for round shapes) and its drawing parameters."""
    params: dict = {}
    if shape == "square":
        h = 0.75
        poly = [(-h, -h), (h, -h), (h, h), (-h, h)]
    elif shape == "triangle":
        if rng.random() < 0.35:  # near-equilateral, slightly irregular
            poly = [(math.cos(a), math.sin(a)) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
            poly = [(x + rng.uniform(-0.07, 0.07), y + rng.uniform(-0.07, 0.07)) for x, y in poly]
        else:
            poly = _general_triangle(rng)
    elif shape == "star":
        poly = _star(5, rng.uniform(0.36, 0.56))
    elif shape == "cross":
        w = rng.uniform(0.17, 0.38)
        a = rng.uniform(0.85, 1.0)
        poly = [(-w, -a), (w, -a), (w, -w), (a, -w), (a, w), (w, w), (w, a), (-w, a), (-w, w), (-a, w), (-a, -w),
                (-w, -w)]
    else:
        poly = None
        if shape == "ring":
            params["inner"] = rng.uniform(0.35, 0.88)
    return poly, params


def shape_coverage(poly: list[tuple[float, float]] | None, params: dict, width: int, height: int, cx: float,
                   cy: float, radius: float, theta: float, hollow: float) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] (height, width): drawn on a supersampled mask and box-filtered."""
    ss = 4 if max(width, height) <= 320 else 2
    mask = Image.new("L", (width * ss, height * ss), 0)
    draw = ImageDraw.Draw(mask)
    x0, y0, r = cx * ss, cy * ss, radius * ss
    if poly is None:
        draw.ellipse((x0 - r, y0 - r, x0 + r, y0 + r), fill=255)
        inner = params.get("inner")
        if inner:
            ri = r * inner
            draw.ellipse((x0 - ri, y0 - ri, x0 + ri, y0 + ri), fill=0)
    else:
        c, s = math.cos(theta), math.sin(theta)
        pts = [(x0 + r * (x * c - y * s), y0 + r * (x * s + y * c)) for x, y in poly]
        if hollow:
            draw.line(pts + [pts[0], pts[1]], fill=255, width=max(1, int(round(hollow * r))), joint="curve")
        else:
            draw.polygon(pts, fill=255)
    return np.asarray(mask.reduce(ss), dtype=np.float32) / 255.0


def render(rng: np.random.Generator, colour: str, shape: str, width: int, height: int) -> Image.Image:
    fg = sample_colour(rng, colour)
    image = background(rng, fg, width, height)
    side = min(width, height)
    radius = rng.uniform(0.25, 0.85) * side / 2
    cx = width / 2 + rng.uniform(-1, 1) * (side / 2 - radius)
    cy = height / 2 + rng.uniform(-1, 1) * (side / 2 - radius)
    theta = rng.uniform(0, 2 * math.pi)
    hollow = rng.uniform(0.07, 0.24) if shape not in ("circle", "ring") and rng.random() < 0.3 else 0.0
    poly, params = outline(rng, shape)
    coverage = shape_coverage(poly, params, width, height, cx, cy, radius, theta, hollow)

    if rng.random() < 0.25:  # drop shadow: the same shape, offset, blurred, darkening the background
        offset = rng.uniform(0.04, 0.12) * radius
        angle = rng.uniform(0, 2 * math.pi)
        shadow = shape_coverage(poly, params, width, height, cx + offset * math.cos(angle),
                                cy + offset * math.sin(angle), radius, theta, hollow)
        blur = rng.uniform(0.02, 0.1) * radius
        shadow = Image.fromarray(np.rint(shadow * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(blur))
        shadow = np.asarray(shadow, dtype=np.float32) / 255.0
        image = image * (1 - rng.uniform(0.25, 0.6) * shadow)[..., None]

    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    shading = rng.uniform(0, 0.16)
    angle = rng.uniform(0, 2 * math.pi)
    t = ((xs - cx) * math.cos(angle) + (ys - cy) * math.sin(angle)) / max(radius, 1.0)
    if rng.random() < 0.4:  # a soft highlight instead of a linear light
        t = 1 - 2 * np.clip(np.sqrt((xs - cx + 0.3 * radius) ** 2 + (ys - cy + 0.3 * radius) ** 2) / (2 * radius), 0, 1)
    light = np.clip(1 + shading * t, 0.7, 1.3)[..., None]
    fg_field = np.clip(fg * light, 0, 255)
    if colour == "white":  # shading must not turn white grey
        fg_field = np.maximum(fg_field, 215)
    a = coverage[..., None]
    image = image * (1 - a) + fg_field * a

    if rng.random() < 0.35:
        image = image + rng.normal(0, rng.uniform(1.5, 9), image.shape if rng.random() < 0.5 else (height, width, 1))
    picture = Image.fromarray(np.clip(np.rint(image), 0, 255).astype(np.uint8))
    if rng.random() < 0.3:
        picture = picture.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.4)))
    if rng.random() < 0.08:  # a picture that was stored small and blown up
        small = (max(8, width // 3), max(8, height // 3))
        picture = picture.resize(small, Image.BILINEAR).resize((width, height), Image.BILINEAR)
    for _ in range(2):
        if rng.random() >= 0.55:
            break
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=int(rng.integers(50, 96)),
                     subsampling=int(rng.choice([0, 2])))
        picture = Image.open(io.BytesIO(buffer.getvalue()))
        picture.load()
    return picture


def random_size(rng: np.random.Generator, smallest: int, largest: int) -> tuple[int, int]:
    short = int(round(math.exp(rng.uniform(math.log(smallest), math.log(largest)))))
    if rng.random() < 0.4:
        return short, short
    long = int(round(short * rng.uniform(1.0, 1.8)))
    return (long, short) if rng.random() < 0.5 else (short, long)
