#!/usr/bin/python3
"""Random-weight exports of the non-CLIP families, in the layouts their published exports use.

  /usr/bin/python3 tools/make_family_models.py          # writes tests/assets/families/
  node tools/oracle/zero_shot.mjs                       # then records transformers.js's scores beside them

Folders (each well under 3 MB):
- siglip/        Hugging Face layout like Xenova/siglip-*: onnx/model.onnx + text_model.onnx + vision_model.onnx,
                 a Unigram tokenizer.json (lowercase, no punctuation, </s> appended), no crop, mean/std 0.5.
- siglip2/       like onnx-community/siglip2-*: model_type siglip, a Gemma-shaped byte-fallback BPE tokenizer
                 (<eos> appended, <pad> 0, tokenizer_class GemmaTokenizer).
- chinese-clip/  like Xenova/chinese-clip-*: ONLY onnx/model.onnx (ids, mask, token type ids, pixels), a BERT
                 WordPiece tokenizer with CJK characters; tools/import_model.py splits it.
- immich-xlmr/   immich's layout (textual/, visual/, open_clip config.json) with an XLM-R Unigram tokenizer; both
                 graphs take a batch of exactly one; the text graph derives its mask from ids != <pad> (1).
- immich-siglip2/ immich's layout for a SigLIP 2: BPE tokenizer, batch of one, 64 positions, init_logit_bias only.

Every Hugging Face folder's config.json is then completed by tools/import_model.py (trained_logit_scale/bias
read from the combined graph), as a user would do with a downloaded export. Also writes images/*.png at the
models' input size (32x32), which the oracle and the tests feed unresized.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clipkit import tokenizers  # noqa: E402
from clipkit.export import OPENAI_MEAN, OPENAI_STD  # noqa: E402
from clipkit.families import (CombinedExport, DualEncoder, TextExport, TextTower, TowerShape,  # noqa: E402
                              VisionExport, export)
from import_model import import_folder  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tests" / "assets" / "families"

NOUNS = ["cat", "dog", "car", "red car", "bird", "tree", "house", "boat", "plane", "horse", "flower", "apple",
         "banana", "chair", "table", "mountain", "river", "city", "street", "bicycle", "train", "computer",
         "phone", "book", "cup", "pizza", "cake", "shoe", "hat", "clock", "lamp", "window", "door", "kite"]
ENGLISH_TEMPLATES = ["this is a photo of {}.", "a photo of a {}", "a blurry photo of the {}!", "a drawing of a {}",
                     "There is a {} in the picture, isn't there?", "my {} and your {}", "{}"]
CHINESE_NOUNS = ["猫", "狗", "汽车", "鸟", "树", "房子", "船", "飞机", "马", "花", "苹果", "香蕉", "椅子", "桌子",
                 "山", "河", "城市", "街道", "自行车", "火车", "电脑", "手机", "书", "杯子", "蛋糕", "鞋", "帽子"]
CHINESE_TEMPLATES = ["一张{}的照片。", "{}的图片", "这是一只{}", "一幅{}的画。", "模糊的{}照片"]


def corpus(english: bool, chinese: bool) -> list[str]:
    lines = []
    if english:
        lines += [t.format(n, n) for t in ENGLISH_TEMPLATES for n in NOUNS]
        lines += [line.upper() for line in lines[:40]] + [line.title() for line in lines[40:80]]
    if chinese:
        lines += [t.format(n) for t in CHINESE_TEMPLATES for n in CHINESE_NOUNS]
    return lines


def write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def special_files(folder: Path, tokenizer: dict, config: dict) -> None:
    write_json(folder / "tokenizer.json", tokenizer)
    write_json(folder / "tokenizer_config.json", config)
    write_json(folder / "special_tokens_map.json",
               {k: v for k, v in config.items() if k.endswith("_token")})


def images(folder: Path, size: int) -> None:
    """Three photo-like patterns (gradients, a disc, stripes) at the models' input size."""
    folder.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(7)
    for name in ("gradient", "disc", "stripes"):
        image = Image.new("RGB", (size, size))
        pixels = image.load()
        base = torch.randint(0, 256, (3,), generator=g).tolist()
        for y in range(size):
            for x in range(size):
                if name == "gradient":
                    value = (x * 8 % 256, y * 8 % 256, base[2])
                elif name == "disc":
                    inside = (x - size / 2) ** 2 + (y - size / 2) ** 2 < (size / 3) ** 2
                    value = tuple(base) if inside else (255 - base[0], 40, 200)
                else:
                    value = (base[0], 255, base[2]) if (x // 4) % 2 else (20, base[1], 60)
                pixels[x, y] = value
        image.save(folder / f"{name}.png")


def calibrate(model: DualEncoder, sigmoid: bool) -> None:
    """Sets the logit scale (and bias) so that random text and image embeddings give scores that are neither all
    0 nor all 1: a random tower's embeddings sit close together, and a trained model's scale would saturate them."""
    s = model.shape
    g = torch.Generator().manual_seed(99)
    ids = torch.randint(4, s.vocab_size, (16, 64 if sigmoid else 12), generator=g)
    with torch.no_grad():
        text = torch.nn.functional.normalize(model.encode_text(ids, torch.ones_like(ids), torch.zeros_like(ids)), dim=-1)
        image = torch.nn.functional.normalize(model.encode_image(torch.randn(8, 3, s.image_size, s.image_size, generator=g)), dim=-1)
    cos = image @ text.t()
    spread = (cos - cos.mean(dim=1, keepdim=True)).std().item()
    scale = round(2.0 / max(spread, 1e-4), 3)
    model.logit_scale.data.fill_(torch.tensor(scale).log().item())
    if sigmoid:
        model.logit_bias.data.fill_(round(-scale * cos.mean().item(), 3))


def sigmoid_family(folder: Path, tokenizer: dict, tokenizer_config: dict, processor_resample: int, seed: int) -> None:
    torch.manual_seed(seed)
    shape = TowerShape(vocab_size=tokenizers.vocab_size(tokenizer), context_length=64)
    model = DualEncoder(shape, TextTower(shape, "last"), 1.0, 0.0).eval()
    calibrate(model, sigmoid=True)
    ids = torch.ones(2, 64, dtype=torch.int64)
    pixels = torch.zeros(2, 3, shape.image_size, shape.image_size)
    batch = {0: "batch_size"}
    export(CombinedExport(model, ("input_ids",)), (ids, pixels), folder / "onnx" / "model.onnx",
           ["input_ids", "pixel_values"], ["logits_per_image", "logits_per_text", "text_embeds", "image_embeds"],
           {"input_ids": {0: "text_batch_size", 1: "sequence_length"}, "pixel_values": {0: "image_batch_size"},
            "logits_per_image": {0: "image_batch_size", 1: "text_batch_size"},
            "logits_per_text": {0: "text_batch_size", 1: "image_batch_size"},
            "text_embeds": {0: "text_batch_size"}, "image_embeds": {0: "image_batch_size"}})
    export(TextExport(model, ("input_ids",), hidden=True), (ids,), folder / "onnx" / "text_model.onnx",
           ["input_ids"], ["last_hidden_state", "pooler_output"],
           {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "last_hidden_state": {0: "batch_size", 1: "sequence_length"}, "pooler_output": batch})
    export(VisionExport(model, hidden=True), (pixels,), folder / "onnx" / "vision_model.onnx",
           ["pixel_values"], ["last_hidden_state", "pooler_output"],
           {"pixel_values": batch, "last_hidden_state": batch, "pooler_output": batch})
    special_files(folder, tokenizer, tokenizer_config)
    # As Xenova's SigLIP configs: no max_position_embeddings (64 is the class default), no trained scale or bias.
    write_json(folder / "config.json", {
        "architectures": ["SiglipModel"], "model_type": "siglip",
        "text_config": {"model_type": "siglip_text_model", "hidden_size": shape.text_width,
                        "num_hidden_layers": shape.text_layers, "num_attention_heads": shape.text_heads,
                        "vocab_size": shape.vocab_size},
        "vision_config": {"model_type": "siglip_vision_model", "hidden_size": shape.vision_width,
                          "image_size": shape.image_size, "patch_size": shape.patch_size}})
    write_json(folder / "preprocessor_config.json", {
        "do_normalize": True, "do_rescale": True, "do_resize": True, "image_mean": [0.5, 0.5, 0.5],
        "image_processor_type": "SiglipImageProcessor", "image_std": [0.5, 0.5, 0.5],
        "processor_class": "SiglipProcessor", "resample": processor_resample,
        "rescale_factor": 0.00392156862745098, "size": {"height": shape.image_size, "width": shape.image_size}})


def chinese_clip(folder: Path, seed: int) -> None:
    torch.manual_seed(seed)
    tokenizer, vocab = tokenizers.wordpiece(corpus(english=True, chinese=True))
    shape = TowerShape(vocab_size=len(vocab), context_length=512)
    model = DualEncoder(shape, TextTower(shape, "first", token_types=True), 1.0, None).eval()
    calibrate(model, sigmoid=False)
    ids = torch.zeros(2, 8, dtype=torch.int64)
    mask = torch.ones(2, 8, dtype=torch.int64)
    pixels = torch.zeros(2, 3, shape.image_size, shape.image_size)
    text_axes = {0: "text_batch_size", 1: "sequence_length"}
    export(CombinedExport(model, ("input_ids", "attention_mask", "token_type_ids")),
           (ids, mask, torch.zeros_like(ids), pixels), folder / "onnx" / "model.onnx",
           ["input_ids", "attention_mask", "token_type_ids", "pixel_values"],
           ["logits_per_image", "logits_per_text", "text_embeds", "image_embeds"],
           {"input_ids": text_axes, "attention_mask": text_axes, "token_type_ids": text_axes,
            "pixel_values": {0: "image_batch_size"},
            "logits_per_image": {0: "image_batch_size", 1: "text_batch_size"},
            "logits_per_text": {0: "text_batch_size", 1: "image_batch_size"},
            "text_embeds": {0: "text_batch_size"}, "image_embeds": {0: "image_batch_size"}})
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    special_files(folder, tokenizer, {
        "tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": 512,
        "tokenize_chinese_chars": True, "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]",
        "unk_token": "[UNK]", "mask_token": "[MASK]"})
    write_json(folder / "config.json", {
        "architectures": ["ChineseCLIPModel"], "model_type": "chinese_clip", "projection_dim": shape.embed_dim,
        "logit_scale_init_value": 2.6592,
        "text_config": {"model_type": "chinese_clip_text_model", "hidden_size": shape.text_width,
                        "num_hidden_layers": shape.text_layers, "num_attention_heads": shape.text_heads,
                        "max_position_embeddings": 512, "type_vocab_size": 2, "vocab_size": shape.vocab_size},
        "vision_config": {"model_type": "chinese_clip_vision_model", "hidden_size": shape.vision_width,
                          "image_size": shape.image_size, "patch_size": shape.patch_size}})
    write_json(folder / "preprocessor_config.json", {
        "crop_size": {"height": shape.image_size, "width": shape.image_size}, "do_center_crop": True,
        "do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True,
        "feature_extractor_type": "ChineseCLIPFeatureExtractor", "image_mean": OPENAI_MEAN, "image_std": OPENAI_STD,
        "resample": 3, "rescale_factor": 0.00392156862745098,
        "size": {"height": shape.image_size, "width": shape.image_size}})


def immich(folder: Path, seed: int, tokenizer: dict, tokenizer_config: dict, context: int, text: str,
           open_clip_config: dict, preprocess: dict) -> None:
    """immich's exports: static [1, context] ids named "text" and [1, 3, S, S] pixels named "image", one
    "embedding" output each, open_clip's config.json beside textual/ and visual/."""
    torch.manual_seed(seed)
    shape = TowerShape(vocab_size=tokenizers.vocab_size(tokenizer), context_length=context)
    tower = TextTower(shape, "mean", pad_id=1) if text == "xlmr" else TextTower(shape, "last")
    model = DualEncoder(shape, tower, 100.0, None).eval()
    ids = torch.ones(1, context, dtype=torch.int64)
    export(TextExport(model, ("text",), hidden=False), (ids,), folder / "textual" / "model.onnx",
           ["text"], ["embedding"], None)
    export(VisionExport(model, hidden=False), (torch.zeros(1, 3, shape.image_size, shape.image_size),),
           folder / "visual" / "model.onnx", ["image"], ["embedding"], None)
    special_files(folder / "textual", tokenizer, tokenizer_config)
    open_clip_config["embed_dim"] = shape.embed_dim
    open_clip_config["vision_cfg"] = {"image_size": shape.image_size, "patch_size": shape.patch_size,
                                      "width": shape.vision_width, "layers": shape.vision_layers}
    open_clip_config.setdefault("text_cfg", {})["vocab_size"] = shape.vocab_size
    write_json(folder / "config.json", open_clip_config)
    write_json(folder / "visual" / "preprocess_cfg.json", preprocess | {"size": [shape.image_size] * 2})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    out: Path = args.out
    for name in ("siglip", "siglip2", "chinese-clip", "immich-xlmr", "immich-siglip2"):
        shutil.rmtree(out / name, ignore_errors=True)

    unigram = tokenizers.unigram(corpus(english=True, chinese=True), 420, "siglip")
    sigmoid_family(out / "siglip", unigram, {
        "tokenizer_class": "SiglipTokenizer", "model_max_length": 64, "do_lower_case": True,
        "eos_token": "</s>", "pad_token": "</s>", "unk_token": "<unk>"}, 3, seed=11)
    bpe = tokenizers.byte_fallback_bpe(corpus(english=True, chinese=False), 220)
    gemma_config = {"tokenizer_class": "GemmaTokenizer", "model_max_length": 64, "add_bos_token": False,
                    "add_eos_token": True, "bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>",
                    "unk_token": "<unk>"}
    sigmoid_family(out / "siglip2", bpe, gemma_config, 2, seed=12)
    chinese_clip(out / "chinese-clip", seed=13)
    immich(out / "immich-xlmr", 14, tokenizers.unigram(corpus(english=True, chinese=True), 400, "xlmr"),
           {"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 77, "bos_token": "<s>",
            "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}, 77, "xlmr",
           {"text_cfg": {"hf_model_name": "xlm-roberta-base", "hf_tokenizer_name": "xlm-roberta-base",
                         "hf_proj_type": "linear", "hf_pooler_type": "mean_pooler"}},
           {"mode": "RGB", "mean": OPENAI_MEAN, "std": OPENAI_STD, "interpolation": "bicubic",
            "resize_mode": "shortest", "fill_color": 0})
    immich(out / "immich-siglip2", 15, bpe, gemma_config, 64, "siglip",
           {"init_logit_scale": 2.302585, "init_logit_bias": -10,
            "text_cfg": {"context_length": 64, "hf_tokenizer_name": "timm/ViT-B-16-SigLIP2",
                         "tokenizer_kwargs": {"clean": "canonicalize"}}},
           {"mode": "RGB", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "interpolation": "bilinear",
            "resize_mode": "squash", "fill_color": 0})
    images(out / "images", 32)
    for name in ("siglip", "siglip2", "chinese-clip"):
        print(name, import_folder(out / name))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
