"""A second, independent generator of the 48 colour x shape pictures, for evaluating the default model.

Written apart from the training renderer (tools/clipkit/shapes.py) and different from it in each respect:

- random numbers: Python's `random.Random` (Mersenne Twister), not NumPy's PCG64;
- colours: anchored on named CSS / Material palette colours that people call by that name, jittered in RGB
  (not sampled from an HSV box); black includes the near-blacks of dark themes (#121212, #0D1117, ...);
- backgrounds drawn with PIL ImageDraw: flat, banded gradients, stripes, polka dots, tiles, blurred blobs, a
  horizon split; any lightness as long as the background is far from the shape's colour (RGB distance >= 100
  and, for two saturated colours, >= 35 degrees of hue), so dark grey and navy backgrounds behind black shapes
  occur here (the training renderer keeps >= 120);
- shapes: ImageDraw polygons on a 3x (or 2x) canvas reduced with Lanczos; triangles equilateral, isosceles
  (apex 35-110 degrees), right-angled or scalene (angles 25-120 degrees); squares sometimes with rounded
  corners; rings of width 0.15-0.45 of the radius; crosses with arms 0.36-0.8 of their length wide;
  10% of the polygons outlined only;
- finish: a vertical light gradient on the shape, a box-blurred shadow, PIL's effect_noise grain, box blur,
  downscale-upscale, and JPEG (quality 45-95), WebP (60-95) or PNG;
- canvases of 56-512 px, aspect up to 1.5:1, the shape 30-80% of the short side inside the central square.

`picture(rng, colour, shape)` returns the PIL image and a dict describing it (background lightness around the
shape, triangle kind and smallest angle, size, outline, format) for the evaluation's breakdowns.
"""
from __future__ import annotations

import colorsys
import io
import math
import random

from PIL import Image, ImageDraw, ImageFilter

COLOURS = ("red", "green", "blue", "yellow", "orange", "purple", "black", "white")
SHAPES = ("circle", "square", "triangle", "star", "cross", "ring")

PALETTE = {
    "red": ("#FF0000", "#DC143C", "#B22222", "#E53935", "#D32F2F", "#C62828", "#F44336", "#CC0000", "#A50F15"),
    "orange": ("#FF8C00", "#FB8C00", "#F57C00", "#FF9800", "#FF7F00", "#E67E22", "#EF6C00", "#FFA000"),
    "yellow": ("#FFFF00", "#FFD700", "#FFEB3B", "#FDD835", "#F1C40F", "#FFE135", "#FFF176", "#FBC02D"),
    "green": ("#008000", "#00A000", "#228B22", "#2E7D32", "#4CAF50", "#32CD32", "#2E8B57", "#00C853", "#27AE60",
              "#1B5E20"),
    "blue": ("#0000FF", "#1E88E5", "#4169E1", "#1565C0", "#0000CD", "#2962FF", "#1E90FF", "#000080", "#0D47A1"),
    "purple": ("#800080", "#8E24AA", "#6A1B9A", "#663399", "#9C27B0", "#9400D3", "#7B1FA2", "#8A2BE2", "#4A148C"),
    "black": ("#000000", "#0A0A0A", "#111111", "#161616", "#1B1B1B", "#101418", "#14100C", "#0D1117", "#1A1A1D",
              "#121212", "#0B0F0B"),
    "white": ("#FFFFFF", "#FAFAFA", "#F5F5F5", "#FFFFF0", "#F8F8FF", "#FFFAFA", "#F0F0F0", "#FDFDFD", "#F4F6F6"),
}

# Background colours: a mixed pool drawn from (name, generator) kinds.
NAMED_BACKGROUNDS = ("#808080", "#A9A9A9", "#D3D3D3", "#696969", "#4F4F4F", "#5D5348", "#2F4F4F", "#708090",
                     "#F5F5DC", "#FFE4C4", "#E0FFFF", "#B0C4DE", "#8B4513", "#A0522D", "#D2B48C", "#BC8F8F",
                     "#20B2AA", "#5F9EA0", "#FFC0CB", "#DDA0DD", "#87CEEB", "#98FB98", "#F0E68C", "#E6E6FA",
                     "#191970", "#3B3B58", "#556B2F", "#800000", "#483D8B", "#36454F")


def _hex(value: str) -> tuple[int, int, int]:
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def _clamp(v: float) -> int:
    return max(0, min(255, int(round(v))))


