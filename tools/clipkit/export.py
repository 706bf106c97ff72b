"""Export a CLIP to a model folder the service (and any CLIP runtime) loads.

Layouts:
- "hf": the Hugging Face / transformers.js (Xenova) layout: onnx/text_model.onnx, onnx/vision_model.onnx,
  tokenizer files, preprocessor_config.json, config.json.
- "clip-as-service": textual.onnx / visual.onnx with int32 ids and fixed shapes, nothing else; the service
  falls back to OpenAI's vocabulary and preprocessing constants for such a folder.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from .model import Clip, TextExport, VisionExport

OPENAI_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_STD = [0.26862954, 0.26130258, 0.27577711]
TOKENIZER_FILES = ("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
OPSET = 14


def _export(module: torch.nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str],
            dynamic_axes: dict | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(module, args, str(path), input_names=inputs, output_names=outputs,
                          dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True)


def export_onnx(clip: Clip, folder: Path, layout: str = "hf") -> None:
    c = clip.config
    clip.eval()
    ids = torch.full((2, c.context_length), 49407, dtype=torch.int64)
    ids[:, 0] = 49406
    ids[:, 1] = 320
    mask = torch.zeros_like(ids)
    mask[:, :3] = 1
    pixels = torch.zeros(2, 3, c.image_size, c.image_size)
    if layout == "hf":
        _export(TextExport(clip), (ids, mask), folder / "onnx" / "text_model.onnx",
                ["input_ids", "attention_mask"], ["text_embeds", "last_hidden_state"],
                {"input_ids": {0: "batch_size", 1: "sequence_length"},
                 "attention_mask": {0: "batch_size", 1: "sequence_length"},
                 "text_embeds": {0: "batch_size"},
                 "last_hidden_state": {0: "batch_size", 1: "sequence_length"}})
        _export(VisionExport(clip), (pixels,), folder / "onnx" / "vision_model.onnx",
                ["pixel_values"], ["image_embeds", "last_hidden_state"],
                {"pixel_values": {0: "batch_size"}, "image_embeds": {0: "batch_size"},
                 "last_hidden_state": {0: "batch_size"}})
    elif layout == "clip-as-service":
        _export(TextExport(clip), (ids.to(torch.int32), mask.to(torch.int32)), folder / "textual.onnx",
                ["input_ids", "attention_mask"], ["output"],
                {"input_ids": {0: "batch_size"}, "attention_mask": {0: "batch_size"}, "output": {0: "batch_size"}})
        _export(VisionExport(clip), (pixels,), folder / "visual.onnx", ["pixel_values"], ["output"],
                {"pixel_values": {0: "batch_size"}, "output": {0: "batch_size"}})
        _drop_extra_outputs(folder / "textual.onnx", keep=1)
        _drop_extra_outputs(folder / "visual.onnx", keep=1)
    else:
        raise ValueError(f"unknown layout {layout!r}")


def _drop_extra_outputs(path: Path, keep: int) -> None:
    import onnx

    model = onnx.load(str(path))
    while len(model.graph.output) > keep:
        model.graph.output.pop()
    onnx.save(model, str(path))


def write_metadata(clip: Clip, folder: Path, tokenizer_dir: Path, tokenizer_files=TOKENIZER_FILES,
                   trained_logit_scale: float | None = None) -> None:
    c = clip.config
    folder.mkdir(parents=True, exist_ok=True)
    for name in tokenizer_files:
        shutil.copyfile(tokenizer_dir / name, folder / name)
    shutil.copyfile(tokenizer_dir / "LICENSE-openai-CLIP", folder / "LICENSE-tokenizer")
    preprocessor = {
        "crop_size": {"height": c.image_size, "width": c.image_size},
        "do_center_crop": True, "do_convert_rgb": True, "do_normalize": True, "do_rescale": True,
        "do_resize": True, "feature_extractor_type": "CLIPFeatureExtractor",
        "image_mean": OPENAI_MEAN, "image_processor_type": "CLIPImageProcessor", "image_std": OPENAI_STD,
        "resample": 3, "rescale_factor": 1 / 255, "size": {"shortest_edge": c.image_size},
    }
    config = {
        "architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": c.embed_dim,
        "logit_scale_init_value": 2.6592,
        "text_config": {"model_type": "clip_text_model", "hidden_size": c.text_width,
                        "intermediate_size": c.text_width * c.mlp_ratio, "num_hidden_layers": c.text_layers,
                        "num_attention_heads": c.text_heads, "max_position_embeddings": c.context_length,
                        "vocab_size": c.vocab_size, "hidden_act": "quick_gelu", "bos_token_id": 49406,
                        "eos_token_id": 49407, "pad_token_id": 49407, "projection_dim": c.embed_dim},
        "vision_config": {"model_type": "clip_vision_model", "hidden_size": c.vision_width,
                          "intermediate_size": c.vision_width * c.mlp_ratio,
                          "num_hidden_layers": c.vision_layers, "num_attention_heads": c.vision_heads,
                          "image_size": c.image_size, "patch_size": c.patch_size, "hidden_act": "quick_gelu",
                          "projection_dim": c.embed_dim},
    }
    if trained_logit_scale is not None:
        # Hugging Face's logit_scale_init_value is the initial log-scale; the trained, linear scale goes
        # in its own key, which ClipService reads.
        config["trained_logit_scale"] = round(float(trained_logit_scale), 4)
    (folder / "preprocessor_config.json").write_text(json.dumps(preprocessor, indent=2) + "\n")
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")


def load_exported(clip: Clip, folder: Path) -> None:
    """Load the weights of a model folder this module exported ("hf" layout) back into `clip` (same config).

    Named initialisers carry their parameter names; the exporter folds each linear layer's weight into an
    anonymous, transposed MatMul constant, named here after the node that consumes it
    (/text_model/layers.0/fc1/MatMul -> text_model.layers.0.fc1.weight).
    """
    import json

    import onnx
    from onnx import numpy_helper

    state = clip.state_dict()
    loaded = {}
    for tower in ("text_model", "vision_model"):
        graph = onnx.load(str(folder / "onnx" / f"{tower}.onnx")).graph
        values = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
        for name, value in values.items():
            if name.removeprefix("clip.") in state:
                loaded[name.removeprefix("clip.")] = value
        for node in graph.node:
            if node.op_type == "MatMul" and node.input[1] in values and node.input[1] not in loaded:
                name = node.name.strip("/").removesuffix("/MatMul").replace("/", ".") + ".weight"
                loaded[name] = values[node.input[1]].t()
    scale = json.loads((folder / "config.json").read_text())["trained_logit_scale"]
    loaded["logit_scale"] = torch.tensor(float(scale)).log()
    missing, unexpected = set(state) - set(loaded), set(loaded) - set(state)
    if missing or unexpected:
        raise ValueError(f"{folder} does not match the config: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
    clip.load_state_dict(loaded)
