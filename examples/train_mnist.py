"""Train MNIST with Gluon on one process or many: ``--kv-store local|device|dist_sync|dist_async``.

    python examples/train_mnist.py --model mlp --num-epochs 2
    psnet-launch -n 2 -s 2 python examples/train_mnist.py --kv-store dist_sync --model cnn

Each worker trains on its own shard of the training set (``kv.rank`` of
``kv.num_workers``); the Trainer pushes gradients to the store and pulls weights back
(on dist stores the optimizer runs on the servers).  Speed is logged with MXNet's
Speedometer line; the last line is ``Final test accuracy: ...``.  Data comes from
``--data-root`` (the four MNIST IDX gzip files), else ``$PSNET_DATA/mnist``.
"""
import argparse
import logging
import os
import sys

import numpy as np

try:
    import psnet as mx
except ImportError:  # a source checkout without `pip install -e .`
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import psnet as mx
from psnet import autograd, gluon


def build_net(model):
    """The tutorial MLP (Dense 128-64-10) or a LeNet-style CNN."""
    net = gluon.nn.HybridSequential()
    with net.name_scope():
        if model == "cnn":
            net.add(gluon.nn.Conv2D(20, kernel_size=5, activation="relu"),
                    gluon.nn.MaxPool2D(pool_size=2, strides=2),
                    gluon.nn.Conv2D(50, kernel_size=5, activation="relu"),
                    gluon.nn.MaxPool2D(pool_size=2, strides=2),
                    gluon.nn.Flatten(), gluon.nn.Dense(500, activation="relu"))
        else:
            net.add(gluon.nn.Dense(128, activation="relu"), gluon.nn.Dense(64, activation="relu"))
        net.add(gluon.nn.Dense(10))
    return net


def load_data(args, kv):
    """(this worker's shard of the training set, the test set), pixels scaled to [0, 1]."""
    shape = (1, 28, 28) if args.model == "cnn" else (784,)

    def transform(data, label):
        return data.astype(np.float32).reshape(shape) / 255, label

    train = gluon.data.vision.MNIST(root=args.data_root, train=True, transform=transform)
    test = gluon.data.vision.MNIST(root=args.data_root, train=False, transform=transform)
    if args.max_samples:
        train, test = train.take(args.max_samples), test.take(max(args.max_samples // 6, 1000))
    if kv is not None and kv.num_workers > 1:
        train = train.shard(kv.num_workers, kv.rank)
    return (gluon.data.DataLoader(train, args.batch_size, shuffle=True, last_batch="discard"),
            gluon.data.DataLoader(test, 500, shuffle=False))


def evaluate(net, data, ctx):
    """Accuracy of ``net`` on ``data``."""
    acc = mx.metric.Accuracy()
    for x, y in data:
        acc.update(labels=y, preds=net(x.as_in_context(ctx)))
    return acc.get()[1]


def train(args):
    """Train and return the final test accuracy."""
    kv = mx.kv.create(args.kv_store) if args.kv_store else None
    rank = kv.rank if kv is not None else 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ctx = mx.cpu()
    if args.seed is not None:
        np.random.seed(args.seed + rank)
        mx.random.seed(args.seed)   # the same initial weights everywhere (rank 0's win anyway)
    train_data, test_data = load_data(args, kv)
    net = build_net(args.model)
    net.initialize(mx.init.Xavier(magnitude=2.24), ctx=ctx)
    net.hybridize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": args.lr, "momentum": 0.9},
                            kvstore=kv if kv is not None else "local")
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    metric = mx.metric.Accuracy()
    speed = mx.callback.Speedometer(args.batch_size, args.log_interval, auto_reset=False)
    for epoch in range(args.num_epochs):
        metric.reset()
        for nbatch, (x, y) in enumerate(train_data):
            x, y = x.as_in_context(ctx), y.as_in_context(ctx)
            with autograd.record():
                out = net(x)
                loss = loss_fn(out, y)
            loss.backward()
            trainer.step(x.shape[0])
            metric.update(labels=y, preds=out)
            speed(mx.model.BatchEndParam(epoch, nbatch, metric, locals()))
        acc = evaluate(net, test_data, ctx)
        logging.info("Epoch[%d] worker %d Train-%s=%f Test-accuracy=%f", epoch, rank, *metric.get(), acc)
    if kv is not None and "dist" in kv.type:
        kv.barrier()    # every worker has pushed its last step: pull the final weights
        for i, p in enumerate(trainer._params):
            kv.pull(i, out=p.list_data(), priority=-i)
        acc = evaluate(net, test_data, ctx)
    logging.info("Final test accuracy: %.4f", acc)
    return acc


def parse_args(argv=None):
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--kv-store", default="local", help="local, device, dist_sync, dist_async, ...")
    p.add_argument("--num-epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64, help="per worker")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--data-root", default=None, help="directory with the MNIST IDX gzip files")
    p.add_argument("--max-samples", type=int, default=None, help="use only the first N training samples")
    p.add_argument("--log-interval", type=int, default=100, help="batches between speed lines")
    p.add_argument("--seed", type=int, default=None)
    return p.parse_args(argv)


if __name__ == "__main__":
    train(parse_args())
