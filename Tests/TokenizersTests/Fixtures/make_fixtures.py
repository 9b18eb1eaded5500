#!/usr/bin/env python3
"""Makes the CLIP tokenizer fixtures for TokenizersTests (run once; the tests never need Python).

Needs transformers 4.x (the last line with the Python "slow" CLIPTokenizer, the one diffusers'
pipelines have used) and tokenizers, no torch:

    python3 -m venv /tmp/tf4 && /tmp/tf4/bin/pip install "transformers<5" tokenizers
    /tmp/tf4/bin/python Tests/TokenizersTests/Fixtures/make_fixtures.py [--retrain]

The merges are learned once (tokenizers' BPE trainer breaks ties in hash order, so training again
gives slightly different merges); later runs reuse sd1/merges.txt unless given --retrain.

It writes, next to itself:
  corpus.txt             the training text (Python's own docstrings + hand-written unicode lines)
  sd1/                   vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json
                         (as CLIPTokenizer.save_pretrained writes them; pad token <|endoftext|>, as SD 1.x)
  sd2/                   the same vocabulary with pad token "!" (as SD 2.x)
  sd1-fast/tokenizer.json  from CLIPTokenizerFast.save_pretrained (the fast-tokenizer file alone)
  expected_ids.json      the strings and, per folder, the slow and fast tokenizers' ids
                         (padded to 77 and truncated, as diffusers calls them) and unpadded ids.
  random_ids.json        200 seeded random strings drawn from an awkward alphabet, and their
                         unpadded ids per folder and tokenizer.

With transformers >= 5 installed instead (where CLIPTokenizer is the tokenizers-backed one) it
only compares that tokenizer's ids with expected_ids.json and prints the strings that differ.
"""
import inspect
import json
import os
import shutil
import sys
import tempfile

import transformers
from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
MERGES = 1500  # learned merges: small files, but real BPE structure (multi-level merges, </w> ends)

CLIP_PATTERN = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""

UNICODE_LINES = [
    "Café au lait, naïve résumé, façade, crème brûlée, jalapeño, Zürich, São Paulo, Øresund.",
    "Straße, Größe, Fußball; ĞÜŞİÖÇ ğüşıöç; Ελληνικά γράμματα: αβγδε ΟΔΟΣ σοφός.",
    "Русский текст: привет, мир! Кошка сидит на окне.",
    "日本語のテキスト、猫の写真。中文字符：一只猫的照片。한국어 고양이 사진.",
    "Emoji: 🐱 🐶 🦊 👍🏽 ❤️ 🎉 🚀 — and symbols ™ © ® ° ± × ÷ € £ ¥ ½ ² ³.",
    "Arabic مرحبا بالعالم, Hebrew שלום עולם, Hindi नमस्ते दुनिया, Thai สวัสดี.",
]

STRINGS = [
    "a photo of a cat",
    "A Photo Of A CAT",
    "",
    "   ",
    "hello, world!",
    "wow!!! really?!",
    "!",
    "hi!",
    "don't stop; it's what we've done, I'm sure they'll say you'd",
    "DON'T IT'S WE'VE I'M THEY'LL YOU'D THEY'RE",
    "rock'n'roll ''quoted'' 'single' \"double\" `back`",
    "’curly’ quotes “like” this — dash – dash",
    "it's 'sss 's's''",
    "3.14159 and 2024-05-17, 1,000,000 and 007",
    "x=1+2*3/4-5^6%7 (a[b]{c}) <d> |e| ~f~ @g #h $i &j",
    "  leading and trailing spaces  ",
    "a  b   c    d",
    "tabs\tand\nnewlines\r\nand\u000bvertical\u000cfeed",
    "hello\n\n\nworld\t\t!",
    "non\u00a0breaking\u2003em\u3000ideographic\u202fnarrow spaces",
    "line\u2028separator\u2029paragraph",
    "café naïve résumé façade",
    "cafe\u0301 decomposed and q\u0301 with no precomposed form",
    "ÜNÏCÖDÉ ÀÉÎÕÜ Åström",
    "straße STRASSE ẞ",
    "İstanbul ISTANBUL ıi",
    "ΟΔΟΣ ΣΟΦΟΣ Σ ΣΑ Α.Σ",
    "日本語のテキスト 中文字符abc한국어",
    "猫の写真",
    "emoji 🐱🐶 👍🏽 👨\u200d👩\u200d👧 ❤️ 🇫🇷",
    "zero\u200bwidth\u200djoiner\u00adsoft hyphen",
    "\ufeffbom at start",
    "control\u0000chars\u0007here\u007f and \u0085next line",
    "replacement \ufffd char",
    "math ∑∫√∞ ≠ ≤ ±",
    "arabic مرحبا hebrew שלום hindi नमस्ते",
    "superscript x² ½ ⅓ Ⅳ ⅷ",
    "full-width ＡＢＣ１２３！",
    "$100.00 €50 £30 ¥1000 5%",
    "http://example.com/path?q=1&r=2#frag",
    "email@example.com snake_case camelCase kebab-case",
    "...!?!?---___***",
    "1234567890",
    "supercalifragilisticexpialidocious" * 3,
    "<|startoftext|>a photo<|endoftext|>",
    "a <|endoftext|> b",
    "<|endoftext|><|endoftext|>",
    "<|ENDOFTEXT|> upper special",
    "<|startoftext|",
    "x<|endoftext|>y",
    "it'ſ a long s",
    "a " * 75,
    "a " * 76,
    "a photo of a cat " * 30,
    " ".join(["word%d" % i for i in range(60)]),
]


