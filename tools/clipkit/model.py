"""The standard CLIP architecture (Radford et al. 2021), written from the paper's description.

Vision: ViT with a class token, learned positions, a layer norm before and after the transformer, the
class token projected. Text: causal transformer over byte-level BPE ids, pooled at the end-of-text token
(the highest id, as OpenAI's implementation does with argmax). Quick-GELU MLPs. Parameter names follow the
Hugging Face CLIPModel naming so exported graphs look like every other CLIP export.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class ClipConfig:
    embed_dim: int
    image_size: int
    patch_size: int
    vision_width: int
    vision_layers: int
    vision_heads: int
    context_length: int
    vocab_size: int
    text_width: int
    text_layers: int
    text_heads: int
    mlp_ratio: int = 4

    def to_dict(self) -> dict:
        return asdict(self)


CONFIGS = {
    # Small enough to commit for parity tests: the 49,408-row token table dominates its size.
    "tiny": ClipConfig(embed_dim=32, image_size=32, patch_size=8, vision_width=64, vision_layers=2,
                       vision_heads=4, context_length=77, vocab_size=49408, text_width=32,
                       text_layers=2, text_heads=2),
    # OpenAI ViT-B/32 shapes, for benchmarks (about 600 MB; generated on demand, never committed).
    "vit-b-32": ClipConfig(embed_dim=512, image_size=224, patch_size=32, vision_width=768,
                           vision_layers=12, vision_heads=12, context_length=77, vocab_size=49408,
                           text_width=512, text_layers=12, text_heads=8),
}


class QuickGelu(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class Attention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.head_dim = width // heads
        self.scale = self.head_dim ** -0.5
        self.q_proj = nn.Linear(width, width)
        self.k_proj = nn.Linear(width, width)
        self.v_proj = nn.Linear(width, width)
        self.out_proj = nn.Linear(width, width)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.view(b, n, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        b, n, w = x.shape
        q = self._split(self.q_proj(x) * self.scale)
        k = self._split(self.k_proj(x))
        v = self._split(self.v_proj(x))
        scores = q @ k.transpose(-1, -2)
        if bias is not None:
            scores = scores + bias
        out = scores.softmax(dim=-1) @ v
        return self.out_proj(out.transpose(1, 2).reshape(b, n, w))


class EncoderLayer(nn.Module):
    def __init__(self, width: int, heads: int, mlp_ratio: int):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(width)
        self.self_attn = Attention(width, heads)
        self.layer_norm2 = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, width * mlp_ratio)
        self.act = QuickGelu()
        self.fc2 = nn.Linear(width * mlp_ratio, width)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.self_attn(self.layer_norm1(x), bias)
        return x + self.fc2(self.act(self.fc1(self.layer_norm2(x))))


class VisionTower(nn.Module):
    def __init__(self, c: ClipConfig):
        super().__init__()
        grid = c.image_size // c.patch_size
        self.patch_embedding = nn.Conv2d(3, c.vision_width, c.patch_size, c.patch_size, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(c.vision_width) * c.vision_width ** -0.5)
        self.position_embedding = nn.Parameter(torch.randn(grid * grid + 1, c.vision_width) * 0.02)
        self.pre_layrnorm = nn.LayerNorm(c.vision_width)
        self.layers = nn.ModuleList(
            EncoderLayer(c.vision_width, c.vision_heads, c.mlp_ratio) for _ in range(c.vision_layers))
        self.post_layernorm = nn.LayerNorm(c.vision_width)

    def forward(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.position_embedding
        x = self.pre_layrnorm(x)
        for layer in self.layers:
            x = layer(x)
        return x, self.post_layernorm(x[:, 0])


class TextTower(nn.Module):
    def __init__(self, c: ClipConfig):
        super().__init__()
        self.token_embedding = nn.Embedding(c.vocab_size, c.text_width)
        self.position_embedding = nn.Parameter(torch.randn(c.context_length, c.text_width) * 0.01)
        self.layers = nn.ModuleList(
            EncoderLayer(c.text_width, c.text_heads, c.mlp_ratio) for _ in range(c.text_layers))
        self.final_layer_norm = nn.LayerNorm(c.text_width)
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        causal = torch.triu(torch.full((c.context_length, c.context_length), -1e4), diagonal=1)
        self.register_buffer("causal_bias", causal, persistent=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        n = input_ids.shape[1]
        x = self.token_embedding(input_ids) + self.position_embedding[:n]
        bias = self.causal_bias[:n, :n].unsqueeze(0).unsqueeze(0)
        if attention_mask is not None:
            # Padding keys are masked as Hugging Face does; with causal attention and pooling at the end
            # token this changes nothing for the pooled output, but keeps the input meaningful.
            bias = bias + (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -1e4
        for layer in self.layers:
            x = layer(x, bias)
        x = self.final_layer_norm(x)
        eot = input_ids.to(torch.int64).argmax(dim=-1)
        pooled = x[torch.arange(x.shape[0]), eot]
        return x, pooled


class Clip(nn.Module):
    def __init__(self, c: ClipConfig):
        super().__init__()
        self.config = c
        self.vision_model = VisionTower(c)
        self.text_model = TextTower(c)
        self.visual_projection = nn.Linear(c.vision_width, c.embed_dim, bias=False)
        self.text_projection = nn.Linear(c.text_width, c.embed_dim, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def encode_image(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.visual_projection(self.vision_model(pixel_values)[1])

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.text_projection(self.text_model(input_ids, attention_mask)[1])


class TextExport(nn.Module):
    """text_model.onnx: input_ids (+ attention_mask) -> text_embeds (unnormalised), last_hidden_state."""

    def __init__(self, clip: Clip, ids_dtype: torch.dtype = torch.int64):
        super().__init__()
        self.clip = clip
        self.ids_dtype = ids_dtype

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        hidden, pooled = self.clip.text_model(input_ids.to(torch.int64), attention_mask)
        return self.clip.text_projection(pooled), hidden


class VisionExport(nn.Module):
    """vision_model.onnx: pixel_values -> image_embeds (unnormalised), last_hidden_state."""

    def __init__(self, clip: Clip):
        super().__init__()
        self.clip = clip

    def forward(self, pixel_values: torch.Tensor):
        hidden, pooled = self.clip.vision_model(pixel_values)
        return self.clip.visual_projection(pooled), hidden


def normalized(x: torch.Tensor) -> torch.Tensor:
    return F.normalize(x, dim=-1)
