"""examples/char_rnn.py: a tiny run of the character-level LSTM language model learns."""
import ast
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _load_example():
    spec = importlib.util.spec_from_file_location("char_rnn", ROOT / "examples" / "char_rnn.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_tiny_char_rnn_perplexity_falls_and_samples():
    char_rnn = _load_example()
    lines = []
    args = char_rnn.parse_args(["--epochs", "4", "--max-chars", "3000", "--batch-size", "8", "--seq-len", "20",
                                "--hidden", "48", "--layers", "1", "--lr", "0.02", "--sample-len", "15",
                                "--prompt", "Th"])
    ppl = char_rnn.train(args, log=lines.append)
    vocab = int(lines[0].split("vocabulary ")[1].split(",")[0])
    assert len(ppl) == 4
    assert ppl[0] < vocab * 1.5                  # starts near uniform guessing...
    assert ppl[-1] < 0.7 * ppl[0]                # ...and learns
    samples = [line for line in lines if line.startswith("  sample: ")]
    assert len(samples) == 4
    text = ast.literal_eval(samples[-1][len("  sample: "):])  # the repr of the generated string
    assert text.startswith("Th") and len(text) == 17


def test_corpus_ships_with_python():
    corpus = _load_example().python_corpus(5000)
    assert corpus.startswith("The Zen of Python") and len(corpus) == 5000