RANDOM_PIECES = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    + list(".,;:!?'\"()[]{}<>|/\\-_=+*&^%$#@~`")
    + [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2028", "\u000b", "\u0085", "\u001f"]
    + list("éèêëàâäôöûüçñßøåæœÉÀÖÜÑ") + ["e\u0301", "\u0301", "\u0308", "q\u0307"]
    + list("ΣσςΑΒΓδεζ") + ["ΟΔΟΣ", "ſ", "K", "İ", "ı", "ǅ", "ﬁ"]
    + list("日本語猫写真中文한국어のテキスト") + ["🐱", "👍🏽", "❤️", "\u200d", "\u200b", "\ufeff", "\u00ad", "\ufffd", "\u0000", "\u0007"]
    + list("²½Ⅳ٣४") + ["'s", "'t", "'re", "'ll", "'S", "n't", "<|endoftext|>", "<|startoftext|>", "<|", "|>"]
    + ["photo", "cat", "the", "of", "and", "tion", "ing", "Stable Diffusion", "https://x.org/a?b=c"]
)


def random_strings(count=200, seed=12):
    import random
    rng = random.Random(seed)
    return ["".join(rng.choice(RANDOM_PIECES) for _ in range(rng.randint(0, 24))) for _ in range(count)]


def build_corpus():
    """Python's stdlib docstrings (English with code, punctuation, digits) plus unicode lines."""
    import argparse, collections, csv, datetime, decimal, email, fractions, functools, heapq
    import itertools, json as js, logging, pathlib, random, re, statistics, string, textwrap, unittest
    words, texts = 0, []
    for module in [textwrap, argparse, collections, functools, itertools, statistics, fractions,
                   decimal, datetime, heapq, random, string, re, csv, js, logging, pathlib, unittest, email]:
        for _, obj in [(None, module)] + inspect.getmembers(module):
            doc = inspect.getdoc(obj) if (inspect.ismodule(obj) or inspect.isclass(obj)
                                          or inspect.isfunction(obj) or inspect.isbuiltin(obj)) else None
            if doc and doc not in texts:
                texts.append(doc)
                words += len(doc.split())
            if words > 12000:
                break
        if words > 12000:
            break
    return "\n\n".join(texts + UNICODE_LINES * 8) + "\n"


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def train_merges(corpus_path):
    """Byte-level BPE on CLIP's pre-tokenisation (lower-cased, CLIP's pattern, </w> word ends)."""
    tok = Tokenizer(models.BPE(end_of_word_suffix="</w>"))
    tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "),
                                           normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(CLIP_PATTERN), behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    alphabet = list(bytes_to_unicode().values())
    trainer = trainers.BpeTrainer(vocab_size=2 * 256 + MERGES, min_frequency=2, show_progress=False,
                                  initial_alphabet=alphabet, end_of_word_suffix="</w>", limit_alphabet=1000)
    tok.train([corpus_path], trainer)
    merges = json.loads(tok.to_str())["model"]["merges"]
    return [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in merges][:MERGES]


