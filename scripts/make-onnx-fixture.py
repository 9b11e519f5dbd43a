"""Builds a BERT-shaped Hugging Face model directory with an ONNX export, offline, for tests and benchmarks.

    python scripts/make-onnx-fixture.py                 # test/fixtures/tiny-bert (committed, < 1 MB)
    python scripts/make-onnx-fixture.py --preset minilm # bench/data/minilm-l6-random (about 90 MB, gitignored)

The directory has the layout `tripletflow train --encoder pretrained --encoder-model DIR` reads, as a downloaded
Hugging Face model with an ONNX export has it:

    config.json  tokenizer.json  tokenizer_config.json  onnx/model.onnx

The weights are random (`torch.manual_seed`): a real `transformers.BertModel` with a small config, exported by
`torch.onnx.export` with the inputs input_ids, attention_mask, token_type_ids (int64, batch × sequence) and the one
output last_hidden_state (float32, batch × sequence × hidden). Nothing is downloaded.

`tiny` also writes reference.json: token ids from the Hugging Face `tokenizers` library and the mean- and
CLS-pooled last_hidden_state computed by torch (not by ONNX Runtime), so the TypeScript tests compare against numbers
produced independently of the code under test. The script checks that Python's onnxruntime reproduces them.

Needs torch, transformers, tokenizers, onnx, onnxruntime (pip; the versions used: torch 2.13.0+cpu,
transformers 5.18.0, tokenizers 0.23.2, onnx 1.23.1, onnxruntime 1.30.0).
"""

import argparse
import collections
import json
import os
import re
import shutil

import numpy as np
import onnxruntime as ort
import torch
from tokenizers import Tokenizer
from tokenizers.implementations import BertWordPieceTokenizer
from transformers import BertConfig, BertModel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PRESETS = {
    # small enough to commit: vocabulary from the test corpus, 2 layers of width 32
    "tiny": dict(out="test/fixtures/tiny-bert", hidden=32, layers=2, heads=4, intermediate=64, max_positions=128),
    # the shape of sentence-transformers/all-MiniLM-L6-v2 (bert-base-uncased vocabulary), random weights
    "minilm": dict(out="bench/data/minilm-l6-random", hidden=384, layers=6, heads=12, intermediate=1536, max_positions=512),
}

REFERENCE_TEXTS = [
    "I am still waiting on my card?",
    "What can I do if my card still hasn't arrived after 2 weeks?",
    "How do I top up?",
    "card",
    "Why was my transfer declined, and when will the money arrive in my account?",
    "zzqx unknownword!",
]
REFERENCE_MAX_LENGTH = 16


class LastHiddenState(torch.nn.Module):
    """BertModel with only last_hidden_state as output, as the usual feature-extraction exports have it."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state


def tiny_vocab():
    """Specials, single characters (and their ## forms) and the 400 most frequent words of the test corpora."""
    words = collections.Counter()
    chars = set("abcdefghijklmnopqrstuvwxyz0123456789")
    for name in ("small-corpus.jsonl", "small-eval.jsonl"):
        with open(os.path.join(ROOT, "test/fixtures", name), encoding="utf8") as f:
            for line in f:
                try:
                    text = json.loads(line).get("text")
                except (json.JSONDecodeError, AttributeError):
                    continue
                if not isinstance(text, str):
                    continue
                for w in re.findall(r"[a-z0-9]+|[^\sa-z0-9]", text.lower()):
                    words[w] += 1
                    chars.update(w)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    singles = sorted(chars)
    vocab += singles + ["##" + c for c in singles if c.isalnum()]
    vocab += [w for w, _ in words.most_common() if len(w) > 1 and w not in vocab][:400]
    return vocab


def write_tokenizer(out, preset):
    if preset == "minilm":
        src = os.path.join(ROOT, "assets/tokenizers/bert-base-uncased")
        shutil.copy(os.path.join(src, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    else:
        tok = BertWordPieceTokenizer(vocab={w: i for i, w in enumerate(tiny_vocab())}, lowercase=True)
        tok.save(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({
            "tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": PRESETS[preset]["max_positions"],
            "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]", "mask_token": "[MASK]",
        }, f, indent=2)
    return Tokenizer.from_file(os.path.join(out, "tokenizer.json"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    ap.add_argument("--out", help="output directory (default: the preset's)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    p = PRESETS[args.preset]
    out = os.path.join(ROOT, args.out or p["out"])
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)

    tokenizer = write_tokenizer(out, args.preset)
    torch.manual_seed(args.seed)
    config = BertConfig(
        vocab_size=tokenizer.get_vocab_size(), hidden_size=p["hidden"], num_hidden_layers=p["layers"],
        num_attention_heads=p["heads"], intermediate_size=p["intermediate"], max_position_embeddings=p["max_positions"],
        type_vocab_size=2, pad_token_id=0,
    )
    config._attn_implementation = "eager"
    bert = BertModel(config, add_pooling_layer=False).eval()
    config.architectures = ["BertModel"]
    config.to_json_file(os.path.join(out, "config.json"))

    model = LastHiddenState(bert).eval()
    ids = torch.tensor([[2, 10, 11, 12, 3], [2, 13, 3, 0, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    onnx_path = os.path.join(out, "onnx/model.onnx")
    torch.onnx.export(
        model, (ids, mask, torch.zeros_like(ids)), onnx_path,
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
        dynamic_axes={n: {0: "batch_size", 1: "sequence_length"} for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]},
        opset_version=17, dynamo=False,
    )
    # one file: no external weights next to the graph
    size = os.path.getsize(onnx_path)
    print(f"{onnx_path}: {size / 1e6:.2f} MB, vocab {config.vocab_size}, hidden {config.hidden_size}, layers {config.num_hidden_layers}")

    if args.preset != "tiny":
        return
    tokenizer.enable_truncation(REFERENCE_MAX_LENGTH)
    enc = [tokenizer.encode(t) for t in REFERENCE_TEXTS]
    L = max(len(e.ids) for e in enc)
    ids = torch.tensor([e.ids + [0] * (L - len(e.ids)) for e in enc], dtype=torch.long)
    mask = torch.tensor([[1] * len(e.ids) + [0] * (L - len(e.ids)) for e in enc], dtype=torch.long)
    with torch.no_grad():
        h = model(ids, mask, torch.zeros_like(ids))
    m = mask.unsqueeze(-1).float()
    mean = (h * m).sum(1) / m.sum(1).clamp(min=1)
    cls = h[:, 0, :]

    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    (h_ort,) = sess.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "token_type_ids": np.zeros_like(ids.numpy())})
    diff = float(np.abs(h_ort - h.numpy())[mask.numpy().astype(bool)].max())
    assert diff < 1e-4, f"onnxruntime and torch disagree by {diff}"
    print(f"onnxruntime (python) vs torch: max |diff| {diff:.2e} over the unpadded tokens")

    ref = {
        "about": "torch reference for test/fixtures/tiny-bert: ids from the tokenizers library (truncation to maxLength), "
                 "mean pooling over attention_mask, CLS = the first token's hidden state; made by scripts/make-onnx-fixture.py",
        "maxLength": REFERENCE_MAX_LENGTH,
        "hidden": config.hidden_size,
        "texts": REFERENCE_TEXTS,
        "ids": [e.ids for e in enc],
        "mean": [[round(float(x), 7) for x in row] for row in mean],
        "cls": [[round(float(x), 7) for x in row] for row in cls],
        "versions": {"torch": torch.__version__, "onnxruntime": ort.__version__},
    }
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
