#!/usr/bin/python3
"""Train ClipService's default model: a small CLIP that recognises coloured shapes, and export it.

  /usr/bin/python3 tools/train_default_model.py            # writes models/clip-shapes

Seeded and reproducible on one machine. Steps: render the training images (pre-rendered, then passed through
CLIP's own preprocessing as PIL computes it, with JPEG re-encoding half the time), train the standard CLIP
architecture with a symmetric cross-entropy over the n x n similarity matrix, report validation accuracy on
images from a separate seed, export to the standard model folder layout with a model card.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clipkit.export import OPENAI_MEAN, OPENAI_STD, export_onnx, write_metadata  # noqa: E402
from clipkit.model import Clip, ClipConfig  # noqa: E402
from clipkit.preprocess import resized_and_cropped  # noqa: E402
from clipkit.shapes import COLOURS, HELD_OUT, SHAPES, random_size, render  # noqa: E402
from clipkit.tokenizer import AsciiClipTokenizer  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED_TOKENIZER = REPO.parent / "shared" / "clip-tokenizer"
CONFIG = ClipConfig(embed_dim=64, image_size=64, patch_size=16, vision_width=128, vision_layers=4,
                    vision_heads=4, context_length=77, vocab_size=49408, text_width=64, text_layers=3,
                    text_heads=4)
PAIRS = [(c, s) for c in COLOURS for s in SHAPES]
TRAIN_PAIRS = [p for p in PAIRS if p not in HELD_OUT]

FULL_TEMPLATES = ("a photo of a {c} {s}.", "a {c} {s}", "{c} {s}", "a {c} {s} shape", "an image of a {c} {s}.",
                  "a drawing of a {c} {s}.", "a picture of a {c} {s}", "a {size} {c} {s}",
                  "a photo of the {c} {s}.", "a {c} {s} on a background", "a {s} that is {c}", "a {s} coloured {c}",
                  "{s}, {c}", "the {s} is {c}")
COLOUR_TEMPLATES = ("a photo of a {c}.", "{c}", "something {c}", "the colour {c}", "a {c} object",
                    "a {c} shape")
SHAPE_TEMPLATES = ("a photo of a {s}.", "a {s}", "{s}", "a {s} shape", "a photo of a {s} shape.",
                   "a drawing of a {s}")


def _render_chunk(job: tuple[int, int, int, bool]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    seed, count, size, train = job
    rng = np.random.default_rng(seed)
    pairs = TRAIN_PAIRS if train else PAIRS
    images = np.empty((count, size, size, 3), dtype=np.uint8)
    colours = np.empty(count, dtype=np.int64)
    shapes = np.empty(count, dtype=np.int64)
    colour_names = list(COLOURS)
    for i in range(count):
        c, s = pairs[rng.integers(len(pairs))] if train else pairs[i % len(pairs)]
        w, h = random_size(rng, 48, 400)
        image = Image.fromarray(render(rng, c, s, w, h))
        if rng.random() < 0.5:
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=int(rng.integers(50, 96)))
            image = Image.open(io.BytesIO(buffer.getvalue()))
        images[i] = np.asarray(resized_and_cropped(image, size, size))
        colours[i] = colour_names.index(c)
        shapes[i] = SHAPES.index(s)
    return images, colours, shapes


def render_set(seed: int, count: int, train: bool, workers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    chunks = 16
    per = math.ceil(count / chunks)
    jobs = [(seed * 1000 + k, min(per, count - k * per), CONFIG.image_size, train) for k in range(chunks)
            if count - k * per > 0]
    with multiprocessing.Pool(workers) as pool:
        parts = pool.map(_render_chunk, jobs)
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


def to_pixels(images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(images).float().div_(255.0)
    x = (x - torch.tensor(OPENAI_MEAN)) / torch.tensor(OPENAI_STD)
    return x.permute(0, 3, 1, 2).contiguous()


class Captions:
    """Caption sampling with cached token ids; a caption names a colour, a shape, or both."""

    def __init__(self, tokenizer: AsciiClipTokenizer):
        self.tokenizer = tokenizer
        self.cache: dict[str, list[int]] = {}

    def ids(self, text: str) -> list[int]:
        if text not in self.cache:
            self.cache[text] = [49406] + self.tokenizer.encode(text) + [49407]
        return self.cache[text]

    def sample(self, rng: np.random.Generator, colour: str, shape: str) -> tuple[str, int, int]:
        r = rng.random()
        if r < 0.5:
            t = FULL_TEMPLATES[rng.integers(len(FULL_TEMPLATES))]
            size = ("small", "large", "big", "tiny")[rng.integers(4)]
            return t.format(c=colour, s=shape, size=size), COLOURS_INDEX[colour], SHAPES.index(shape)
        if r < 0.7:
            t = COLOUR_TEMPLATES[rng.integers(len(COLOUR_TEMPLATES))]
            return t.format(c=colour), COLOURS_INDEX[colour], -1
        t = SHAPE_TEMPLATES[rng.integers(len(SHAPE_TEMPLATES))]
        return t.format(s=shape), -1, SHAPES.index(shape)

    def batch(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        rows = [self.ids(t) for t in texts]
        n = max(len(r) for r in rows)
        ids = torch.full((len(rows), n), 49407, dtype=torch.int64)
        mask = torch.zeros((len(rows), n), dtype=torch.int64)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = 1
        return ids, mask


COLOURS_INDEX = {c: i for i, c in enumerate(COLOURS)}


def soft_clip_loss(logits: torch.Tensor, match: torch.Tensor) -> torch.Tensor:
    """Symmetric cross-entropy over the n x n similarity matrix; every caption that fits an image counts as
    its positive (a batch holds many images of the same concept)."""
    image_targets = match.t() / match.t().sum(dim=1, keepdim=True)
    text_targets = match / match.sum(dim=1, keepdim=True)
    loss_i = -(image_targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    loss_t = -(text_targets * F.log_softmax(logits.t(), dim=1)).sum(dim=1).mean()
    return (loss_i + loss_t) / 2


@torch.no_grad()
def evaluate(clip: Clip, captions: Captions, images: np.ndarray, colours: np.ndarray, shapes: np.ndarray) -> dict:
    clip.eval()
    colour_names = list(COLOURS)

    def text_embeddings(labels: list[str]) -> torch.Tensor:
        ids, mask = captions.batch([f"a photo of a {label}." for label in labels])
        return F.normalize(clip.encode_text(ids, mask), dim=-1)

    pair_labels = [f"{c} {s}" for c, s in PAIRS]
    image_emb = torch.cat([F.normalize(clip.encode_image(to_pixels(images[i:i + 256])), dim=-1)
                           for i in range(0, len(images), 256)])
    pair_pred = (image_emb @ text_embeddings(pair_labels).t()).argmax(dim=1).numpy()
    colour_pred = (image_emb @ text_embeddings(colour_names).t()).argmax(dim=1).numpy()
    shape_pred = (image_emb @ text_embeddings(list(SHAPES)).t()).argmax(dim=1).numpy()
    truth = colours * len(SHAPES) + shapes
    held = np.array([(colour_names[c], SHAPES[s]) in HELD_OUT for c, s in zip(colours, shapes)])
    clip.train()
    return {
        "pairs_top1": float((pair_pred == truth).mean()),
        "seen_pairs_top1": float((pair_pred == truth)[~held].mean()),
        "held_out_pairs_top1": float((pair_pred == truth)[held].mean()),
        "colour_top1": float((colour_pred == colours).mean()),
        "shape_top1": float((shape_pred == shapes).mean()),
        "images": int(len(images)), "held_out_images": int(held.sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "models" / "clip-shapes")
    parser.add_argument("--images", type=int, default=60000)
    parser.add_argument("--steps", type=int, default=7000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokenizer-dir", type=Path, default=SHARED_TOKENIZER)
    parser.add_argument("--state", type=Path, default=Path("/tmp/clip-shapes-state.pt"),
                        help="where the PyTorch weights are saved (not committed; for later fine-tuning)")
    parser.add_argument("--fp32", action="store_true",
                        help="train in fp32; by default matrix products run in bfloat16 (weights stay fp32), ~3x faster on CPUs with AVX512-BF16")
    args = parser.parse_args()

    started = time.time()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    tokenizer = AsciiClipTokenizer(args.tokenizer_dir / "vocab.json", args.tokenizer_dir / "merges.txt")
    captions = Captions(tokenizer)

    images, colours, shapes = render_set(args.seed, args.images, train=True, workers=args.threads)
    val_images, val_colours, val_shapes = render_set(args.seed + 1, 1920, train=False, workers=args.threads)
    print(f"rendered {len(images)} training and {len(val_images)} validation images in "
          f"{time.time() - started:.0f}s", flush=True)

    clip = Clip(CONFIG)
    decay = [p for n, p in clip.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    no_decay = [p for n, p in clip.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.98))
    warmup = max(1, args.steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(step, args.steps) / args.steps)))
    colour_names = list(COLOURS)
    train_start = time.time()
    for step in range(args.steps):
        idx = rng.integers(0, len(images), args.batch)
        batch = images[idx]
        if rng.random() < 0.5:
            batch = batch[:, :, ::-1]
        texts, cap_c, cap_s = [], [], []
        for i in idx:
            text, c, s = captions.sample(rng, colour_names[colours[i]], SHAPES[shapes[i]])
            texts.append(text)
            cap_c.append(c)
            cap_s.append(s)
        cap_c_t, cap_s_t = torch.tensor(cap_c), torch.tensor(cap_s)
        img_c, img_s = torch.from_numpy(colours[idx]), torch.from_numpy(shapes[idx])
        match = (((cap_c_t[:, None] == -1) | (cap_c_t[:, None] == img_c[None, :]))
                 & ((cap_s_t[:, None] == -1) | (cap_s_t[:, None] == img_s[None, :]))).float()
        ids, mask = captions.batch(texts)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=not args.fp32):
            image_emb = clip.encode_image(to_pixels(np.ascontiguousarray(batch)))
            text_emb = clip.encode_text(ids, mask)
        image_emb = F.normalize(image_emb.float(), dim=-1)
        text_emb = F.normalize(text_emb.float(), dim=-1)
        logits = clip.logit_scale.exp() * text_emb @ image_emb.t()
        loss = soft_clip_loss(logits, match)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(clip.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        with torch.no_grad():
            clip.logit_scale.clamp_(0, math.log(100))
        if step % 100 == 0 or step == args.steps - 1:
            rate = (step + 1) / (time.time() - train_start)
            print(f"step {step:5d} loss {loss.item():.4f} scale {clip.logit_scale.exp().item():6.2f} "
                  f"{rate:.2f} steps/s", flush=True)
        if step > 0 and step % 1000 == 0:
            print("validation", json.dumps(evaluate(clip, captions, val_images, val_colours, val_shapes)), flush=True)

    metrics = evaluate(clip, captions, val_images, val_colours, val_shapes)
    minutes = (time.time() - started) / 60
    print("validation", json.dumps(metrics), flush=True)
    clip.eval()
    torch.save(clip.state_dict(), args.state)
    export_onnx(clip, args.out, "hf")
    write_metadata(clip, args.out, args.tokenizer_dir, trained_logit_scale=clip.logit_scale.exp().item())
    report = {"config": CONFIG.to_dict(), "seed": args.seed, "images": args.images, "steps": args.steps,
              "batch": args.batch, "lr": args.lr, "bfloat16": not args.fp32, "minutes": round(minutes, 1),
              "validation": metrics,
              "held_out_pairs": sorted(" ".join(p) for p in HELD_OUT),
              "logit_scale": round(clip.logit_scale.exp().item(), 4)}
    (args.out / "training_report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"exported {args.out} after {minutes:.1f} minutes", flush=True)


if __name__ == "__main__":
    main()
