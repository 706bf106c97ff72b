#!/usr/bin/python3
"""Train ClipService's default model: a small CLIP that recognises coloured shapes, and export it.

  # the shipped model (models/clip-shapes/README.md has the figures): the first default model, fine-tuned in three stages
  mkdir -p /tmp/v1 && git archive b0f2cf4 models/clip-shapes | tar -x -C /tmp/v1
  /usr/bin/python3 tools/train_default_model.py --init-from /tmp/v1/models/clip-shapes --freeze-text --out /tmp/v2
  /usr/bin/python3 tools/train_default_model.py --init-from /tmp/v2 --freeze-text --images 60000 --steps 6000 --lr 4e-4 --out /tmp/v3
  /usr/bin/python3 tools/train_default_model.py --init-from /tmp/v3 --seed 9 --images 36000 --steps 5000 --lr 2e-4
  # the compositional experiment: three pairs never shown in training, reported separately
  /usr/bin/python3 tools/train_default_model.py --init-from /tmp/v1/models/clip-shapes --freeze-text --hold-out \
      --images 24000 --steps 2500 --lr 4e-4 --out /tmp/held-out

Seeded and reproducible on one machine. Steps: render the training pictures (tools/clipkit/shapes.py: varied
colours, shapes, backgrounds, blur, noise and JPEG; pre-rendered, then passed through CLIP's own preprocessing
as PIL computes it), train the standard CLIP architecture with a symmetric cross-entropy over the n x n
similarity matrix, report validation accuracy on pictures from a separate seed (per class, per colour, per
shape, the commonest confusions), export to the standard model folder layout.
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import json
import math
import multiprocessing
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clipkit.export import OPENAI_MEAN, OPENAI_STD, export_onnx, load_exported, write_metadata  # noqa: E402
from clipkit.model import Clip, ClipConfig  # noqa: E402
from clipkit.preprocess import resized_and_cropped  # noqa: E402
from clipkit.shapes import COLOURS, HELD_OUT, SHAPES, random_size, render  # noqa: E402
from clipkit.tokenizer import AsciiClipTokenizer  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED_TOKENIZER = REPO.parent / "shared" / "clip-tokenizer"
PAIRS = [(c, s) for c in COLOURS for s in SHAPES]
# Canvases are 48-640 px; above this short side they are drawn at this size (the 64 px the model sees is the
# same picture; noise, blur and JPEG are then relatively stronger, which only makes training harder).
MAX_DRAWN_SIDE = 192

FULL_TEMPLATES = ("a photo of a {c} {s}.", "a {c} {s}", "{c} {s}", "a {c} {s} shape", "an image of a {c} {s}.",
                  "a drawing of a {c} {s}.", "a picture of a {c} {s}", "a {size} {c} {s}",
                  "a photo of the {c} {s}.", "a {c} {s} on a background", "a {s} that is {c}", "a {s} coloured {c}",
                  "{s}, {c}", "the {s} is {c}")
COLOUR_TEMPLATES = ("a photo of a {c}.", "{c}", "something {c}", "the colour {c}", "a {c} object",
                    "a {c} shape")
SHAPE_TEMPLATES = ("a photo of a {s}.", "a {s}", "{s}", "a {s} shape", "a photo of a {s} shape.",
                   "a drawing of a {s}")


def _render_chunk(job: tuple[int, int, int, bool, bool]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    seed, count, size, hold_out, balanced = job
    rng = np.random.default_rng(seed)
    pairs = [p for p in PAIRS if p not in HELD_OUT] if hold_out else PAIRS
    images = np.empty((count, size, size, 3), dtype=np.uint8)
    colours = np.empty(count, dtype=np.int64)
    shapes = np.empty(count, dtype=np.int64)
    for i in range(count):
        c, s = pairs[i % len(pairs)] if balanced else pairs[rng.integers(len(pairs))]
        w, h = random_size(rng, 48, 640)
        scale = min(1.0, MAX_DRAWN_SIDE / min(w, h))
        image = render(rng, c, s, max(1, round(w * scale)), max(1, round(h * scale)))
        images[i] = np.asarray(resized_and_cropped(image, size, size))
        colours[i] = COLOURS.index(c)
        shapes[i] = SHAPES.index(s)
    return images, colours, shapes


def render_set(seed: int, count: int, size: int, hold_out: bool, workers: int, balanced: bool = False,
               cache: Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pictures of random pairs, or (balanced) every pair in turn; kept in `cache` (keyed by the arguments and
    the renderer's source) so that a rerun with other training settings skips rendering."""
    if cache:
        source = b"".join((Path(__file__).parent / "clipkit" / f).read_bytes() for f in ("shapes.py", "preprocess.py"))
        settings = repr((seed, count, size, hold_out, balanced, MAX_DRAWN_SIDE)).encode()
        key = hashlib.sha256(settings + source).hexdigest()[:16]
        path = cache / f"shapes-{key}.npz"
        if path.exists():
            with np.load(path) as saved:
                return saved["images"], saved["colours"], saved["shapes"]
        result = render_set(seed, count, size, hold_out, workers, balanced)
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(path, images=result[0], colours=result[1], shapes=result[2])
        return result
    chunks = 32
    per = math.ceil(count / chunks)
    per += (-per) % len(PAIRS) if balanced else 0
    jobs = []
    for k in range(chunks):
        n = min(per, count - k * per)
        if n > 0:
            jobs.append((seed * 1000 + k, n, size, hold_out, balanced))
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
def evaluate(clip: Clip, captions: Captions, images: np.ndarray, colours: np.ndarray, shapes: np.ndarray,
             held_out: bool) -> dict:
    clip.eval()

    def text_embeddings(labels: list[str]) -> torch.Tensor:
        ids, mask = captions.batch([f"a photo of a {label}." for label in labels])
        return F.normalize(clip.encode_text(ids, mask), dim=-1)

    pair_labels = [f"{c} {s}" for c, s in PAIRS]
    image_emb = torch.cat([F.normalize(clip.encode_image(to_pixels(images[i:i + 256])), dim=-1)
                           for i in range(0, len(images), 256)])
    pair_pred = (image_emb @ text_embeddings(pair_labels).t()).argmax(dim=1).numpy()
    colour_pred = (image_emb @ text_embeddings(list(COLOURS)).t()).argmax(dim=1).numpy()
    shape_pred = (image_emb @ text_embeddings(list(SHAPES)).t()).argmax(dim=1).numpy()
    truth = colours * len(SHAPES) + shapes
    hits = pair_pred == truth
    clip.train()
    per_class = {label: float(hits[truth == k].mean()) for k, label in enumerate(pair_labels) if (truth == k).any()}
    confusions = collections.Counter(f"{pair_labels[t]} -> {pair_labels[p]}"
                                     for t, p in zip(truth, pair_pred) if t != p)
    metrics = {
        "pairs_top1": float(hits.mean()),
        "colour_top1": float((colour_pred == colours).mean()),
        "shape_top1": float((shape_pred == shapes).mean()),
        "images": int(len(images)),
        "worst_classes": dict(sorted(per_class.items(), key=lambda kv: kv[1])[:6]),
        "pairs_top1_by_colour": {c: float(hits[colours == k].mean()) for k, c in enumerate(COLOURS)},
        "pairs_top1_by_shape": {s: float(hits[shapes == k].mean()) for k, s in enumerate(SHAPES)},
        "commonest_confusions": dict(confusions.most_common(8)),
    }
    if held_out:
        held = np.array([(COLOURS[c], SHAPES[s]) in HELD_OUT for c, s in zip(colours, shapes)])
        metrics["seen_pairs_top1"] = float(hits[~held].mean())
        metrics["held_out_pairs_top1"] = float(hits[held].mean())
    return metrics


