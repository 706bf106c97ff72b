#!/usr/bin/python3
"""open_clip's text cleaning (tokenizer_kwargs.clean), the reference zero_shot.mjs tokenises immich folders after.

Reads {"clean": ..., "texts": [...]} on stdin, writes the cleaned texts as a JSON list. Written from open_clip's
documented behaviour: canonicalize_text replaces "_" by a space, drops string.punctuation, lowercases and collapses
whitespace; "whitespace" collapses (ftfy's and HTML's repairs, which open_clip's basic_clean adds, are not applied
here or in ClipService); "lower" collapses and lowercases.
"""
import json
import string
import sys


def clean(text: str, mode: str) -> str:
    if mode == "canonicalize":
        text = text.replace("_", " ").translate(str.maketrans("", "", string.punctuation)).lower()
    elif mode == "lower":
        text = text.lower()
    elif mode != "whitespace":
        raise SystemExit(f"unknown clean mode {mode!r}")
    return " ".join(text.split()).strip()


request = json.load(sys.stdin)
json.dump([clean(t, request["clean"]) for t in request["texts"]], sys.stdout, ensure_ascii=False)
