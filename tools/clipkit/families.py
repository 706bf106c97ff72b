"""Random-weight dual encoders shaped like the non-CLIP families, exported as their published ONNX files are.

The towers are small transformers, not the papers' exact architectures: what the service depends on is each
family's input/output contract, which they keep:
- SigLIP / SigLIP 2 text: ids only, no attention mask, pooled at the LAST position (so the padding id and length
  change the embedding); vision pooled and projected by a "head".
- Chinese-CLIP text: BERT inputs (ids, attention mask, token type ids), pooled at [CLS], projected without bias.
- XLM-R (open_clip, as immich exports it): the mask is derived inside the graph from ids != <pad>, mean-pooled.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .model import ClipConfig, EncoderLayer, VisionTower


@dataclass(frozen=True)
class TowerShape:
    vocab_size: int
    context_length: int
    embed_dim: int = 32
    text_width: int = 32
    text_layers: int = 2
    text_heads: int = 2
    image_size: int = 32
    patch_size: int = 8
    vision_width: int = 48
    vision_layers: int = 2
    vision_heads: int = 2

    def vision_config(self) -> ClipConfig:
        return ClipConfig(embed_dim=self.embed_dim, image_size=self.image_size, patch_size=self.patch_size,
                          vision_width=self.vision_width, vision_layers=self.vision_layers,
                          vision_heads=self.vision_heads, context_length=self.context_length,
                          vocab_size=self.vocab_size, text_width=self.text_width,
                          text_layers=self.text_layers, text_heads=self.text_heads)


class TextTower(nn.Module):
    """pooling: "last" (SigLIP), "first" (BERT's [CLS]) or "mean" (masked mean, open_clip's XLM-R)."""

    def __init__(self, s: TowerShape, pooling: str, token_types: bool = False, pad_id: int | None = None):
        super().__init__()
        self.pooling = pooling
        self.pad_id = pad_id
        self.token_embedding = nn.Embedding(s.vocab_size, s.text_width)
        self.position_embedding = nn.Parameter(torch.randn(s.context_length, s.text_width) * 0.1)
        self.token_type_embedding = nn.Embedding(2, s.text_width) if token_types else None
        self.layers = nn.ModuleList(EncoderLayer(s.text_width, s.text_heads, 4) for _ in range(s.text_layers))
        self.final_layer_norm = nn.LayerNorm(s.text_width)
        self.head = nn.Linear(s.text_width, s.embed_dim, bias=pooling != "first")
        nn.init.normal_(self.token_embedding.weight, std=0.5)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        ids = input_ids.to(torch.int64)
        n = ids.shape[1]
        x = self.token_embedding(ids) + self.position_embedding[:n]
        if self.token_type_embedding is not None:
            types = torch.zeros_like(ids) if token_type_ids is None else token_type_ids.to(torch.int64)
            x = x + self.token_type_embedding(types)
        if self.pad_id is not None:
            attention_mask = (ids != self.pad_id).to(torch.int64)
        bias = None
        if attention_mask is not None:
            bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -1e4
        for layer in self.layers:
            x = layer(x, bias)
        x = self.final_layer_norm(x)
        if self.pooling == "last":
            pooled = x[:, -1]
        elif self.pooling == "first":
            pooled = x[:, 0]
        else:
            weights = attention_mask.to(x.dtype).unsqueeze(-1)
            pooled = (x * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return x, self.head(pooled)


class DualEncoder(nn.Module):
    def __init__(self, s: TowerShape, text: TextTower, logit_scale: float, logit_bias: float | None):
        super().__init__()
        self.shape = s
        self.text_model = text
        self.vision_model = VisionTower(s.vision_config())
        self.visual_projection = nn.Linear(s.vision_width, s.embed_dim)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(logit_scale)))
        self.logit_bias = None if logit_bias is None else nn.Parameter(torch.tensor(float(logit_bias)))

    def encode_text(self, input_ids, attention_mask=None, token_type_ids=None) -> torch.Tensor:
        return self.text_model(input_ids, attention_mask, token_type_ids)[1]

    def encode_image(self, pixel_values) -> torch.Tensor:
        return self.visual_projection(self.vision_model(pixel_values)[1])


class CombinedExport(nn.Module):
    """onnx/model.onnx as transformers.js runs it: logits_per_image, logits_per_text, text_embeds, image_embeds
    (the embeddings L2-normalised, as Hugging Face's models return them)."""

    def __init__(self, model: DualEncoder, text_inputs: tuple[str, ...]):
        super().__init__()
        self.model = model
        self.text_inputs = text_inputs

    def forward(self, *args):
        named = dict(zip(self.text_inputs + ("pixel_values",), args))
        text = F.normalize(self.model.encode_text(named["input_ids"], named.get("attention_mask"),
                                                  named.get("token_type_ids")), dim=-1)
        image = F.normalize(self.model.encode_image(named["pixel_values"]), dim=-1)
        logits_per_text = text @ image.t() * self.model.logit_scale.exp()
        if self.model.logit_bias is not None:
            logits_per_text = logits_per_text + self.model.logit_bias
        return logits_per_text.t(), logits_per_text, text, image


class TextExport(nn.Module):
    def __init__(self, model: DualEncoder, text_inputs: tuple[str, ...], hidden: bool):
        super().__init__()
        self.model = model
        self.text_inputs = text_inputs
        self.hidden = hidden

    def forward(self, *args):
        named = dict(zip(self.text_inputs, args))
        hidden, pooled = self.model.text_model(named.get("input_ids", named.get("text")),
                                               named.get("attention_mask"), named.get("token_type_ids"))
        return (hidden, pooled) if self.hidden else pooled


class VisionExport(nn.Module):
    def __init__(self, model: DualEncoder, hidden: bool):
        super().__init__()
        self.model = model
        self.hidden = hidden

    def forward(self, pixel_values):
        hidden, pooled = self.model.vision_model(pixel_values)
        embeds = self.model.visual_projection(pooled)
        return (hidden, embeds) if self.hidden else embeds


def export(module: nn.Module, args: tuple, path, inputs: list[str], outputs: list[str], dynamic: dict | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(module, args, str(path), input_names=inputs, output_names=outputs,
                          dynamic_axes=dynamic, opset_version=14, do_constant_folding=True)
