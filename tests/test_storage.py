"""Remote storage: every save/load entry point accepts fsspec URLs (memory://, file://); no network."""
import gzip
import os
import struct
import subprocess
import sys
import uuid

import numpy as np
import pytest

import psnet as mx
from psnet import storage
from psnet.gluon import nn

fsspec = pytest.importorskip("fsspec", reason="fsspec (an optional dependency) is needed for URL storage")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def mem():
    """A fresh memory:// directory, removed afterwards."""
    root = "memory://psnet-test-%s" % uuid.uuid4().hex
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(root[len("memory://"):]):
        fs.rm(root[len("memory://"):], recursive=True)


def test_helpers_local_and_url(tmp_path, mem):
    assert storage.is_url("s3://bucket/key") and storage.is_url("file:///tmp/x")
    assert not storage.is_url("/tmp/x") and not storage.is_url("relative/path") and not storage.is_url(3)
    assert storage.join(mem, "a", "b.txt") == mem + "/a/b.txt"
    assert storage.join(str(tmp_path), "a") == os.path.join(str(tmp_path), "a")
    with storage.open_uri(storage.join(mem, "d", "x.bin"), "wb") as f:
        f.write(b"abc")
    assert storage.exists(mem + "/d/x.bin") and storage.isdir(mem + "/d")
    assert storage.listdir(mem + "/d") == ["x.bin"]
    with storage.open_uri(mem + "/d/x.bin") as f:
        assert f.read() == b"abc"
    with pytest.raises(FileNotFoundError):
        storage.open_uri(mem + "/nope")
    with pytest.raises(mx.base.MXNetError, match="cannot load NDArrays from memory://.*/nope: No such file"):
        mx.nd.load(mem + "/nope")
    storage.makedirs(str(tmp_path / "p" / "q"))
    assert storage.isdir(str(tmp_path / "p" / "q"))


def test_plain_paths_do_not_import_fsspec(tmp_path):
    code = ("import sys, psnet as mx; mx.nd.save(%r, [mx.nd.ones((2,))]); mx.nd.load(%r); "
            "print('fsspec' in sys.modules)" % (str(tmp_path / "a.nd"), str(tmp_path / "a.nd")))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize("scheme,package", [("s3", "s3fs"), ("gs", "gcsfs"), ("az", "adlfs"), ("hdfs", "pyarrow")])
def test_missing_scheme_package_is_named(scheme, package):
    try:
        __import__(package)
        pytest.skip("%s is installed" % package)
    except ImportError:
        pass
    with pytest.raises(storage.MissingDependencyError, match="pip install fsspec %s" % package):
        mx.nd.save("%s://bucket/x.params" % scheme, [mx.nd.ones((1,))])


def test_missing_fsspec_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(storage.MissingDependencyError, match=r"optional package fsspec \(pip install fsspec\)"):
        mx.nd.load("memory://anything.params")
    with pytest.raises(ImportError):  # also an ImportError for callers catching that
        mx.nd.load("memory://anything.params")


def test_ndarray_save_load_memory_and_file_urls(tmp_path, mem):
    data = {"w": mx.nd.array(np.arange(6).reshape(2, 3)), "b": mx.nd.array([1.5], dtype="float64")}
    for url in (mem + "/nd/x.params", "file://" + str(tmp_path / "sub" / "x.params")):
        mx.nd.save(url, data)
        back = mx.nd.load(url)
        assert sorted(back) == ["b", "w"]
        np.testing.assert_array_equal(back["w"].asnumpy(), data["w"].asnumpy())
        assert back["b"].dtype == np.float64
    assert (tmp_path / "sub" / "x.params").exists()


def _mlp():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dense(4, activation="relu"), nn.Dense(2))
    net.initialize(mx.init.Xavier())
    return net


def test_block_parameters_and_export_imports(mem):
    net = _mlp()
    x = mx.nd.random.uniform(shape=(3, 5))
    ref = net(x).asnumpy()
    net.save_parameters(mem + "/mlp.params")
    other = _mlp()
    other.load_parameters(mem + "/mlp.params")
    np.testing.assert_allclose(other(x).asnumpy(), ref, rtol=1e-6)
    net.hybridize()
    net(x)
    net.export(mem + "/exported/mlp", epoch=3)
    assert storage.exists(mem + "/exported/mlp-symbol.json") and storage.exists(mem + "/exported/mlp-0003.params")
    imported = mx.gluon.SymbolBlock.imports(mem + "/exported/mlp-symbol.json", ["data"],
                                            mem + "/exported/mlp-0003.params")
    np.testing.assert_allclose(imported(x).asnumpy(), ref, rtol=1e-6)


