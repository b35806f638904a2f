"""What the MNIST examples share: ``psnet`` imported from a source checkout when it is not
installed, their command line (``--epochs``, ``--data-root``, ``--batch-size``, ``--seed``)
and the test-accuracy loop."""
import argparse
import os
import sys

import numpy as np

try:
    import psnet as mx
except ImportError:  # running from a source checkout without `pip install -e .`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import psnet as mx

__all__ = ["mx", "parse_args", "evaluate_accuracy"]


def parse_args(description, epochs, batch_size, argv=None):
    """Parse ``--epochs``, ``--data-root``, ``--batch-size`` and ``--seed`` (which seeds
    NumPy's and psnet's generators) with the example's defaults."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--data-root", default=None, help="directory with the MNIST IDX gzip files")
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--seed", type=int, default=None, help="seed NumPy's and psnet's generators")
    args = parser.parse_args(argv)
    if args.seed is not None:
        np.random.seed(args.seed)
        mx.random.seed(args.seed)
    return args


def evaluate_accuracy(data_iterator, net, ctx, prepare=None):
    """Accuracy of ``net`` over every batch of ``data_iterator``; ``prepare`` maps a batch
    of images (already on ``ctx``) to the network's input."""
    acc = mx.metric.Accuracy()
    for data, label in data_iterator:
        data = data.as_in_context(ctx)
        output = net(prepare(data) if prepare is not None else data)
        acc.update(preds=mx.nd.argmax(output, axis=1), labels=label.as_in_context(ctx))
    return acc.get()[1]
