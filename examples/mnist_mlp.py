"""The classic Gluon MNIST tutorial: a multilayer perceptron trained with SGD.

    python examples/mnist_mlp.py [--epochs 10] [--data-root DIR]

It is the MXNet 1.x tutorial with ``psnet`` in place of ``mxnet`` (the command line and the
accuracy loop come from ``mnist_common.py``, shared with ``mnist_cnn.py``).  The data comes from
``--data-root`` (a directory with the four MNIST IDX gzip files), else
``$PSNET_DATA/mnist``, else ``~/.psnet/datasets/mnist`` (downloaded when missing).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # examples/ (also when loaded by path)
from mnist_common import evaluate_accuracy, mx, parse_args  # noqa: E402
from psnet import autograd, gluon  # noqa: E402


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


def flatten(data):
    """A batch of 28x28 images as rows of 784 pixels."""
    return data.reshape((-1, 784))


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
            data = flatten(data.as_in_context(ctx))
            label = label.as_in_context(ctx)
            with autograd.record():
                output = net(data)
                loss = softmax_cross_entropy(output, label)
            loss.backward()
            trainer.step(data.shape[0])
            cumulative_loss += mx.nd.sum(loss).asscalar()
        test_accuracy = evaluate_accuracy(test_data, net, ctx, flatten)
        train_accuracy = evaluate_accuracy(train_data, net, ctx, flatten)
        mean_loss = cumulative_loss / len(train_set)
        log("Epoch %s. Loss: %s, Train_acc %s, Test_acc %s" % (e, mean_loss, train_accuracy, test_accuracy))
        history.append((e, mean_loss, train_accuracy, test_accuracy))
    return history


def main():
    """Command-line entry point."""
    args = parse_args(__doc__.splitlines()[0], epochs=10, batch_size=64)
    train(args.epochs, args.data_root, args.batch_size)


if __name__ == "__main__":
    main()
