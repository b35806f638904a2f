"""Character-level LSTM language model (the Gluon RNN tutorial) on text that ships with Python.

    python examples/char_rnn.py                # ~2 minutes on 2 cores
    python examples/char_rnn.py --epochs 3 --text some_file.txt

The corpus is the Zen of Python (``import this``) followed by the docstrings of a fixed
list of standard-library modules (and of their public functions and classes), so it
needs no download.  The text is cut into
``--batch-size`` parallel streams, read ``--seq-len`` characters at a time with
truncated backpropagation through time (the LSTM state carries over between
windows, detached).  Each epoch prints the training perplexity (exp of the mean
cross-entropy per character, falling as the model learns) and a sample generated from
a prompt with temperature ``--temperature``.
"""
import argparse
import codecs
import contextlib
import importlib
import io
import math
import os
import sys
import time

import numpy as np

try:
    import psnet as mx
except ImportError:  # a source checkout without `pip install -e .`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import psnet as mx
from psnet import autograd, gluon
from psnet.gluon import nn, rnn

CORPUS_MODULES = ("collections", "functools", "itertools", "json", "re", "string", "textwrap", "argparse",
                  "logging", "unittest", "pathlib", "subprocess", "threading", "dataclasses",
                  "contextlib", "inspect", "random", "statistics", "heapq", "bisect", "pickle", "shutil",
                  "tempfile", "datetime", "decimal", "fractions", "enum", "abc")


def _zen():
    """The Zen of Python, without the print ``import this`` does on first import."""
    with contextlib.redirect_stdout(io.StringIO()):
        this = importlib.import_module("this")
    return codecs.decode(this.s, "rot13")


def _module_docs(name):
    """The docstrings of module ``name`` and of its public functions and classes, in name order."""
    mod = importlib.import_module(name)
    objs = [mod] + [getattr(mod, a) for a in sorted(dir(mod)) if not a.startswith("_")]
    docs = [o.__doc__ for o in objs if (o is mod or getattr(o, "__module__", None) == name)
            and isinstance(o.__doc__, str)]
    return [d.strip() for d in docs if d.strip()]


def python_corpus(max_chars):
    """The Zen of Python plus standard-library docstrings, at most ``max_chars`` characters."""
    parts = [_zen()]
    for name in CORPUS_MODULES:
        parts += _module_docs(name)
    return "\n\n".join(parts)[:max_chars]


class CharLM(gluon.HybridBlock):
    """Embedding -> LSTM -> Dense over the vocabulary, NTC layout, returning logits and states."""

    def __init__(self, vocab, embed, hidden, layers, dropout, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.embed = nn.Embedding(vocab, embed)
            self.lstm = rnn.LSTM(hidden, num_layers=layers, dropout=dropout, layout="NTC", input_size=embed)
            self.out = nn.Dense(vocab, flatten=False, in_units=hidden)

    def hybrid_forward(self, F, x, h, c):
        """Logits (N, T, vocab) and the new states [h, c]."""
        out, (h, c) = self.lstm(self.embed(x), [h, c])
        return self.out(out), h, c


def batchify(ids, batch_size):
    """The id sequence cut into ``batch_size`` equal streams: an (N, L) array."""
    n = len(ids) // batch_size
    return ids[:n * batch_size].reshape(batch_size, n)


def sample(net, prompt, length, char_to_id, chars, temperature, rs):
    """``prompt`` continued by ``length`` characters drawn from the model."""
    h, c = net.lstm.begin_state(batch_size=1)
    x = mx.nd.array([[char_to_id[ch] for ch in prompt]])
    out = list(prompt)
    for _ in range(length):
        logits, h, c = net(x, h, c)
        z = logits[0, -1].asnumpy().astype(np.float64) / temperature
        p = np.exp(z - z.max())
        nxt = int(rs.choice(len(chars), p=p / p.sum()))
        out.append(chars[nxt])
        x = mx.nd.array([[nxt]])
    return "".join(out)


def train(args, log=print):
    """Train and return the per-epoch training perplexities."""
    mx.random.seed(args.seed)
    rs = np.random.RandomState(args.seed)
    if args.text:
        with open(args.text, encoding="utf-8") as f:
            text = f.read()[:args.max_chars]
    else:
        text = python_corpus(args.max_chars)
    chars = sorted(set(text))
    char_to_id = {ch: i for i, ch in enumerate(chars)}
    data = batchify(np.array([char_to_id[ch] for ch in text], dtype=np.float32), args.batch_size)
    log("corpus: %d characters, vocabulary %d, %d windows of %d per epoch"
        % (len(text), len(chars), (data.shape[1] - 1) // args.seq_len, args.seq_len))
    net = CharLM(len(chars), args.embed, args.hidden, args.layers, args.dropout)
    net.initialize(mx.init.Xavier())
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": args.lr})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    perplexities = []
    for epoch in range(args.epochs):
        tic = time.time()
        h, c = net.lstm.begin_state(batch_size=args.batch_size)
        total, count = 0.0, 0
        starts = range(0, data.shape[1] - 1 - args.seq_len + 1, args.seq_len)
        for step, i in enumerate(starts):
            if args.max_steps and step >= args.max_steps:
                break
            x = mx.nd.array(data[:, i:i + args.seq_len])
            y = mx.nd.array(data[:, i + 1:i + 1 + args.seq_len])
            h, c = h.detach(), c.detach()
            with autograd.record():
                logits, h, c = net(x, h, c)
                loss = loss_fn(logits, y)
            loss.backward()
            grads = [p.grad() for p in net.collect_params().values()]
            gluon.utils.clip_global_norm(grads, args.clip * args.batch_size)
            trainer.step(args.batch_size)
            total += float(loss.sum().asscalar())
            count += loss.shape[0]  # one mean over the window per stream
        ppl = math.exp(total / count)  # the loss is already a per-character mean
        perplexities.append(ppl)
        log("epoch %d: perplexity %.2f (%.1fs)" % (epoch, ppl, time.time() - tic))
        if args.sample_len:
            log("  sample: %r" % sample(net, args.prompt, args.sample_len, char_to_id, chars,
                                       args.temperature, rs))
    return perplexities


def parse_args(argv=None):
    """Command-line options (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--max-chars", type=int, default=60000, help="corpus size cap")
    ap.add_argument("--text", default=None, help="train on this UTF-8 file instead of the Python corpus")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--seq-len", type=int, default=50)
    ap.add_argument("--embed", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=192)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--lr", type=float, default=0.005)
    ap.add_argument("--clip", type=float, default=1.0, help="global gradient-norm clip per sample")
    ap.add_argument("--max-steps", type=int, default=0, help="cap on windows per epoch (0: all)")
    ap.add_argument("--sample-len", type=int, default=160)
    ap.add_argument("--prompt", default="The ")
    ap.add_argument("--temperature", type=float, default=0.6)
    ap.add_argument("--seed", type=int, default=0)
    return ap.parse_args(argv)


if __name__ == "__main__":
    train(parse_args())
