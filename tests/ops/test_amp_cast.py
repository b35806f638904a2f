"""amp_cast / amp_multicast (MXNet's mixed-precision casts); expected values from MXNet 1.9.1."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError


def _arrays():
    return (mx.nd.array([[1.5, 2.25]], dtype="float16"), mx.nd.array([1, 2], dtype="float32"),
            mx.nd.array([7], dtype="float64"), mx.nd.array([3, 4], dtype="int32"))


@pytest.mark.parametrize("narrow, float_type", [(False, np.float32), (True, np.float16)])
def test_multicast_casts_float16_and_float32_to_one_type_and_leaves_the_rest(narrow, float_type):
    x, y, w, z = _arrays()
    out = mx.nd.amp_multicast(x, y, w, z, num_outputs=4, cast_narrow=narrow)
    assert [o.dtype for o in out] == [float_type, float_type, np.float64, np.int32]
    assert [o.asnumpy().tolist() for o in out] == [[[1.5, 2.25]], [1.0, 2.0], [7.0], [3, 4]]
    assert mx.nd.amp_multicast(z, z, num_outputs=2)[0].dtype == np.int32
    assert mx.nd.amp_multicast(x, num_outputs=1)[0].dtype == np.float16


def test_cast_changes_only_float16_and_float32():
    x, y, w, z = _arrays()
    assert mx.nd.amp_cast(y, dtype="float16").dtype == np.float16
    assert mx.nd.amp_cast(x, dtype="float64").dtype == np.float64
    assert mx.nd.amp_cast(w, dtype="float16").dtype == np.float64          # float64 passes through
    assert mx.nd.amp_cast(z, dtype="float16").dtype == np.int32
    assert mx.nd.amp_cast(mx.nd.array([1], dtype="uint8"), dtype="float32").dtype == np.uint8
    assert mx.nd.amp_cast(mx.nd.array([1.7]), dtype="int32").asnumpy().tolist() == [1]


def test_gradients_come_back_in_each_input_dtype():
    x, y = _arrays()[:2]
    x.attach_grad()
    y.attach_grad()
    with mx.autograd.record():
        p, q = mx.nd.amp_multicast(x, y, num_outputs=2)
        loss = (p * mx.nd.array([[2, 3]], dtype=p.dtype)).sum() + (q * 5).sum()
    loss.backward()
    assert p.dtype == np.float32
    assert x.grad.dtype == np.float16 and x.grad.asnumpy().tolist() == [[2.0, 3.0]]
    assert y.grad.dtype == np.float32 and y.grad.asnumpy().tolist() == [5.0, 5.0]
    with mx.autograd.record():
        loss = (mx.nd.amp_cast(y, dtype="float16") * 3).sum()
    loss.backward()
    assert y.grad.dtype == np.float32 and y.grad.asnumpy().tolist() == [3.0, 3.0]


def test_symbol_types_follow_the_same_rules():
    a, b, c = mx.sym.var("a"), mx.sym.var("b"), mx.sym.var("c")
    s = mx.sym.amp_multicast(a, b, c, num_outputs=3)
    assert s.list_outputs() == ["amp_multicast0_output0", "amp_multicast0_output1", "amp_multicast0_output2"]
    assert s.infer_type(a="float16", b="float32", c="int32")[1] == [np.float32, np.float32, np.int32]
    assert mx.sym.amp_cast(a, dtype="float16").infer_type(a="float64")[1] == [np.float64]
    assert mx.sym.amp_cast(a, dtype="float16").infer_type(a="float32")[1] == [np.float16]


def test_bad_calls_name_the_problem():
    x, y = _arrays()[:2]
    with pytest.raises(MXNetError, match="needs num_outputs"):
        mx.nd.amp_multicast(x, y)
    with pytest.raises(MXNetError, match="takes 3 array input"):
        mx.nd.amp_multicast(x, y, num_outputs=3)
    with pytest.raises(MXNetError, match="dtype"):
        mx.nd.amp_cast(x)


def test_save_leaves_the_casts_out_unless_asked_to_keep_them(tmp_path):
    """The JSON MXNet 1.9.1 writes for this graph (compared byte for byte when made)."""
    import json
    a, b = mx.sym.var("a"), mx.sym.var("b")
    m = mx.sym.amp_multicast(mx.sym.amp_cast(a, dtype="float16", name="c0"), b, num_outputs=2, name="m0")
    s = mx.sym.elemwise_add(mx.sym.elemwise_add(m[0], m[1], name="add0"),
                            mx.sym.amp_cast(b, dtype="float32", name="c1"), name="add1")
    s.save(str(tmp_path / "strip.json"))
    nodes = json.loads((tmp_path / "strip.json").read_text())["nodes"]
    assert [(n["op"], n["name"], n["inputs"]) for n in nodes] == [
        ("null", "a", []), ("null", "b", []), ("elemwise_add", "add0", [[0, 0, 0], [1, 0, 0]]),
        ("elemwise_add", "add1", [[2, 0, 0], [1, 0, 0]])]
    mx.model.save_checkpoint(str(tmp_path / "keep"), 0, s, {}, {}, remove_amp_cast=False)
    kept = json.loads((tmp_path / "keep-symbol.json").read_text())["nodes"]
    assert [n["op"] for n in kept] == ["null", "amp_cast", "null", "amp_multicast", "elemwise_add",
                                       "amp_cast", "elemwise_add"]
    assert s.tojson() == mx.sym.load(str(tmp_path / "keep-symbol.json")).tojson()
