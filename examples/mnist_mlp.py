"""The classic Gluon MNIST tutorial: a multilayer perceptron trained with SGD.

    python examples/mnist_mlp.py [--epochs 10] [--data-root DIR]

Only ``import psnet as mx`` differs from the MXNet 1.x tutorial.  The data comes from
``--data-root`` (a directory with the four MNIST IDX gzip files), else
``$PSNET_DATA/mnist``, else ``~/.psnet/datasets/mnist`` (downloaded when missing).
"""
import argparse
import os
import sys

import numpy as np

try:
    import psnet as mx
except ImportError:  # running from a source checkout without `pip install -e .`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import psnet as mx
from psnet import autograd, gluon


def transform(data, label):
    """Pixels to float32 in [0, 1]; labels stay as they are."""
    return data.astype(np.float32) / 255, label


def build_net():
    """Dense(64, relu) -> Dense(64, relu) -> Dense(10)."""
    net = gluon.nn.Sequential()
    with net.name_scope():
        net.add(gluon.nn.Dense(64, activation="relu"))
        net.add(gluon.nn.Dense(64, activation="relu"))
        net.add(gluon.nn.Dense(10))
    return net


def evaluate_accuracy(data_iterator, net, ctx):
    """Accuracy of ``net`` over every batch of ``data_iterator``."""
    acc = mx.metric.Accuracy()
    for data, label in data_iterator:
        data = data.as_in_context(ctx).reshape((-1, 784))
        label = label.as_in_context(ctx)
        output = net(data)
        predictions = mx.nd.argmax(output, axis=1)
        acc.update(preds=predictions, labels=label)
    return acc.get()[1]


def train(epochs=10, data_root=None, batch_size=64, ctx=None, max_train_samples=None, log=print):
    """Train the MLP and return the list of (epoch, loss, train_acc, test_acc)."""
    ctx = ctx or mx.cpu()
    train_set = gluon.data.vision.MNIST(root=data_root, train=True, transform=transform)
    test_set = gluon.data.vision.MNIST(root=data_root, train=False, transform=transform)
    if max_train_samples is not None:
        train_set = train_set.take(max_train_samples)
    train_data = gluon.data.DataLoader(train_set, batch_size, shuffle=True)
    test_data = gluon.data.DataLoader(test_set, batch_size, shuffle=False)

    net = build_net()
    net.collect_params().initialize(mx.init.Normal(sigma=.1), ctx=ctx)
    softmax_cross_entropy = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": .01})

    history = []
    for e in range(epochs):
        cumulative_loss = 0.0
        for data, label in train_data:
            data = data.as_in_context(ctx).reshape((-1, 784))
            label = label.as_in_context(ctx)
            with autograd.record():
                output = net(data)
                loss = softmax_cross_entropy(output, label)
            loss.backward()
            trainer.step(data.shape[0])
            cumulative_loss += mx.nd.sum(loss).asscalar()
        test_accuracy = evaluate_accuracy(test_data, net, ctx)
        train_accuracy = evaluate_accuracy(train_data, net, ctx)
        mean_loss = cumulative_loss / len(train_set)
        log("Epoch %s. Loss: %s, Train_acc %s, Test_acc %s" % (e, mean_loss, train_accuracy, test_accuracy))
        history.append((e, mean_loss, train_accuracy, test_accuracy))
    return history


def main():
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--data-root", default=None, help="directory with the MNIST IDX gzip files")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=None, help="seed NumPy's and psnet's generators")
    args = parser.parse_args()
    if args.seed is not None:
        np.random.seed(args.seed)
        mx.random.seed(args.seed)
    train(args.epochs, args.data_root, args.batch_size)


if __name__ == "__main__":
    main()
