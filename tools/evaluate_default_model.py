#!/usr/bin/python3
"""Evaluate the default model (or any model folder this tooling exported) on the independent generator.

  /usr/bin/python3 tools/evaluate_default_model.py                      # models/clip-shapes, seed 424242, 50 per pair
  /usr/bin/python3 tools/evaluate_default_model.py --model /tmp/v4 --json /tmp/v4.json
  /usr/bin/python3 tools/evaluate_default_model.py --focus "black triangle" --focus-extra 400

Pictures come from tools/independent_shapes.py (written apart from the training renderer), are preprocessed as
the service does (PIL bicubic to 64 on the short side, centre crop; tools/clipkit/preprocess.py) and classified
zero-shot with the model's own towers, loaded back from its ONNX files into PyTorch (onnxruntime is not a Debian
package): "a photo of a {colour} {shape}." over the 48 pairs, "a photo of a {colour}." over the colours and
"a photo of a {shape}." over the shapes. Prints per-class recall (8 x 6 table), the colour and shape accuracies,
each weak class's confusions and, for --focus (a class) and --focus-extra more pictures of it, recall broken down
by background lightness, background kind, triangle kind and smallest angle, size, outline and file format.
One thread.
"""
from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clipkit.export import OPENAI_MEAN, OPENAI_STD, load_exported  # noqa: E402
from clipkit.model import Clip, ClipConfig  # noqa: E402
from clipkit.preprocess import resized_and_cropped  # noqa: E402
from clipkit.tokenizer import AsciiClipTokenizer  # noqa: E402
from independent_shapes import COLOURS, SHAPES, picture  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PAIRS = [f"{c} {s}" for c in COLOURS for s in SHAPES]


def load_model(folder: Path) -> Clip:
    cfg = json.loads((folder / "config.json").read_text())
    v, t = cfg["vision_config"], cfg["text_config"]
    config = ClipConfig(embed_dim=cfg["projection_dim"], image_size=v["image_size"], patch_size=v["patch_size"],
                        vision_width=v["hidden_size"], vision_layers=v["num_hidden_layers"],
                        vision_heads=v["num_attention_heads"], context_length=t["max_position_embeddings"],
                        vocab_size=t["vocab_size"], text_width=t["hidden_size"], text_layers=t["num_hidden_layers"],
                        text_heads=t["num_attention_heads"], mlp_ratio=v["intermediate_size"] // v["hidden_size"])
    clip = Clip(config)
    load_exported(clip, folder)
    return clip.eval()


def render(seed: int, labels: list[str], per_label: int, size: int) -> tuple[np.ndarray, list[dict]]:
    rng = random.Random(seed)
    pixels = np.empty((len(labels) * per_label, size, size, 3), dtype=np.uint8)
    infos = []
    for i in range(len(labels) * per_label):
        colour, shape = labels[i % len(labels)].split()
        image, info = picture(rng, colour, shape)
        pixels[i] = np.asarray(resized_and_cropped(image, size, size))
        infos.append(info)
    return pixels, infos


@torch.no_grad()
def classify(clip: Clip, tokenizer: AsciiClipTokenizer, pixels: np.ndarray) -> dict[str, np.ndarray]:
    def text(labels):
        rows = [[49406] + tokenizer.encode(f"a photo of a {label}.") + [49407] for label in labels]
        n = max(map(len, rows))
        ids = torch.full((len(rows), n), 49407, dtype=torch.int64)
        mask = torch.zeros_like(ids)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r)
            mask[i, :len(r)] = 1
        return F.normalize(clip.encode_text(ids, mask), dim=-1)

    x = torch.from_numpy(pixels).float().div_(255.0)
    x = ((x - torch.tensor(OPENAI_MEAN)) / torch.tensor(OPENAI_STD)).permute(0, 3, 1, 2).contiguous()
    emb = torch.cat([F.normalize(clip.encode_image(x[i:i + 256]), dim=-1) for i in range(0, len(x), 256)])
    return {name: (emb @ text(labels).t()).argmax(dim=1).numpy()
            for name, labels in (("pair", PAIRS), ("colour", COLOURS), ("shape", SHAPES))}


