#!/usr/bin/python3
"""Writes the small tokenizer fixtures that tests/ClipService.Core.Tests/Tokenization/TokenizerFixtureTests.cs
checks against transformers.js (tools/oracle/tokenize.mjs writes their expected.json).

- tests/assets/tokenizers/unigram/: a Unigram model trained here with Debian's python3-sentencepiece on the
  multilingual corpus below, converted to a Hugging Face tokenizer.json shaped like SigLIP v1's fast tokenizer
  (<pad> 0, </s> 1, <unk> 2; Lowercase, ASCII punctuation removed, whitespace collapsed, Strip; Metaspace;
  </s> appended).
- tests/assets/tokenizers/wordpiece/: a BERT-style WordPiece vocabulary built from the same corpus, shaped like
  Chinese-CLIP's (BertNormalizer with CJK handling and lowercasing, BertPreTokenizer, [CLS] ... [SEP]).

    /usr/bin/python3 tools/make_tokenizer_fixtures.py [--out tests/assets/tokenizers]

Deterministic: sentencepiece is trained single-threaded on a fixed corpus.
"""
from __future__ import annotations

import argparse
import io
import json
import re
import string
import unicodedata
from pathlib import Path

CORPUS = """\
A photo of a cat. A photo of a dog. A photo of a bird sitting on a branch.
This is a photo of a red car parked near the old station.
A close-up picture of a small black cat sleeping on the sofa.
The dog runs across the green field while the children play football.
Rock and roll music is playing loudly in the little café tonight.
She said: "rock'n'roll will never die!" and everybody laughed.
A bowl of fresh fruit, apples, oranges and bananas, on a wooden table.
Mountains covered with snow, a lake and a forest under a blue sky.
An aerial view of the city at night with bright lights and busy streets.
Istanbul is a large city between Europe and Asia; ships cross the Bosphorus.
A painting of a boat on the river in the morning light.
People are walking in the park, some of them with their dogs and cats.
The quick brown fox jumps over the lazy dog again and again.
A diagram showing the parts of a flower: petals, leaves, stem and roots.
A text written in several languages, with numbers like 1, 2, 3, 10 and 2024.
一只猫的照片。一只狗的照片。一张汽车的照片。
这是一张红色汽车的照片，停在老车站旁边。
小猫在沙发上睡觉，小狗在草地上跑。
我们在公园里看到很多人和他们的狗。
天空是蓝色的，山上有雪，湖边有树林。
日本語のテキストです。猫の写真と犬の写真があります。
東京の夜景はとてもきれいです。
οδος και δρομος στην πολη, ενας σοφος ανθρωπος.
η θαλασσα ειναι μπλε και ο ουρανος ειναι καθαρος.
Η ΟΔΟΣ ειναι μεγαλη, σπιτι, ποταμος, κοσμος.
"""

ASCII_PUNCTUATION = "[" + re.escape(string.punctuation) + "]"


# Captions composed from these lists (deterministically) give the trainer enough repeated words for a vocabulary of
# several hundred pieces.
ADJECTIVES = ("red green blue yellow black white small large old young happy sleepy wooden metal bright dark "
              "shiny fluffy striped spotted ancient modern tiny giant quiet noisy").split()
NOUNS = ("cat dog bird horse car bicycle train airplane boat house tree flower mountain river bridge castle "
         "robot guitar piano teacup pizza sandwich banana orange apple umbrella lamp chair table window "
         "street garden beach forest kitchen library museum market festival elephant tiger penguin").split()
PLACES = ("in the snow", "on the beach", "under a tree", "at night", "in the rain", "next to a window",
          "on a table", "in a garden", "near the river", "in the city", "on the grass", "in a studio")
TEMPLATES = ("a photo of a {a} {n} {p}.", "This is a photo of the {a} {n}.", "a drawing of a {n} {p}",
             "A close-up photo of the {n}, {a} and {a2}.", "an origami {n}!", "a blurry photo of a {a} {n} {p}")
CHINESE = ("猫 狗 鸟 马 汽车 自行车 火车 飞机 船 房子 树 花 山 河 桥 城堡 机器人 吉他 钢琴 茶杯 披萨 香蕉 橙子 苹果 雨伞 "
           "椅子 桌子 窗户 街道 花园 海滩 森林 厨房 图书馆 博物馆 市场 大象 老虎 企鹅").split()
JAPANESE = "猫 犬 鳥 馬 車 電車 飛行機 船 家 木 花 山 川 橋 城 ロボット ギター ピアノ テーブル 窓 公園 海".split()


def corpus_lines() -> list[str]:
    lines = [line for line in CORPUS.splitlines() if line.strip()]
    for i, noun in enumerate(NOUNS):
        for j, pattern in enumerate(TEMPLATES):
            a, a2 = ADJECTIVES[(i + 3 * j) % len(ADJECTIVES)], ADJECTIVES[(2 * i + j + 5) % len(ADJECTIVES)]
            lines.append(pattern.format(a=a, a2=a2, n=noun, p=PLACES[(i + j) % len(PLACES)]))
    for i, word in enumerate(CHINESE):
        lines.append(f"一张{word}的照片。")
        lines.append(f"这是一只{CHINESE[(i + 7) % len(CHINESE)]}和一个{word}。")
    for word in JAPANESE:
        lines.append(f"{word}の写真です。")
    return lines


def siglip_canonical(text: str) -> str:
    """What SigLIP v1's normalizer makes of a line (the Unigram model is trained on normalised text)."""
    text = re.sub(ASCII_PUNCTUATION, "", text.lower())
    return re.sub(r"\s+", " ", text).strip()


