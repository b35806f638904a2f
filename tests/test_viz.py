"""mx.viz: print_summary's table (MXNet 1.9.1's output) and plot_network."""
import builtins

import pytest

import psnet as mx
from psnet.base import NotSupportedError


def _net():
    data = mx.sym.Variable("data")
    c = mx.sym.Convolution(data, kernel=(3, 3), num_filter=4, name="conv")
    a = mx.sym.Activation(mx.sym.BatchNorm(c, name="bn"), act_type="relu", name="relu1")
    p = mx.sym.Pooling(a, kernel=(2, 2), stride=(2, 2), pool_type="max", name="pool")
    f = mx.sym.Flatten(p, name="flatten0")
    s = mx.sym.FullyConnected(f, name="fc1", num_hidden=10) + \
        mx.sym.FullyConnected(f, name="fc2", num_hidden=10, no_bias=True)
    return mx.sym.SoftmaxOutput(s, name="softmax")


# MXNet 1.9.1's print_summary(_net(), shape={'data': (1, 1, 8, 8)}), without trailing spaces
EXPECTED = """\
________________________________________________________________________________________________________________________
Layer (type)                                        Output Shape            Param #     Previous Layer
========================================================================================================================
data(null)                                          1x8x8                   0
________________________________________________________________________________________________________________________
conv(Convolution)                                   4x6x6                   40          data
________________________________________________________________________________________________________________________
bn(BatchNorm)                                       4x6x6                   8           conv
________________________________________________________________________________________________________________________
relu1(Activation)                                   4x6x6                   0           bn
________________________________________________________________________________________________________________________
pool(Pooling)                                       4x3x3                   0           relu1
________________________________________________________________________________________________________________________
flatten0(Flatten)                                   36                      0           pool
________________________________________________________________________________________________________________________
fc1(FullyConnected)                                 10                      370         flatten0
________________________________________________________________________________________________________________________
fc2(FullyConnected)                                 10                      360         flatten0
________________________________________________________________________________________________________________________
_plus0(elemwise_add)                                10                      0           fc1
                                                                                        fc2
________________________________________________________________________________________________________________________
softmax(SoftmaxOutput)                              10                      0           _plus0
========================================================================================================================
Total params: 778
________________________________________________________________________________________________________________________
"""


def test_print_summary_matches_mxnet(capsys):
    with mx.sym.NameManager():
        net = _net()
    mx.viz.print_summary(net, shape={"data": (1, 1, 8, 8)})
    out = "\n".join(line.rstrip() for line in capsys.readouterr().out.splitlines()) + "\n"
    assert out == EXPECTED


def test_print_summary_without_shapes(capsys):
    mx.viz.print_summary(_net())
    lines = capsys.readouterr().out.splitlines()
    assert lines[3].split() == ["data(null)", "0"]
    assert lines[-2] == "Total params: 0"


def test_plot_network_missing_graphviz_is_explained(monkeypatch):
    real_import = builtins.__import__

    def no_graphviz(name, *args, **kwargs):
        if name == "graphviz":
            raise ImportError("no graphviz")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_graphviz)
    with pytest.raises(NotSupportedError, match="graphviz"):
        mx.viz.plot_network(_net())


def test_plot_network_graph():
    pytest.importorskip("graphviz", reason="the optional graphviz package is not installed")
    dot = mx.viz.plot_network(_net(), shape={"data": (1, 1, 8, 8)}, save_format="svg")
    src = dot.source
    assert "Convolution\n3x3/1, 4" in src and "FullyConnected\n10" in src
    assert "conv_weight" not in src and 'label="4x6x6"' in src
    shown = mx.viz.plot_network(_net(), hide_weights=False).source
    assert "conv_weight" in shown
