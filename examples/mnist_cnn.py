"""A LeNet-style convolutional network on MNIST (Conv2D + BatchNorm + MaxPool, then Dense).

    python examples/mnist_cnn.py [--epochs 3] [--data-root DIR] [--batch-size 128]

Only ``import psnet as mx`` differs from an MXNet 1.x Gluon program.  The data comes from
``--data-root`` (a directory with the four MNIST IDX gzip files), else
``$PSNET_DATA/mnist``, else ``~/.psnet/datasets/mnist`` (downloaded when missing).
Three epochs reach about 99% test accuracy.
"""
import argparse
import os
import sys
import time

import numpy as np

try:
    import psnet as mx
except ImportError:  # running from a source checkout without `pip install -e .`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import psnet as mx
from psnet import autograd, gluon
from psnet.gluon import nn
from psnet.gluon.data.vision import transforms


def build_net(channels=(20, 50), hidden=500):
    """Two conv blocks (5x5 conv, BatchNorm, ReLU, 2x2 max-pool), Dense(hidden, relu), Dense(10)."""
    net = nn.HybridSequential()
    with net.name_scope():
        for c in channels:
            net.add(nn.Conv2D(c, kernel_size=5, use_bias=False), nn.BatchNorm(), nn.Activation("relu"),
                    nn.MaxPool2D(pool_size=2, strides=2))
        net.add(nn.Flatten(), nn.Dense(hidden, activation="relu"), nn.Dense(10))
    return net


def evaluate_accuracy(data_iterator, net, ctx, to_tensor):
    """Accuracy of ``net`` over every batch of ``data_iterator``."""
    acc = mx.metric.Accuracy()
    for data, label in data_iterator:
        output = net(to_tensor(data.as_in_context(ctx)))
        acc.update(preds=mx.nd.argmax(output, axis=1), labels=label.as_in_context(ctx))
    return acc.get()[1]


def train(epochs=3, data_root=None, batch_size=128, ctx=None, channels=(20, 50), hidden=500,
          learning_rate=0.001, max_steps=None, test_samples=None, log=print):
    """Train the CNN with Adam; returns ``(history, losses)``: per-epoch
    ``(epoch, mean_loss, test_acc, seconds)`` and the loss of every step."""
    ctx = ctx or mx.cpu()
    train_set = gluon.data.vision.MNIST(root=data_root, train=True)
    test_set = gluon.data.vision.MNIST(root=data_root, train=False)
    if test_samples is not None:
        test_set = test_set.take(test_samples)
    train_data = gluon.data.DataLoader(train_set, batch_size, shuffle=True, last_batch="discard")
    test_data = gluon.data.DataLoader(test_set, 1000, shuffle=False)
    to_tensor = transforms.ToTensor()   # a whole NHWC uint8 batch -> NCHW float32 in [0, 1]

    net = build_net(channels, hidden)
    net.initialize(mx.init.Xavier(magnitude=2.24), ctx=ctx)
    net.hybridize()
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": learning_rate})

    history, losses = [], []
    for epoch in range(epochs):
        start, epoch_losses = time.time(), []
        for data, label in train_data:
            data = to_tensor(data.as_in_context(ctx))
            label = label.as_in_context(ctx)
            with autograd.record():
                loss = loss_fn(net(data), label)
            loss.backward()
            trainer.step(data.shape[0])
            epoch_losses.append(float(loss.mean().asscalar()))
            if max_steps is not None and len(losses) + len(epoch_losses) >= max_steps:
                break
        seconds = time.time() - start
        losses += epoch_losses
        test_acc = evaluate_accuracy(test_data, net, ctx, to_tensor)
        mean_loss = float(np.mean(epoch_losses))
        log("Epoch %d. Loss: %.4f, Test_acc %.4f, %.1f s (%.0f samples/s)"
            % (epoch, mean_loss, test_acc, seconds, len(epoch_losses) * batch_size / seconds))
        history.append((epoch, mean_loss, test_acc, seconds))
        if max_steps is not None and len(losses) >= max_steps:
            break
    return history, losses


def main():
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--data-root", default=None, help="directory with the MNIST IDX gzip files")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=None, help="seed NumPy's and psnet's generators")
    args = parser.parse_args()
    if args.seed is not None:
        np.random.seed(args.seed)
        mx.random.seed(args.seed)
    train(args.epochs, args.data_root, args.batch_size)


if __name__ == "__main__":
    main()