def augmented(rng: np.random.Generator, batch: np.ndarray) -> np.ndarray:
    """The eight flips and quarter turns of the square crops (every shape class is closed under them)."""
    if rng.random() < 0.5:
        batch = batch[:, :, ::-1]
    return np.rot90(batch, k=int(rng.integers(4)), axes=(1, 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "models" / "clip-shapes")
    parser.add_argument("--images", type=int, default=12000)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--patch", type=int, default=16, help="vision patch size (64 px input)")
    parser.add_argument("--vision-width", type=int, default=128)
    parser.add_argument("--vision-layers", type=int, default=4)
    parser.add_argument("--hold-out", action="store_true",
                        help="the compositional experiment: never show " + ", ".join(sorted(" ".join(p) for p in HELD_OUT))
                        + " in training and report them separately (not for the shipped model)")
    parser.add_argument("--init-from", type=Path,
                        help="start from the weights of a model folder this script exported (same architecture), e.g. "
                             "the previous default model, instead of from random weights")
    parser.add_argument("--freeze-text", action="store_true",
                        help="train the image tower only (with --init-from: keep the text tower as it is)")
    parser.add_argument("--validation-images", type=int, default=480)
    parser.add_argument("--validate-every", type=int, default=250)
    parser.add_argument("--cache", type=Path, help="keep rendered pictures here and reuse them on the next run")
    parser.add_argument("--tokenizer-dir", type=Path, default=SHARED_TOKENIZER)
    parser.add_argument("--state", type=Path, default=Path("/tmp/clip-shapes-state.pt"),
                        help="where the PyTorch weights are saved (not committed; for later fine-tuning)")
    parser.add_argument("--bf16", action="store_true",
                        help="matrix products in bfloat16 (weights stay fp32): ~3x faster on CPUs with AVX512-BF16, "
                             "~10x slower on CPUs without it, where PyTorch emulates it")
    args = parser.parse_args()
    config = ClipConfig(embed_dim=64, image_size=64, patch_size=args.patch, vision_width=args.vision_width,
                        vision_layers=args.vision_layers, vision_heads=4, context_length=77, vocab_size=49408,
                        text_width=64, text_layers=3, text_heads=4)

    started = time.time()
    torch.manual_seed(args.seed)
    torch.set_num_threads(min(args.threads, 2))
    rng = np.random.default_rng(args.seed)
    tokenizer = AsciiClipTokenizer(args.tokenizer_dir / "vocab.json", args.tokenizer_dir / "merges.txt")
    captions = Captions(tokenizer)

    images, colours, shapes = render_set(args.seed, args.images, config.image_size, args.hold_out, args.threads,
                                         cache=args.cache)
    val_images, val_colours, val_shapes = render_set(args.seed + 1, args.validation_images, config.image_size,
                                                     False, args.threads, balanced=True, cache=args.cache)
    print(f"rendered {len(images)} training and {len(val_images)} validation images in "
          f"{time.time() - started:.0f}s", flush=True)

    clip = Clip(config)
    if args.init_from:
        load_exported(clip, args.init_from)
        print("initial", json.dumps(evaluate(clip, captions, val_images, val_colours, val_shapes, args.hold_out)),
              flush=True)
    if args.freeze_text:
        for p in [*clip.text_model.parameters(), *clip.text_projection.parameters()]:
            p.requires_grad_(False)
    trainable = [(n, p) for n, p in clip.named_parameters() if p.requires_grad]
    decay = [p for n, p in trainable if p.ndim >= 2 and "embedding" not in n]
    no_decay = [p for n, p in trainable if not (p.ndim >= 2 and "embedding" not in n)]
    frozen_text: dict[str, torch.Tensor] = {}
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.98))
    warmup = max(1, args.steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(step, args.steps) / args.steps)))
    # SIGUSR1 ends training early (after the current step) and still exports: for a machine slower than planned.
    stop_requested = []
    signal.signal(signal.SIGUSR1, lambda *_: stop_requested.append(True))
    steps_done = 0
    train_start = time.time()
    for step in range(args.steps):
        if stop_requested:
            print(f"stopped on request after {step} of {args.steps} steps", flush=True)
            break
        steps_done = step + 1
        idx = rng.integers(0, len(images), args.batch)
        batch = augmented(rng, images[idx])
        texts, cap_c, cap_s = [], [], []
        for i in idx:
            text, c, s = captions.sample(rng, COLOURS[colours[i]], SHAPES[shapes[i]])
            texts.append(text)
            cap_c.append(c)
            cap_s.append(s)
        cap_c_t, cap_s_t = torch.tensor(cap_c), torch.tensor(cap_s)
        img_c, img_s = torch.from_numpy(colours[idx]), torch.from_numpy(shapes[idx])
        match = (((cap_c_t[:, None] == -1) | (cap_c_t[:, None] == img_c[None, :]))
                 & ((cap_s_t[:, None] == -1) | (cap_s_t[:, None] == img_s[None, :]))).float()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            image_emb = clip.encode_image(to_pixels(np.ascontiguousarray(batch)))
            if not args.freeze_text:
                text_emb = F.normalize(clip.encode_text(*captions.batch(texts)).float(), dim=-1)
        if args.freeze_text:  # a fixed text tower: each caption is embedded once, in fp32
            new = sorted(set(texts) - frozen_text.keys())
            if new:
                with torch.no_grad():
                    frozen_text.update(zip(new, F.normalize(clip.encode_text(*captions.batch(new)), dim=-1)))
            text_emb = torch.stack([frozen_text[t] for t in texts])
        image_emb = F.normalize(image_emb.float(), dim=-1)
        logits = clip.logit_scale.exp() * text_emb @ image_emb.t()
        loss = soft_clip_loss(logits, match)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(clip.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        with torch.no_grad():
            clip.logit_scale.clamp_(0, math.log(100))
        if step % 25 == 0 or step == args.steps - 1:
            rate = (step + 1) / (time.time() - train_start)
            print(f"step {step:5d} loss {loss.item():.4f} scale {clip.logit_scale.exp().item():6.2f} "
                  f"{rate:.3f} steps/s, {time.process_time() / 60:.1f} cpu-min", flush=True)
        if step > 0 and step % args.validate_every == 0:
            print("validation", json.dumps(evaluate(clip, captions, val_images, val_colours, val_shapes,
                                                    args.hold_out)), flush=True)

    metrics = evaluate(clip, captions, val_images, val_colours, val_shapes, args.hold_out)
    minutes = (time.time() - started) / 60
    print("validation", json.dumps(metrics), flush=True)
    clip.eval()
    args.state.parent.mkdir(parents=True, exist_ok=True)
    torch.save(clip.state_dict(), args.state)
    export_onnx(clip, args.out, "hf")
    write_metadata(clip, args.out, args.tokenizer_dir, trained_logit_scale=clip.logit_scale.exp().item())
    report = {"config": config.to_dict(), "seed": args.seed, "images": args.images, "steps": args.steps,
              "steps_done": steps_done, "batch": args.batch, "lr": args.lr,
              "init_from": str(args.init_from) if args.init_from else None, "freeze_text": args.freeze_text,
              "bfloat16": args.bf16, "minutes": round(minutes, 1),
              "held_out_pairs": sorted(" ".join(p) for p in HELD_OUT) if args.hold_out else [],
              "validation": metrics,
              "logit_scale": round(clip.logit_scale.exp().item(), 4)}
    (args.out / "training_report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"exported {args.out} after {minutes:.1f} minutes", flush=True)


if __name__ == "__main__":
    main()
