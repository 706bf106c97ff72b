#!/usr/bin/python3
"""Build a random-weight CLIP of a named configuration, export it, and record PyTorch's outputs.

  /usr/bin/python3 tools/make_test_model.py                       # the committed test models
  /usr/bin/python3 tools/make_test_model.py --config vit-b-32 --out /tmp/vit-b-32   # benchmark model

The committed run writes tests/assets/models/tiny-clip (Hugging Face layout), tests/assets/models/
tiny-clip-cas (clip-as-service layout, same weights) and tests/assets/encoder_reference.json: the inputs
and the L2-normalised embeddings PyTorch computes for them, which the C# encoders must reproduce.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clipkit.export import export_onnx, write_metadata  # noqa: E402
from clipkit.model import CONFIGS, Clip, normalized  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED_TOKENIZER = REPO.parent / "shared" / "clip-tokenizer"


def reference(clip: Clip, vectors_path: Path, seed: int) -> dict:
    c = clip.config
    cases = json.loads(vectors_path.read_text(encoding="utf-8"))["cases"]
    picked = [case for case in cases if case["text"] in
              ("a photo of a cat", "Hello, world!", "一只猫的照片", "rock'n'roll")]
    picked.append(next(case for case in cases if case["truncated"]))
    ids = torch.tensor([case["ids_77_eot_padded"] for case in picked], dtype=torch.int64)
    mask = torch.tensor([case["attention_mask_77"] for case in picked], dtype=torch.int64)
    gen = torch.Generator().manual_seed(seed + 1)
    pixels = torch.randn(3, 3, c.image_size, c.image_size, generator=gen)
    with torch.no_grad():
        text = normalized(clip.encode_text(ids, mask))
        image = normalized(clip.encode_image(pixels))
    return {
        "description": "Inputs and L2-normalised PyTorch embeddings of tests/assets/models/tiny-clip "
                       "(made by tools/make_test_model.py).",
        "texts": [case["text"] for case in picked],
        "input_ids": ids.tolist(), "attention_mask": mask.tolist(),
        "pixel_shape": list(pixels.shape),
        "pixel_values": [round(v, 7) for v in pixels.flatten().tolist()],
        "text_embeds": [[round(v, 8) for v in row] for row in text.tolist()],
        "image_embeds": [[round(v, 8) for v in row] for row in image.tolist()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    parser.add_argument("--out", type=Path, help="model folder (default: the committed test models)")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--tokenizer-dir", type=Path, default=SHARED_TOKENIZER)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    clip = Clip(CONFIGS[args.config]).eval()
    if args.out is not None:
        export_onnx(clip, args.out, "hf")
        write_metadata(clip, args.out, args.tokenizer_dir)
        print(f"wrote {args.out}")
        return

    assets = REPO / "tests" / "assets"
    hf = assets / "models" / "tiny-clip"
    export_onnx(clip, hf, "hf")
    write_metadata(clip, hf, args.tokenizer_dir, tokenizer_files=("vocab.json", "merges.txt"))
    export_onnx(clip, assets / "models" / "tiny-clip-cas", "clip-as-service")
    ref = reference(clip, args.tokenizer_dir / "tokenizer_vectors.json", args.seed)
    (assets / "encoder_reference.json").write_text(json.dumps(ref) + "\n")
    print(f"wrote {hf}, {assets / 'models' / 'tiny-clip-cas'} and {assets / 'encoder_reference.json'}")


if __name__ == "__main__":
    main()