def breakdown(hits: np.ndarray, infos: list[dict], key, bins=None) -> dict[str, str]:
    groups: dict[str, list[bool]] = collections.defaultdict(list)
    for hit, info in zip(hits, infos):
        value = key(info)
        if value is None:
            continue
        if bins is not None:
            value = next(f"{lo:g}-{hi:g}" for lo, hi in bins if lo <= value < hi)
        groups[str(value)].append(bool(hit))
    order = [f"{lo:g}-{hi:g}" for lo, hi in bins] if bins else sorted(groups)
    return {k: f"{sum(groups[k])}/{len(groups[k])} ({np.mean(groups[k]):.0%})" for k in order if k in groups}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "clip-shapes")
    parser.add_argument("--seed", type=int, default=424242)
    parser.add_argument("--per-pair", type=int, default=50)
    parser.add_argument("--focus", default="black triangle", help="a class to break down (and --focus-extra of)")
    parser.add_argument("--focus-extra", type=int, default=0, help="this many more pictures of --focus (seed + 1)")
    parser.add_argument("--tokenizer-dir", type=Path, default=REPO.parent / "shared" / "clip-tokenizer")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.time()
    clip = load_model(args.model)
    tokenizer = AsciiClipTokenizer(args.tokenizer_dir / "vocab.json", args.tokenizer_dir / "merges.txt")
    size = clip.config.image_size

    pixels, infos = render(args.seed, PAIRS, args.per_pair, size)
    rendered = time.time() - started
    pred = classify(clip, tokenizer, pixels)
    truth = np.array([PAIRS.index(f"{i['colour']} {i['shape']}") for i in infos])
    hits = pred["pair"] == truth
    colour_hits = pred["colour"] == truth // len(SHAPES)
    shape_hits = pred["shape"] == truth % len(SHAPES)
    recall = {label: float(hits[truth == k].mean()) for k, label in enumerate(PAIRS)}
    confusion = {label: dict(collections.Counter(PAIRS[p] for p in pred["pair"][(truth == k) & ~hits]).most_common())
                 for k, label in enumerate(PAIRS) if recall[label] < 1}

    print(f"model {args.model}, independent generator seed {args.seed}: {len(truth)} pictures "
          f"({args.per_pair} per pair), rendered in {rendered:.0f}s")
    print(f"pairs {hits.mean():.2%}  colours {colour_hits.mean():.2%}  shapes {shape_hits.mean():.2%}  "
          f"worst class {min(recall.values()):.2f}")
    print("recall      " + "".join(f"{s:>9}" for s in SHAPES))
    for c in COLOURS:
        print(f"{c:<12}" + "".join(f"{recall[f'{c} {s}']:9.2f}" for s in SHAPES))
    worst = sorted(recall.items(), key=lambda kv: kv[1])[:8]
    print("weakest:", ", ".join(f"{k} {v:.2f}" for k, v in worst))
    for label, _ in worst:
        if label in confusion:
            print(f"  {label} ->", ", ".join(f"{k} x{v}" for k, v in confusion[label].items()))

    result = {"model": str(args.model), "seed": args.seed, "per_pair": args.per_pair, "pictures": int(len(truth)),
              "pairs_top1": float(hits.mean()), "colour_top1": float(colour_hits.mean()),
              "shape_top1": float(shape_hits.mean()), "worst_class": min(recall.values()),
              "recall": recall, "confusions": confusion,
              "by_colour": {c: float(hits[truth // len(SHAPES) == k].mean()) for k, c in enumerate(COLOURS)},
              "by_shape": {s: float(hits[truth % len(SHAPES) == k].mean()) for k, s in enumerate(SHAPES)},
              "by_format": breakdown(hits, infos, lambda i: i["format"])}

    if args.focus:
        focus_k = PAIRS.index(args.focus)
        f_infos = [i for i, t in zip(infos, truth) if t == focus_k]
        f_pred = pred["pair"][truth == focus_k]
        if args.focus_extra:
            extra_pixels, extra_infos = render(args.seed + 1, [args.focus], args.focus_extra, size)
            extra_pred = classify(clip, tokenizer, extra_pixels)
            f_infos += extra_infos
            f_pred = np.concatenate([f_pred, extra_pred["pair"]])
            f_colour = np.concatenate([pred["colour"][truth == focus_k], extra_pred["colour"]])
            f_shape = np.concatenate([pred["shape"][truth == focus_k], extra_pred["shape"]])
        else:
            f_colour, f_shape = pred["colour"][truth == focus_k], pred["shape"][truth == focus_k]
        f_hits = f_pred == focus_k
        light_bins = [(0, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.7), (0.7, 1.01)]
        focus = {
            "pictures": len(f_infos), "recall": float(f_hits.mean()),
            "colour_alone": float((f_colour == focus_k // len(SHAPES)).mean()),
            "shape_alone": float((f_shape == focus_k % len(SHAPES)).mean()),
            "predicted_as": dict(collections.Counter(PAIRS[p] for p in f_pred[~f_hits]).most_common()),
            "by_background_lightness": breakdown(f_hits, f_infos, lambda i: i["background_lightness"], light_bins),
            "by_background_kind": breakdown(f_hits, f_infos, lambda i: i["background_kind"]),
            "by_triangle_kind": breakdown(f_hits, f_infos, lambda i: i.get("triangle_kind")),
            "by_smallest_angle": breakdown(f_hits, f_infos, lambda i: i.get("triangle_min_angle"),
                                           [(0, 35), (35, 45), (45, 55), (55, 61)]),
            "by_shape_fraction": breakdown(f_hits, f_infos, lambda i: i["shape_fraction"],
                                           [(0, 0.4), (0.4, 0.55), (0.55, 0.7), (0.7, 0.81)]),
            "by_short_side": breakdown(f_hits, f_infos, lambda i: min(i["size"]),
                                       [(0, 96), (96, 192), (192, 600)]),
            "by_outline": breakdown(f_hits, f_infos, lambda i: i["outline"] if "outline" in i else None),
            "by_format": breakdown(f_hits, f_infos, lambda i: i["format"]),
            "by_fill_max_channel": breakdown(f_hits, f_infos, lambda i: max(i["fill_rgb"]),
                                             [(0, 12), (12, 20), (20, 28), (28, 40), (40, 256)]),
            "by_ring_width": breakdown(f_hits, f_infos, lambda i: i.get("ring_width"),
                                       [(0, 0.25), (0.25, 0.35), (0.35, 0.46)]),
        }
        result["focus"] = {args.focus: focus}
        print(f"\n{args.focus}: {len(f_infos)} pictures, recall {focus['recall']:.2f} (colour prompt alone "
              f"{focus['colour_alone']:.2f}, shape prompt alone {focus['shape_alone']:.2f})")
        for key, value in focus.items():
            if isinstance(value, dict):
                print(f"  {key}: {value}")
    print(f"{time.time() - started:.0f}s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
