"""Procedural coloured-shape images for the default model.

Each image: one shape of a named colour, at a random size, position and rotation, on a plain, gradient or
noisy background. Shapes are analytic point sets, rasterised by testing each pixel centre, so the C# test
generator (tests/ClipService.Core.Tests/DefaultModel/ShapeImageGenerator.cs) draws the same geometry from
the same definitions without sharing any pixels with training.
"""
from __future__ import annotations

import math

import numpy as np

COLOURS = {
    "red": (220, 30, 30), "green": (30, 160, 50), "blue": (30, 60, 220), "yellow": (240, 220, 30),
    "orange": (245, 140, 20), "purple": (140, 40, 180), "black": (15, 15, 15), "white": (245, 245, 245),
}
SHAPES = ("circle", "square", "triangle", "star", "cross", "ring")
# Never rendered in training: their accuracy is the honest zero-shot figure.
HELD_OUT = {("purple", "star"), ("orange", "ring"), ("green", "triangle")}

COLOUR_JITTER = 20
MIN_BACKGROUND_DISTANCE = 110.0
STAR_INNER_RADIUS = 0.45
_STAR_INNER = (STAR_INNER_RADIUS * math.cos(math.radians(36)), STAR_INNER_RADIUS * math.sin(math.radians(36)))


def shape_mask(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Membership of points (u, v), in units of the shape's radius, centred on the shape."""
    if shape == "circle":
        return u * u + v * v <= 1.0
    if shape == "ring":
        r2 = u * u + v * v
        return (r2 <= 1.0) & (r2 >= 0.36)
    if shape == "square":
        return (np.abs(u) <= 0.75) & (np.abs(v) <= 0.75)
    if shape == "triangle":
        inside = np.ones_like(u, dtype=bool)
        for k in range(3):
            phi = math.radians(-90 + 120 * k)
            inside &= u * math.cos(phi) + v * math.sin(phi) <= 0.5
        return inside
    if shape == "cross":
        au, av = np.abs(u), np.abs(v)
        return ((au <= 0.3) & (av <= 0.9)) | ((au <= 0.9) & (av <= 0.3))
    if shape == "star":
        r = np.sqrt(u * u + v * v)
        a = np.arctan2(v, u) - math.pi / 2
        sector = math.radians(72)
        folded = np.abs(np.mod(a, sector) - sector / 2)
        px, py = r * np.cos(folded), r * np.sin(folded)
        ix, iy = _STAR_INNER
        return (ix - 1.0) * py - iy * (px - 1.0) >= 0.0
    raise ValueError(shape)


def _far_colour(rng: np.random.Generator, avoid: np.ndarray) -> np.ndarray:
    while True:
        c = rng.integers(0, 256, size=3).astype(np.float64)
        if np.linalg.norm(c - avoid) >= MIN_BACKGROUND_DISTANCE:
            return c


def render(rng: np.random.Generator, colour: str, shape: str, width: int, height: int) -> np.ndarray:
    """An RGB uint8 image (height, width, 3)."""
    fg = np.clip(np.array(COLOURS[colour], dtype=np.float64) + rng.integers(-COLOUR_JITTER, COLOUR_JITTER + 1, 3), 0, 255)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    ys += 0.5
    xs += 0.5
    kind = rng.integers(0, 3)
    if kind == 0:
        image = np.broadcast_to(_far_colour(rng, fg), (height, width, 3)).copy()
    elif kind == 1:
        c1, c2 = _far_colour(rng, fg), _far_colour(rng, fg)
        angle = rng.uniform(0, 2 * math.pi)
        t = (xs / width - 0.5) * math.cos(angle) + (ys / height - 0.5) * math.sin(angle)
        t = np.clip(t + 0.5, 0.0, 1.0)[..., None]
        image = c1 * (1 - t) + c2 * t
    else:
        amplitude = rng.uniform(10, 40)
        base = _far_colour(rng, fg)
        image = base + rng.uniform(-amplitude, amplitude, size=(height, width, 3))

    side = min(width, height)
    radius = rng.uniform(0.15, 0.40) * side
    cx = (width - side) / 2 + rng.uniform(radius, side - radius)
    cy = (height - side) / 2 + rng.uniform(radius, side - radius)
    theta = rng.uniform(0, 2 * math.pi)
    dx, dy = xs - cx, ys - cy
    u = (dx * math.cos(theta) + dy * math.sin(theta)) / radius
    v = (-dx * math.sin(theta) + dy * math.cos(theta)) / radius
    image[shape_mask(shape, u, v)] = fg
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def random_size(rng: np.random.Generator, smallest: int, largest: int) -> tuple[int, int]:
    short = int(round(math.exp(rng.uniform(math.log(smallest), math.log(largest)))))
    if rng.random() < 0.5:
        return short, short
    long = int(round(short * rng.uniform(1.0, 1.8)))
    return (long, short) if rng.random() < 0.5 else (short, long)