def shape_colour(rng: random.Random, name: str) -> tuple[int, int, int]:
    base = _hex(rng.choice(PALETTE[name]))
    j = 6 if name in ("black", "white") else 12
    return tuple(_clamp(c + rng.uniform(-j, j)) for c in base)


def _hsv(rgb) -> tuple[float, float, float]:
    return colorsys.rgb_to_hsv(*(c / 255.0 for c in rgb))


def lightness(rgb) -> float:
    """Relative luminance (Rec. 709 weights on gamma-encoded values, 0-1)."""
    r, g, b = rgb
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255.0


def distinct(fg, bg) -> bool:
    if math.dist(fg, bg) < 100.0:
        return False
    hf, sf, vf = _hsv(fg)
    hb, sb, vb = _hsv(bg)
    if sf > 0.35 and vf > 0.35 and sb > 0.35 and vb > 0.35:
        d = abs(hf - hb) * 360.0
        return min(d, 360.0 - d) >= 35.0
    return True


def background_colour(rng: random.Random, fg) -> tuple[int, int, int]:
    while True:
        k = rng.random()
        if k < 0.3:
            c = tuple(rng.randrange(256) for _ in range(3))
        elif k < 0.55:
            g = rng.uniform(40, 250)
            c = tuple(_clamp(g + rng.uniform(-12, 12)) for _ in range(3))
        elif k < 0.8:
            c = tuple(_clamp(v + rng.uniform(-15, 15)) for v in _hex(rng.choice(NAMED_BACKGROUNDS)))
        else:
            c = shape_colour(rng, rng.choice(COLOURS))
        if distinct(fg, c):
            return c


def _mix(a, b, t: float):
    return tuple(_clamp(x + (y - x) * t) for x, y in zip(a, b))