def test_symbol_module_checkpoint_and_optimizer_states(mem):
    net = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=3, name="fc")
    net = mx.sym.SoftmaxOutput(net, name="softmax")
    net.save(mem + "/net-symbol.json")
    assert mx.sym.load(mem + "/net-symbol.json").list_arguments() == net.list_arguments()
    rs = np.random.RandomState(0)
    it = mx.io.NDArrayIter(rs.rand(20, 4).astype(np.float32), rs.randint(0, 3, 20).astype(np.float32), 10)
    mod = mx.mod.Module(net)
    mod.fit(it, num_epoch=1, optimizer="adam")
    mod.save_checkpoint(mem + "/ckpt/model", 1, save_optimizer_states=True)
    sym, args, auxs = mx.model.load_checkpoint(mem + "/ckpt/model", 1)
    assert sym.list_outputs() == net.list_outputs()
    np.testing.assert_array_equal(args["fc_weight"].asnumpy(), mod.get_params()[0]["fc_weight"].asnumpy())
    loaded = mx.mod.Module.load(mem + "/ckpt/model", 1, load_optimizer_states=True)
    loaded.bind(it.provide_data, it.provide_label)
    loaded.init_optimizer(optimizer="adam")
    assert storage.exists(mem + "/ckpt/model-0001.states")


def test_kvstore_and_trainer_optimizer_states(mem):
    kv = mx.kv.create("local")
    kv.set_optimizer(mx.optimizer.create("adam", learning_rate=0.1))
    kv.init(3, mx.nd.ones((2,)))
    kv.push(3, mx.nd.ones((2,)))
    kv.save_optimizer_states(mem + "/kv.states")
    kv2 = mx.kv.create("local")
    kv2.set_optimizer(mx.optimizer.create("adam", learning_rate=0.1))
    kv2.load_optimizer_states(mem + "/kv.states")
    with storage.open_uri(mem + "/kv.states") as f:
        assert len(f.read()) > 0
    net = _mlp()
    trainer = mx.gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01})
    with mx.autograd.record():
        loss = net(mx.nd.ones((2, 5))).sum()
    loss.backward()
    trainer.step(2)
    trainer.save_states(mem + "/trainer.states")
    trainer2 = mx.gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.01})
    trainer2.load_states(mem + "/trainer.states")
    assert trainer2._updaters[0].states.keys() == trainer._updaters[0].states.keys()


def _idx_gz(array):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(">%dI" % array.ndim, *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def test_dataset_roots_and_file_iterators_accept_urls(tmp_path, mem, mnist_dir):
    # MNISTIter reads IDX files from URLs as from local paths
    images = np.random.RandomState(0).randint(0, 255, (6, 28, 28))
    for name, arr in (("img.gz", images), ("lbl.gz", np.arange(6))):
        for path in ("%s/iter/%s" % (mem, name), str(tmp_path / name)):
            with storage.open_uri(path, "wb") as f:
                f.write(_idx_gz(arr))
    batches = [next(iter(mx.io.MNISTIter(image=base + "img.gz", label=base + "lbl.gz", batch_size=3,
                                         shuffle=False, flat=True)))
               for base in (mem + "/iter/", str(tmp_path) + os.sep)]
    np.testing.assert_array_equal(batches[0].data[0].asnumpy(), batches[1].data[0].asnumpy())
    np.testing.assert_array_equal(batches[0].label[0].asnumpy(), [0, 1, 2])
    assert batches[0].data[0].asnumpy().std() > 0
    # a Gluon dataset root in remote storage (the real, checksum-verified MNIST test files)
    for fname in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        with open(os.path.join(mnist_dir, fname), "rb") as src, storage.open_uri(mem + "/mnist/" + fname, "wb") as dst:
            dst.write(src.read())
    remote = mx.gluon.data.vision.MNIST(root=mem + "/mnist", train=False)
    local = mx.gluon.data.vision.MNIST(root=str(mnist_dir), train=False)
    assert len(remote) == len(local) == 10000
    np.testing.assert_array_equal(remote[7][0].asnumpy(), local[7][0].asnumpy())
    with pytest.raises(Exception, match="is missing"):
        mx.gluon.data.vision.MNIST(root=mem + "/empty", train=False)
