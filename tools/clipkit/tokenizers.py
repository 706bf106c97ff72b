"""Small tokenizer.json files of the three kinds the non-CLIP families ship, built offline.

- Unigram (SigLIP v1, XLM-R): pieces and scores trained with Debian's python3-sentencepiece, written as a Hugging
  Face Unigram model with a Metaspace pre-tokenizer.
- WordPiece (Chinese-CLIP's BERT): a vocabulary of words, ## continuations and single CJK characters.
- BPE with byte fallback (SigLIP 2's Gemma tokenizer): merges learnt by plain pair counting, <0xNN> byte tokens.

Each builder returns the tokenizer.json object; the layout of the special tokens follows the real files (SigLIP:
<pad> 0, </s> 1, <unk> 2; XLM-R: <s> 0, <pad> 1, </s> 2, <unk> 3; BERT: [PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102;
Gemma: <pad> 0, <eos> 1, <bos> 2, <unk> 3).
"""
from __future__ import annotations

import collections
import io
import string

ASCII_PUNCTUATION = "[" + "".join("\\" + c if c in "\\[]^-" else c for c in string.punctuation) + "]"


def _added(tokens: dict[str, int]) -> list[dict]:
    return [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
             "special": True} for t, i in sorted(tokens.items(), key=lambda kv: kv[1])]


def _template(single_before: list[str], single_after: list[str], ids: dict[str, int]) -> dict:
    special = lambda t: {"SpecialToken": {"id": t, "type_id": 0}}  # noqa: E731
    seq = [special(t) for t in single_before] + [{"Sequence": {"id": "A", "type_id": 0}}] + [special(t) for t in single_after]
    pair = seq + [{"Sequence": {"id": "B", "type_id": 0}}] + [special(t) for t in single_after]
    used = set(single_before) | set(single_after)
    return {"type": "TemplateProcessing", "single": seq, "pair": pair,
            "special_tokens": {t: {"id": t, "ids": [ids[t]], "tokens": [t]} for t in sorted(used)}}


def _metaspace() -> dict:
    return {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}


def _document(added: dict[str, int], normalizer, pre_tokenizer, post_processor, decoder, model) -> dict:
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": _added(added),
            "normalizer": normalizer, "pre_tokenizer": pre_tokenizer, "post_processor": post_processor,
            "decoder": decoder, "model": model}


def _sentencepiece_pieces(corpus: list[str], vocab_size: int) -> list[tuple[str, float]]:
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus), model_writer=model, vocab_size=vocab_size,
                                   model_type="unigram", character_coverage=1.0, normalization_rule_name="identity",
                                   unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1, hard_vocab_limit=False,
                                   minloglevel=2)
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    return [(processor.id_to_piece(i), round(processor.get_score(i), 6)) for i in range(processor.get_piece_size())
            if not processor.is_unknown(i) and not processor.is_control(i)]


def unigram(corpus: list[str], vocab_size: int, style: str) -> dict:
    """style "siglip": lowercase, ASCII punctuation dropped, whitespace collapsed, </s> appended.
    style "xlmr": runs of spaces collapsed, <s> … </s> around the text (RobertaProcessing, as XLM-R's file has)."""
    pieces = _sentencepiece_pieces(corpus, vocab_size)
    if style == "siglip":
        specials = {"<pad>": 0, "</s>": 1, "<unk>": 2}
        normalizer = {"type": "Sequence", "normalizers": [
            {"type": "Replace", "pattern": {"Regex": ASCII_PUNCTUATION}, "content": ""},
            {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
            {"type": "Lowercase"}]}
        post = _template([], ["</s>"], specials)
        unk = 2
    elif style == "xlmr":
        specials = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
        normalizer = {"type": "Sequence", "normalizers": [
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]}
        post = {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0], "trim_offsets": True,
                "add_prefix_space": True}
        unk = 3
    else:
        raise ValueError(style)
    vocab = [[t, 0.0] for t, _ in sorted(specials.items(), key=lambda kv: kv[1])] + [[p, s] for p, s in pieces]
    return _document(specials, normalizer, _metaspace(), post, _metaspace(),
                     {"type": "Unigram", "unk_id": unk, "vocab": vocab, "byte_fallback": False})


def _is_cjk(ch: str) -> bool:
    return 0x4E00 <= ord(ch) <= 0x9FFF or 0x3400 <= ord(ch) <= 0x4DBF


def wordpiece(corpus: list[str]) -> tuple[dict, list[str]]:
    """BERT's layout: [PAD] 0, [unused…], [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103, then the corpus's words
    (lowercased), their ## suffixes of length one, single characters and every CJK character. Returns the
    tokenizer.json object and vocab.txt's lines."""
    vocab = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = collections.Counter()
    chars = set()
    for line in corpus:
        for word in line.lower().split():
            word = word.strip(string.punctuation)
            chars.update(word)
            if word and not any(_is_cjk(c) for c in word):
                words[word] += 1
    chars.update(string.ascii_lowercase + string.digits + string.punctuation)
    for c in sorted(chars):
        vocab.append(c)
        if not _is_cjk(c) and c not in string.punctuation:
            vocab.append("##" + c)
    for word, _ in words.most_common(200):
        if word not in vocab:
            vocab.append(word)
    ids = {t: i for i, t in enumerate(vocab)}
    specials = {t: ids[t] for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")}
    document = _document(
        specials,
        {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None,
         "lowercase": True},
        {"type": "BertPreTokenizer"},
        _template(["[CLS]"], ["[SEP]"], ids),
        {"type": "WordPiece", "prefix": "##", "cleanup": True},
        {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
         "max_input_chars_per_word": 100, "vocab": ids})
    return document, vocab


def byte_fallback_bpe(corpus: list[str], merges: int) -> dict:
    """Gemma's shape: spaces become ▁ in the normalizer, no pre-tokenizer, BPE over characters with <0xNN> for
    anything outside the vocabulary, <eos> appended (as SigLIP 2's tokenizer has it)."""
    specials = {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3}
    vocab = dict(specials)
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    words = collections.Counter()
    for line in corpus:
        for word in line.split(" "):
            if word:
                words[tuple("\u2581" + word)] += 1
    for word in words:
        for ch in word:
            if not _is_cjk(ch):
                vocab.setdefault(ch, len(vocab))
    words = collections.Counter({w: n for w, n in words.items() if all(c in vocab for c in w)})
    learnt = []
    for _ in range(merges):
        pairs = collections.Counter()
        for word, n in words.items():
            for a, b in zip(word, word[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        (a, b), count = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        if count < 2:
            break
        learnt.append([a, b])
        vocab.setdefault(a + b, len(vocab))
        merged = collections.Counter()
        for word, n in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += n
        words = merged
    return _document(
        specials,
        {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
        None,
        _template([], ["<eos>"], specials),
        {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
                                          {"type": "ByteFallback"}, {"type": "Fuse"}]},
        {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
         "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
         "vocab": vocab, "merges": learnt})


def vocab_size(document: dict) -> int:
    model = document["model"]
    size = len(model["vocab"])
    return max(size, 1 + max(t["id"] for t in document["added_tokens"]))