def special_token(content: str, token_id: int) -> dict:
    return {"id": token_id, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def template(before: list[str], after: list[str], ids: dict[str, int]) -> dict:
    def special(t: str) -> dict:
        return {"SpecialToken": {"id": t, "type_id": 0}}

    def sequence(name: str) -> dict:
        return {"Sequence": {"id": name, "type_id": 0}}

    single = [special(t) for t in before] + [sequence("A")] + [special(t) for t in after]
    pair = single + [sequence("B")] + [special(t) for t in after]
    return {"type": "TemplateProcessing", "single": single, "pair": pair,
            "special_tokens": {t: {"id": t, "ids": [ids[t]], "tokens": [t]} for t in sorted(set(before + after))}}


def train_unigram(lines: list[str], vocab_size: int) -> bytes:
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, model_type="unigram", vocab_size=vocab_size,
        character_coverage=1.0, normalization_rule_name="identity", split_digits=True,
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>",
        hard_vocab_limit=False, num_threads=1, minloglevel=2)
    return model.getvalue()


def unigram_tokenizer(model_proto: bytes) -> dict:
    """The trained model as a Hugging Face Unigram tokenizer.json: every piece at its sentencepiece id, with its
    score (control and unknown pieces score 0, as Hugging Face's converter writes them)."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_proto=model_proto)
    vocab = []
    for i in range(sp.get_piece_size()):
        plain = not (sp.is_control(i) or sp.is_unknown(i))
        vocab.append([sp.id_to_piece(i), round(sp.get_score(i), 6) if plain else 0.0])
    ids = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    assert all(vocab[i][0] == t for t, i in ids.items()), vocab[:3]
    metaspace = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [special_token(t, i) for t, i in ids.items()],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Lowercase"},
            {"type": "Replace", "pattern": {"Regex": ASCII_PUNCTUATION}, "content": ""},
            {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
            {"type": "Strip", "strip_left": True, "strip_right": True}]},
        "pre_tokenizer": metaspace,
        "post_processor": template([], ["</s>"], ids),
        "decoder": metaspace,
        "model": {"type": "Unigram", "unk_id": ids["<unk>"], "vocab": vocab, "byte_fallback": False},
    }


def is_cjk(ch: str) -> bool:
    return 0x4E00 <= ord(ch) <= 0x9FFF or 0x3400 <= ord(ch) <= 0x4DBF


def bert_words(line: str) -> list[str]:
    """Roughly what BERT's normaliser and pre-tokenizer make of a line: lowercased, accents stripped, split on
    whitespace and punctuation, CJK characters on their own."""
    text = unicodedata.normalize("NFD", line.lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    text = "".join(f" {c} " if is_cjk(c) or unicodedata.category(c).startswith("P") or c in string.punctuation
                   else c for c in text)
    return text.split()


def wordpiece_vocab(lines: list[str]) -> list[str]:
    """[PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4; every character of the corpus and its ## form; whole words
    seen at least twice; a few ## suffixes so that longer words split. Characters left out on purpose: the
    katakana ト (so テキスト ends in [UNK] as a whole word) and every emoji."""
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words: dict[str, int] = {}
    chars: set[str] = set(string.ascii_lowercase + string.digits + string.punctuation)
    for line in lines:
        for word in bert_words(line):
            chars.update(word)
            words[word] = words.get(word, 0) + 1
    chars.discard("ト")
    for c in sorted(chars):
        vocab.append(c)
        if not is_cjk(c) and c not in string.punctuation:
            vocab.append("##" + c)
    for suffix in ("##ing", "##s", "##ed", "##er", "##ly", "##tion", "##ou", "##os", "##ος"):
        vocab.append(suffix)
    for word, count in sorted(words.items(), key=lambda kv: (-kv[1], kv[0])):
        if count >= 2 and len(word) > 1 and word not in vocab:
            vocab.append(word)
    for word in ("istanbul", "οδος", "photo", "cat", "roll", "rock"):
        if word not in vocab:
            vocab.append(word)
    return vocab


def wordpiece_tokenizer(vocab: list[str]) -> dict:
    ids = {t: i for i, t in enumerate(vocab)}
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [special_token(t, ids[t]) for t in specials],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": template(["[CLS]"], ["[SEP]"], ids),
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": ids},
    }


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("tests/assets/tokenizers"))
    parser.add_argument("--unigram-vocab", type=int, default=600)
    args = parser.parse_args()
    lines = corpus_lines()

    unigram_dir = args.out / "unigram"
    unigram_dir.mkdir(parents=True, exist_ok=True)
    unigram = unigram_tokenizer(train_unigram([siglip_canonical(line) for line in lines], args.unigram_vocab))
    write_json(unigram_dir / "tokenizer.json", unigram)
    write_json(unigram_dir / "tokenizer_config.json", {
        "tokenizer_class": "SiglipTokenizer", "do_lower_case": True, "model_max_length": 64,
        "eos_token": "</s>", "pad_token": "</s>", "unk_token": "<unk>"})

    wordpiece_dir = args.out / "wordpiece"
    wordpiece_dir.mkdir(parents=True, exist_ok=True)
    vocab = wordpiece_vocab(lines)
    write_json(wordpiece_dir / "tokenizer.json", wordpiece_tokenizer(vocab))
    write_json(wordpiece_dir / "tokenizer_config.json", {
        "tokenizer_class": "BertTokenizer", "do_lower_case": True, "tokenize_chinese_chars": True,
        "model_max_length": 52, "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]",
        "unk_token": "[UNK]", "mask_token": "[MASK]"})
    print(f"unigram: {len(unigram['model']['vocab'])} pieces; wordpiece: {len(vocab)} tokens -> {args.out}")


if __name__ == "__main__":
    main()