def write_clip_files(folder, merges, pad_token):
    """vocab.json and merges.txt laid out as OpenAI's CLIP vocabulary is: bytes, bytes</w>, merges, specials."""
    os.makedirs(folder, exist_ok=True)
    chars = list(bytes_to_unicode().values())
    vocab = chars + [c + "</w>" for c in chars]
    seen = set(vocab)
    for a, b in merges:
        assert a in seen and b in seen, (a, b)
        if a + b not in seen:
            vocab.append(a + b)
            seen.add(a + b)
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    # Round-trip through the slow tokenizer so the config files are exactly what transformers writes.
    tok = transformers.CLIPTokenizer(os.path.join(folder, "vocab.json"), os.path.join(folder, "merges.txt"),
                                     pad_token=pad_token, model_max_length=77, do_lower_case=True)
    tmp = tempfile.mkdtemp()
    tok.save_pretrained(tmp)
    for name in ["tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copy(os.path.join(tmp, name), os.path.join(folder, name))
    shutil.rmtree(tmp)


def ids(tok, text):
    return {
        "padded": tok(text, padding="max_length", max_length=tok.model_max_length, truncation=True)["input_ids"],
        "unpadded": tok(text)["input_ids"],
    }


def main():
    if int(transformers.__version__.split(".")[0]) >= 5:
        return compare_v5()
    corpus_path = os.path.join(HERE, "corpus.txt")
    if not os.path.exists(corpus_path):
        with open(corpus_path, "w", encoding="utf-8") as f:
            f.write(build_corpus())
    merges_path = os.path.join(HERE, "sd1", "merges.txt")
    if os.path.exists(merges_path) and "--retrain" not in sys.argv:
        # BPE training breaks ties between equally frequent pairs in hash order, so it is not
        # reproducible: keep the committed merges unless asked to train again.
        with open(merges_path, encoding="utf-8") as f:
            merges = [tuple(line.split()) for line in f.read().strip().split("\n")[1:]]
    else:
        merges = train_merges(corpus_path)
    write_clip_files(os.path.join(HERE, "sd1"), merges, "<|endoftext|>")
    write_clip_files(os.path.join(HERE, "sd2"), merges, "!")

    fast_dir = os.path.join(HERE, "sd1-fast")
    tmp = tempfile.mkdtemp()
    transformers.CLIPTokenizerFast.from_pretrained(os.path.join(HERE, "sd1")).save_pretrained(tmp)
    os.makedirs(fast_dir, exist_ok=True)
    shutil.copy(os.path.join(tmp, "tokenizer.json"), os.path.join(fast_dir, "tokenizer.json"))
    shutil.rmtree(tmp)

    expected = {"transformers": transformers.__version__, "strings": STRINGS, "folders": {}}
    for name in ["sd1", "sd2"]:
        slow = transformers.CLIPTokenizer.from_pretrained(os.path.join(HERE, name))
        fast = transformers.CLIPTokenizerFast.from_pretrained(os.path.join(HERE, name))
        entry = {"pad_token": slow.pad_token, "model_max_length": slow.model_max_length,
                 "slow": [ids(slow, s) for s in STRINGS], "fast": [ids(fast, s) for s in STRINGS]}
        differ = [i for i in range(len(STRINGS)) if entry["slow"][i] != entry["fast"][i]]
        entry["slow_fast_differ"] = differ
        expected["folders"][name] = entry
        print(f"{name}: vocab {len(slow.encoder)}, pad {slow.pad_token!r}; slow and fast differ on {len(differ)} strings:")
        for i in differ:
            print(f"  {STRINGS[i]!r}\n    slow {entry['slow'][i]['unpadded']}\n    fast {entry['fast'][i]['unpadded']}")
    with open(os.path.join(HERE, "expected_ids.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")

    strings = random_strings()
    randoms = {"transformers": transformers.__version__, "strings": strings, "folders": {}}
    for name in ["sd1", "sd2"]:
        slow = transformers.CLIPTokenizer.from_pretrained(os.path.join(HERE, name))
        fast = transformers.CLIPTokenizerFast.from_pretrained(os.path.join(HERE, name))
        entry = {"slow": [slow(s)["input_ids"] for s in strings], "fast": [fast(s)["input_ids"] for s in strings]}
        randoms["folders"][name] = entry
        print(f"{name}: slow and fast differ on {sum(a != b for a, b in zip(entry['slow'], entry['fast']))} of {len(strings)} random strings")
    with open(os.path.join(HERE, "random_ids.json"), "w", encoding="utf-8") as f:
        json.dump(randoms, f, ensure_ascii=True, indent=None, separators=(",", ":"))
        f.write("\n")


def compare_v5():
    with open(os.path.join(HERE, "expected_ids.json"), encoding="utf-8") as f:
        expected = json.load(f)
    for name, folder in [("sd1", "sd1"), ("sd1", "sd1-fast"), ("sd2", "sd2")]:
        tok = transformers.CLIPTokenizer.from_pretrained(os.path.join(HERE, folder))
        if tok.model_max_length > 1000:
            tok.model_max_length = 77
        for i, s in enumerate(expected["strings"]):
            got = ids(tok, s)
            if got != expected["folders"][name]["slow"][i]:
                same_as_fast = got == expected["folders"][name]["fast"][i]
                print(f"transformers {transformers.__version__} {folder}: {s!r} differs from the slow 4.x ids"
                      f" ({'same as 4.x fast' if same_as_fast else 'also differs from 4.x fast'})")


if __name__ == "__main__":
    main()
