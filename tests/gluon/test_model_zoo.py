"""gluon.model_zoo.vision: every family builds, initialises and classifies a small batch
with the right output shape; the features/output split supports fine-tuning; pretrained
weights fail clearly when they cannot be downloaded."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError
from psnet.gluon.model_zoo import vision, model_store


def _forward(net, shape):
    net.initialize(mx.init.Xavier())
    return net(mx.nd.array(np.random.uniform(size=shape)))


@pytest.mark.parametrize("name,kwargs,shape", [
    ("resnet18_v1", {"thumbnail": True}, (2, 3, 32, 32)),
    ("resnet18_v2", {"thumbnail": True}, (2, 3, 32, 32)),
    ("resnet50_v1", {}, (1, 3, 32, 32)),
    ("resnet50_v2", {}, (1, 3, 32, 32)),
    ("vgg11", {}, (1, 3, 32, 32)),
    ("vgg11_bn", {}, (1, 3, 32, 32)),
    ("alexnet", {}, (1, 3, 63, 63)),
    ("mobilenet0.25", {}, (2, 3, 32, 32)),
    ("mobilenetv2_0.25", {}, (2, 3, 32, 32)),
    ("squeezenet1.1", {}, (1, 3, 224, 224)),
])
def test_family_forward_shape(name, kwargs, shape):
    out = _forward(vision.get_model(name, classes=7, **kwargs), shape)
    assert out.shape == (shape[0], 7)
    assert np.isfinite(out.asnumpy()).all()


def test_densenet_family_forward_shape_small_config():
    net = vision.DenseNet(8, 4, [1, 2, 1, 1], classes=5)
    assert _forward(net, (1, 3, 224, 224)).shape == (1, 5)


@pytest.mark.parametrize("name", sorted(vision._MODELS))
def test_every_model_builds(name):
    net = vision.get_model(name, classes=3)
    assert isinstance(net.features, mx.gluon.HybridBlock)
    assert isinstance(net.output, mx.gluon.HybridBlock)
    assert len(net.collect_params()) > 0


def test_resnet_parameter_count_matches_mxnet():
    net = vision.resnet18_v1()
    net.initialize()
    net(mx.nd.zeros((1, 3, 64, 64)))
    n = sum(int(np.prod(p.shape)) for p in net.collect_params().values())
    assert n == 11699112  # MXNet 1.9.1 resnet18_v1 (weights, biases, BN gamma/beta/running stats)


def test_finetune_by_sharing_features():
    pretrained = vision.get_model("mobilenet0.25", classes=1000)
    pretrained.initialize()
    pretrained(mx.nd.zeros((1, 3, 32, 32)))
    finetune = vision.get_model("mobilenet0.25", classes=4)
    finetune.features = pretrained.features
    finetune.output.initialize(mx.init.Xavier())
    x = mx.nd.array(np.random.uniform(size=(2, 3, 32, 32)))
    assert finetune(x).shape == (2, 4)
    np.testing.assert_allclose(finetune.features(x).asnumpy(), pretrained.features(x).asnumpy())
    shared = finetune.features.collect_params()
    assert all(p is pretrained.features.collect_params()[k] for k, p in shared.items())


def test_get_model_unknown_name_lists_choices():
    with pytest.raises(MXNetError, match="resnet18_v1"):
        vision.get_model("resnet19_v1")


def test_pretrained_offline_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("MXNET_GLUON_REPO", "http://127.0.0.1:9/")
    with pytest.raises(model_store.PretrainedUnavailableError, match="resnet18_v1-a0666292.params"):
        vision.resnet18_v1(pretrained=True, root=str(tmp_path))


def test_corrupt_local_file_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setenv("MXNET_GLUON_REPO", "http://127.0.0.1:9/")
    (tmp_path / "alexnet-44335d1f.params").write_bytes(b"not the real file")
    with pytest.raises(model_store.PretrainedUnavailableError, match="alexnet"):
        model_store.get_model_file("alexnet", root=str(tmp_path))
