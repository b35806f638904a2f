"""A LeNet-style convolutional network on MNIST (Conv2D + BatchNorm + MaxPool, then Dense).

    python examples/mnist_cnn.py [--epochs 3] [--data-root DIR] [--batch-size 128]

An MXNet 1.x Gluon program with ``psnet`` in place of ``mxnet`` (the command line and the
accuracy loop come from ``mnist_common.py``).  The data comes from
``--data-root`` (a directory with the four MNIST IDX gzip files), else
``$PSNET_DATA/mnist``, else ``~/.psnet/datasets/mnist`` (downloaded when missing).
Three epochs reach about 99% test accuracy.
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # examples/ (also when loaded by path)
from mnist_common import evaluate_accuracy, mx, parse_args  # noqa: E402
from psnet import autograd, gluon  # noqa: E402
from psnet.gluon import nn  # noqa: E402
from psnet.gluon.data.vision import transforms  # noqa: E402


def build_net(channels=(20, 50), hidden=500):
    """Two conv blocks (5x5 conv, BatchNorm, ReLU, 2x2 max-pool), Dense(hidden, relu), Dense(10)."""
    net = nn.HybridSequential()
    with net.name_scope():
        for c in channels:
            net.add(nn.Conv2D(c, kernel_size=5, use_bias=False), nn.BatchNorm(), nn.Activation("relu"),
                    nn.MaxPool2D(pool_size=2, strides=2))
        net.add(nn.Flatten(), nn.Dense(hidden, activation="relu"), nn.Dense(10))
    return net


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
    args = parse_args(__doc__.splitlines()[0], epochs=3, batch_size=128)
    train(args.epochs, args.data_root, args.batch_size)


if __name__ == "__main__":
    main()
