"""CLIP's byte-level BPE for ASCII captions, used to train and test the tooling's own models.

The service's exact tokenizer is the C# one (checked against OpenAI's reference vectors); this one only
needs to agree with it on the plain lower-case ASCII captions the tooling writes, and refuses anything else.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

SOT, EOT = 49406, 49407
_PATTERN = re.compile(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\sa-z0-9]+")


class AsciiClipTokenizer:
    def __init__(self, vocab_json: Path, merges_txt: Path):
        self.encoder: dict[str, int] = json.loads(Path(vocab_json).read_text(encoding="utf-8"))
        lines = Path(merges_txt).read_text(encoding="utf-8").split("\n")
        merges = [tuple(line.split()) for line in lines if line and not line.startswith("#version")]
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.cache: dict[str, list[int]] = {}

    def _bpe(self, token: str) -> list[int]:
        if token in self.cache:
            return self.cache[token]
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        ids = [self.encoder[w] for w in word]
        self.cache[token] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        if not text.isascii():
            raise ValueError(f"the tooling tokenizer handles ASCII only: {text!r}")
        text = " ".join(text.split()).lower()
        ids: list[int] = []
        for token in _PATTERN.findall(text):
            ids.extend(self._bpe(token))
        return ids

    def tokenize(self, texts: list[str], context_length: int = 77) -> tuple[list[list[int]], list[list[int]]]:
        """End-token padded ids and attention masks, truncated with the end token kept last."""
        all_ids, masks = [], []
        for text in texts:
            ids = [SOT] + self.encode(text)[: context_length - 2] + [EOT]
            mask = [1] * len(ids) + [0] * (context_length - len(ids))
            all_ids.append(ids + [EOT] * (context_length - len(ids)))
            masks.append(mask)
        return all_ids, masks