def draw_background(rng: random.Random, fg, w: int, h: int) -> tuple[Image.Image, str]:
    c1 = background_colour(rng, fg)
    c2 = background_colour(rng, fg)
    kind = rng.choice(("flat", "flat", "gradient", "stripes", "dots", "tiles", "blobs", "horizon"))
    img = Image.new("RGB", (w, h), c1)
    d = ImageDraw.Draw(img)
    if kind == "gradient":
        bands = rng.randint(8, 64)
        vertical = rng.random() < 0.5
        n = h if vertical else w
        for i in range(bands):
            col = _mix(c1, c2, i / max(1, bands - 1))
            a, b = n * i // bands, n * (i + 1) // bands
            d.rectangle((0, a, w, b) if vertical else (a, 0, b, h), fill=col)
        img = img.filter(ImageFilter.BoxBlur(max(1, n // (2 * bands))))
    elif kind == "stripes":
        soft = _mix(c1, c2, rng.uniform(0.15, 0.4))
        step = rng.uniform(6, 40) * max(1.0, min(w, h) / 200)
        width = step * rng.uniform(0.25, 0.6)
        diag = w + h
        x = -diag
        slope = rng.uniform(-1.5, 1.5)
        while x < diag:
            d.polygon([(x, 0), (x + width, 0), (x + width + slope * h, h), (x + slope * h, h)], fill=soft)
            x += step
    elif kind == "dots":
        soft = _mix(c1, c2, rng.uniform(0.2, 0.5))
        step = rng.uniform(8, 36) * max(1.0, min(w, h) / 200)
        r = step * rng.uniform(0.12, 0.35)
        y, row = 0.0, 0
        while y < h + step:
            x = (step / 2) * (row % 2)
            while x < w + step:
                d.ellipse((x - r, y - r, x + r, y + r), fill=soft)
                x += step
            y += step
            row += 1
    elif kind == "tiles":
        soft = _mix(c1, c2, rng.uniform(0.1, 0.3))
        step = int(rng.uniform(10, 50) * max(1.0, min(w, h) / 200))
        for i in range(0, w + step, step):
            for j in range(0, h + step, step):
                if (i // step + j // step) % 2:
                    d.rectangle((i, j, i + step - 1, j + step - 1), fill=soft)
        if rng.random() < 0.5:
            for i in range(0, w, step):
                d.line((i, 0, i, h), fill=_mix(c1, (0, 0, 0) if lightness(c1) > 0.5 else (255, 255, 255), 0.15))
    elif kind == "blobs":
        for _ in range(rng.randint(3, 9)):
            r = rng.uniform(0.1, 0.4) * min(w, h)
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            d.ellipse((x - r, y - r, x + r, y + r), fill=_mix(c1, c2, rng.uniform(0.3, 1.0)))
        img = img.filter(ImageFilter.GaussianBlur(min(w, h) * rng.uniform(0.04, 0.1)))
    elif kind == "horizon":
        y = rng.uniform(0.55, 0.85) * h
        d.rectangle((0, y, w, h), fill=c2)
        img = img.filter(ImageFilter.BoxBlur(rng.uniform(1, 4)))
    return img, kind


def triangle_points(rng: random.Random) -> tuple[list[tuple[float, float]], str, float]:
    """Unit-size triangle (centred on its bounding circle's centre), its kind and smallest angle in degrees."""
    kind = rng.choice(("equilateral", "isosceles", "right", "scalene"))
    while True:
        if kind == "equilateral":
            angles = (60.0, 60.0, 60.0)
        elif kind == "isosceles":
            apex = rng.uniform(35, 110)
            angles = (apex, (180 - apex) / 2, (180 - apex) / 2)
        elif kind == "right":
            a = rng.uniform(30, 60)
            angles = (90.0, a, 90.0 - a)
        else:
            a = rng.uniform(25, 100)
            b = rng.uniform(25, 155 - a)
            angles = (a, b, 180 - a - b)
        if min(angles) >= 25 and max(angles) <= 120:
            break
    # vertices on the unit circumcircle: the central angle opposite a vertex's angle A spans 2A
    a0 = rng.uniform(0, 2 * math.pi)
    A, B, C = (math.radians(x) for x in angles)
    pts_angles = (a0, a0 + 2 * C, a0 + 2 * C + 2 * A)
    pts = [(math.cos(t), math.sin(t)) for t in pts_angles]
    # recentre on the bounding box so that thin triangles stay in the frame
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    ext = max(max(xs) - min(xs), max(ys) - min(ys)) / 2
    return [((x - cx) / ext, (y - cy) / ext) for x, y in pts], kind, min(angles)


def shape_mask(rng: random.Random, shape: str, size: tuple[int, int], centre: tuple[float, float],
               radius: float, info: dict) -> Image.Image:
    ss = 3 if max(size) <= 300 else 2
    W, H = size[0] * ss, size[1] * ss
    cx, cy, r = centre[0] * ss, centre[1] * ss, radius * ss
    m = Image.new("L", (W, H), 0)
    d = ImageDraw.Draw(m)
    rot = rng.uniform(0, 2 * math.pi)

    def place(points):
        c, s = math.cos(rot), math.sin(rot)
        return [(cx + r * (x * c - y * s), cy + r * (x * s + y * c)) for x, y in points]

    outline = shape in ("square", "triangle", "star") and rng.random() < 0.1
    info["outline"] = outline
    stroke = max(2, int(r * rng.uniform(0.12, 0.22)))
    if shape == "circle":
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
    elif shape == "ring":
        width = rng.uniform(0.15, 0.45)
        info["ring_width"] = width
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
        ri = r * (1 - width)
        d.ellipse((cx - ri, cy - ri, cx + ri, cy + ri), fill=0)
    elif shape == "square":
        h = 0.72
        if not outline and rng.random() < 0.25:  # rounded corners: drawn upright on a tile, then rotated
            tile = Image.new("L", (int(2 * r) + 4, int(2 * r) + 4), 0)
            td = ImageDraw.Draw(tile)
            o = r * (1 - h)
            td.rounded_rectangle((o + 2, o + 2, 2 * r - o + 2, 2 * r - o + 2), radius=r * rng.uniform(0.08, 0.25),
                                 fill=255)
            tile = tile.rotate(math.degrees(rot), resample=Image.BICUBIC)
            m.paste(255, (int(cx - r - 2), int(cy - r - 2)), tile)
        else:
            pts = place([(-h, -h), (h, -h), (h, h), (-h, h)])
            d.polygon(pts, fill=255) if not outline else d.line(pts + pts[:2], fill=255, width=stroke, joint="curve")
    elif shape == "triangle":
        unit, kind, smallest = triangle_points(rng)
        info["triangle_kind"], info["triangle_min_angle"] = kind, smallest
        pts = place(unit)
        d.polygon(pts, fill=255) if not outline else d.line(pts + pts[:2], fill=255, width=stroke, joint="curve")
    elif shape == "star":
        inner = rng.uniform(0.38, 0.52)
        unit = [((1.0 if k % 2 == 0 else inner) * math.cos(math.pi * k / 5 - math.pi / 2),
                 (1.0 if k % 2 == 0 else inner) * math.sin(math.pi * k / 5 - math.pi / 2)) for k in range(10)]
        pts = place(unit)
        d.polygon(pts, fill=255) if not outline else d.line(pts + pts[:2], fill=255, width=stroke, joint="curve")
    elif shape == "cross":
        arm = rng.uniform(0.18, 0.4)
        info["cross_arm"] = arm
        length = rng.uniform(0.85, 1.0)
        for rect in (((-arm, -length), (arm, -length), (arm, length), (-arm, length)),
                     ((-length, -arm), (length, -arm), (length, arm), (-length, arm))):
            d.polygon(place(rect), fill=255)
    return m.resize(size, Image.LANCZOS)


def picture(rng: random.Random, colour: str, shape: str) -> tuple[Image.Image, dict]:
    short = int(round(math.exp(rng.uniform(math.log(56), math.log(512)))))
    long = short if rng.random() < 0.35 else int(round(short * rng.uniform(1.0, 1.5)))
    w, h = (long, short) if rng.random() < 0.5 else (short, long)
    fg = shape_colour(rng, colour)
    img, bg_kind = draw_background(rng, fg, w, h)
    radius = rng.uniform(0.15, 0.40) * short
    cx = w / 2 + rng.uniform(-1, 1) * (short / 2 - radius)
    cy = h / 2 + rng.uniform(-1, 1) * (short / 2 - radius)
    info: dict = {"colour": colour, "shape": shape, "size": (w, h), "fill_rgb": fg, "background_kind": bg_kind,
                  "shape_fraction": 2 * radius / short}
    # background lightness in a box around the shape, before the shape is drawn
    box = (max(0, int(cx - 1.3 * radius)), max(0, int(cy - 1.3 * radius)),
           min(w, int(cx + 1.3 * radius) + 1), min(h, int(cy + 1.3 * radius) + 1))
    stats = img.crop(box).resize((16, 16), Image.BILINEAR).getdata()
    info["background_lightness"] = sum(lightness(p) for p in stats) / len(stats)
    mask = shape_mask(rng, shape, (w, h), (cx, cy), radius, info)

    if rng.random() < 0.2:  # a soft shadow
        off = radius * rng.uniform(0.05, 0.12)
        shadow = Image.new("L", (w, h), 0)
        shadow.paste(mask, (int(off), int(off)))
        shadow = shadow.filter(ImageFilter.BoxBlur(max(1, radius * 0.06))).point(lambda v: int(v * 0.45))
        img = Image.composite(Image.new("RGB", (w, h), (0, 0, 0)), img, shadow)
    fill = Image.new("RGB", (w, h), fg)
    if rng.random() < 0.5:  # vertical light gradient over the shape
        top = _mix(fg, (255, 255, 255), rng.uniform(0, 0.12)) if colour != "black" else fg
        bottom = _mix(fg, (0, 0, 0), rng.uniform(0, 0.15)) if colour != "white" else fg
        grad = Image.linear_gradient("L").resize((w, h))
        fill = Image.composite(Image.new("RGB", (w, h), bottom), Image.new("RGB", (w, h), top), grad)
    img = Image.composite(fill, img, mask)

    if rng.random() < 0.3:
        sigma = rng.uniform(4, 16)
        noise = Image.effect_noise((w, h), sigma)
        img = Image.blend(img, Image.merge("RGB", (noise, noise, noise)), rng.uniform(0.05, 0.15))
    if rng.random() < 0.25:
        img = img.filter(ImageFilter.BoxBlur(rng.uniform(0.4, 1.2)))
    if rng.random() < 0.07:
        img = img.resize((max(10, w // 3), max(10, h // 3)), Image.BOX).resize((w, h), Image.BICUBIC)
    f = rng.random()
    buf = io.BytesIO()
    if f < 0.5:
        info["format"] = "jpeg"
        img.save(buf, "JPEG", quality=rng.randint(45, 95))
    elif f < 0.7:
        info["format"] = "webp"
        img.save(buf, "WEBP", quality=rng.randint(60, 95))
    else:
        info["format"] = "png"
        img.save(buf, "PNG")
    out = Image.open(io.BytesIO(buf.getvalue()))
    out.load()
    return out.convert("RGB"), info
