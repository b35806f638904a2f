"""Shape operators vs NumPy and MXNet 1.9.1's documented results (reshape codes above all)."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import ShapeError


def _rand(*shape, dtype="float32"):
    return np.random.uniform(-2, 2, shape).astype(dtype)


# MXNet's documented examples of the special reshape codes (and outputs checked against 1.9.1)
RESHAPE_CASES = [
    ((2, 3, 4), (4, 0, 2), False, (4, 3, 2)),
    ((2, 3, 4), (2, 0, 0), False, (2, 3, 4)),
    ((2, 3, 4), (6, 1, -1), False, (6, 1, 4)),
    ((2, 3, 4), (3, -1, 8), False, (3, 1, 8)),
    ((2, 3, 4), (-1,), False, (24,)),
    ((2, 3, 4), (-2,), False, (2, 3, 4)),
    ((2, 3, 4), (2, -2), False, (2, 3, 4)),
    ((2, 3, 4), (-2, 1, 1), False, (2, 3, 4, 1, 1)),
    ((2, 3, 4), (-3, 4), False, (6, 4)),
    ((2, 3, 4, 5), (-3, -3), False, (6, 20)),
    ((2, 3, 4), (0, -3), False, (2, 12)),
    ((2, 3, 4), (-3, -2), False, (6, 4)),
    ((2, 3, 4), (-4, 1, 2, -2), False, (1, 2, 3, 4)),
    ((2, 3, 4), (2, -4, -1, 3, -2), False, (2, 1, 3, 4)),
    ((2, 12), (0, -4, 3, -1), False, (2, 3, 4)),
    ((6,), (-4, 2, 3), False, (2, 3)),
    ((2, 3, 4), (0, 0, -1, 1), False, (2, 3, 4, 1)),
    ((10, 5, 4), (-1, 0), False, (40, 5)),
    ((10, 5, 4), (-1, 0), True, (50, 4)),
    ((2, 3, 4), (0, -1), True, (3, 8)),
    ((2, 3, 4), (-3, 0), True, (6, 4)),
    ((2, 3, 4), (-1, 0), True, (6, 4)),
]


@pytest.mark.parametrize("src,req,reverse,expected", RESHAPE_CASES)
def test_reshape_special_codes(src, req, reverse, expected):
    x = np.arange(np.prod(src), dtype=np.float32).reshape(src)
    a = mx.nd.array(x)
    for r in (a.reshape(req, reverse=reverse), mx.nd.reshape(a, shape=req, reverse=reverse),
              mx.nd.Reshape(a, shape=req, reverse=reverse)):
        assert r.shape == expected
        np.testing.assert_array_equal(r.asnumpy(), x.reshape(expected))


def test_reshape_method_forms_and_view():
    a = mx.nd.arange(6)
    assert a.reshape(2, 3).shape == (2, 3)
    assert a.reshape((3, 2)).shape == (3, 2)
    assert a.reshape(shape=(1, 6)).shape == (1, 6)
    v = a.reshape((2, 3))
    v[:] = 7  # the method shares memory with the source, as in MXNet
    assert a.asnumpy().tolist() == [7.0] * 6


@pytest.mark.parametrize("src,req,words", [
    ((2, 3), (4, 2), ["(2, 3)", "(4, 2)"]),
    ((2, 3), (-1, -1), ["(2, 3)", "more than one -1"]),
    ((2, 3), (0, 0, 0), ["(2, 3)", "(0, 0, 0)"]),
    ((6,), (-4, 4, -1), ["(6,)", "cannot be split"]),
    ((2, 3), (5, -1), ["(2, 3)", "(5, -1)"]),
])
def test_reshape_errors_name_shape_and_request(src, req, words):
    with pytest.raises(ShapeError) as e:
        mx.nd.zeros(src).reshape(req)
    for w in words:
        assert w in str(e.value)


def test_reshape_like_with_ranges():
    x = _rand(2, 3, 4)
    r = mx.nd.reshape_like(mx.nd.array(x), mx.nd.ones((6, 1)), lhs_begin=0, lhs_end=2, rhs_begin=0, rhs_end=1)
    assert r.shape == (6, 4)
    np.testing.assert_array_equal(r.asnumpy(), x.reshape(6, 4))
    assert mx.nd.reshape_like(mx.nd.array(x), mx.nd.ones((4, 6))).shape == (4, 6)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "uint8"])
def test_transpose_swapaxes_moveaxis(dtype):
    x = _rand(2, 3, 4, dtype=dtype)
    a = mx.nd.array(x, dtype=dtype)
    np.testing.assert_array_equal(a.T.asnumpy(), x.T)
    np.testing.assert_array_equal(mx.nd.transpose(a, axes=(1, 2, 0)).asnumpy(), x.transpose(1, 2, 0))
    np.testing.assert_array_equal(mx.nd.swapaxes(a, dim1=0, dim2=2).asnumpy(), x.swapaxes(0, 2))
    np.testing.assert_array_equal(mx.nd.SwapAxis(a, dim1=1, dim2=0).asnumpy(), x.swapaxes(0, 1))
    np.testing.assert_array_equal(mx.nd.moveaxis(a, 0, 2).asnumpy(), np.moveaxis(x, 0, 2))
    assert mx.nd.transpose(a).dtype == np.dtype(dtype)


def test_transpose_result_does_not_alias():
    a = mx.nd.array([[1, 2], [3, 4]])
    t = a.T
    t += 1
    assert a.asnumpy().tolist() == [[1, 2], [3, 4]]


def test_expand_dims_squeeze_flatten():
    x = _rand(2, 1, 3)
    a = mx.nd.array(x)
    assert mx.nd.expand_dims(a, axis=0).shape == (1, 2, 1, 3)
    assert mx.nd.expand_dims(a, axis=-1).shape == (2, 1, 3, 1)
    assert mx.nd.squeeze(a).shape == (2, 3)
    assert mx.nd.squeeze(mx.nd.ones((1, 1))).shape == (1,)
    assert a.squeeze(axis=1).shape == (2, 3)
    with pytest.raises(ShapeError, match="size 2"):
        mx.nd.squeeze(a, axis=0)
    np.testing.assert_array_equal(mx.nd.flatten(mx.nd.array(_rand(2, 3, 4))).shape, (2, 12))
    assert mx.nd.Flatten(mx.nd.ones((2,))).shape == (2, 1)
    assert a.flatten().shape == (2, 3)


def test_broadcast_family():
    x = _rand(1, 3, 1)
    a = mx.nd.array(x)
    np.testing.assert_array_equal(mx.nd.broadcast_to(a, shape=(2, 3, 4)).asnumpy(), np.broadcast_to(x, (2, 3, 4)))
    assert mx.nd.broadcast_to(a, shape=(2, 0, 4)).shape == (2, 3, 4)
    np.testing.assert_array_equal(mx.nd.broadcast_axes(a, axis=(0, 2), size=(2, 4)).asnumpy(),
                                  np.broadcast_to(x, (2, 3, 4)))
    assert mx.nd.broadcast_axis(a, axis=2, size=5).shape == (1, 3, 5)
    assert mx.nd.broadcast_like(a, mx.nd.ones((2, 3, 4))).shape == (2, 3, 4)
    assert mx.nd.broadcast_like(mx.nd.ones((1, 3)), mx.nd.ones((4, 5)), lhs_axes=(0,), rhs_axes=(1,)).shape == (5, 3)
    with pytest.raises(ShapeError, match=r"\(1, 3, 1\).*\(2, 4, 4\)"):
        mx.nd.broadcast_to(a, shape=(2, 4, 4))


def test_broadcast_gradients_sum_back():
    a = mx.nd.array([[1.0, 2.0, 3.0]])
    a.attach_grad()
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    for fn in (lambda x: mx.nd.broadcast_to(x, shape=(2, 3)),
               lambda x: mx.nd.broadcast_axes(x, axis=0, size=2),
               lambda x: mx.nd.broadcast_like(x, mx.nd.ones((2, 3)))):
        with mx.autograd.record():
            y = (fn(a) * mx.nd.array(w)).sum()
        y.backward()
        np.testing.assert_allclose(a.grad.asnumpy(), w.sum(axis=0, keepdims=True))
    b = mx.nd.array([[1.0], [2.0]])
    b.attach_grad()
    with mx.autograd.record():
        y = (mx.nd.broadcast_mul(a, b) * mx.nd.array(w)).sum()
    y.backward()
    np.testing.assert_allclose(b.grad.asnumpy(), (w * [[1, 2, 3]]).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_concat_stack_split(dtype):
    x, y = _rand(2, 3, dtype=dtype), _rand(2, 2, dtype=dtype)
    a, b = mx.nd.array(x, dtype=dtype), mx.nd.array(y, dtype=dtype)
    np.testing.assert_array_equal(mx.nd.concat(a, b).asnumpy(), np.concatenate([x, y], axis=1))
    np.testing.assert_array_equal(mx.nd.Concat(a, a, dim=0).asnumpy(), np.concatenate([x, x], axis=0))
    np.testing.assert_array_equal(mx.nd.concatenate([a, b], axis=1).asnumpy(), np.concatenate([x, y], axis=1))
    np.testing.assert_array_equal(mx.nd.stack(a, a, axis=1).asnumpy(), np.stack([x, x], axis=1))
    parts = mx.nd.split(mx.nd.concat(a, a, dim=1), num_outputs=3)
    assert len(parts) == 3
    for p, q in zip(parts, np.split(np.concatenate([x, x], axis=1), 3, axis=1)):
        np.testing.assert_array_equal(p.asnumpy(), q)
    rows = mx.nd.SliceChannel(a, num_outputs=2, axis=0, squeeze_axis=True)
    assert [r.shape for r in rows] == [(3,), (3,)]
    single = mx.nd.split(a, num_outputs=1, axis=0)
    assert isinstance(single, mx.nd.NDArray) and single.shape == (2, 3)
    with pytest.raises(ShapeError, match="3 equal parts"):
        mx.nd.split(b, num_outputs=3, axis=1)
    with pytest.raises(ShapeError, match=r"\(2, 3\), \(3, 2\)"):
        mx.nd.concat(a, mx.nd.array(_rand(3, 2, dtype=dtype), dtype=dtype), dim=0)


def test_concat_and_split_gradients():
    a, b = mx.nd.array([[1.0, 2.0]]), mx.nd.array([[3.0, 4.0, 5.0]])
    a.attach_grad(); b.attach_grad()
    with mx.autograd.record():
        c = mx.nd.concat(a, b, dim=1)
        y = (c * mx.nd.array([[2, 2, 1, 2, 3]])).sum()
    y.backward()
    assert a.grad.asnumpy().tolist() == [[2.0, 2.0]]
    assert b.grad.asnumpy().tolist() == [[1.0, 2.0, 3.0]]
    x = mx.nd.array([[1.0, 2.0, 3.0, 4.0]])
    x.attach_grad()
    with mx.autograd.record():
        s = mx.nd.split(x, num_outputs=2, axis=1)
        y = (s[0] * 3).sum()  # the unused part gets a zero gradient
    y.backward()
    assert x.grad.asnumpy().tolist() == [[3.0, 3.0, 0.0, 0.0]]


def test_tile_repeat_flip():
    x = _rand(2, 3)
    a = mx.nd.array(x)
    for reps in [(2,), (2, 1), (1, 2, 2)]:
        np.testing.assert_array_equal(mx.nd.tile(a, reps=reps).asnumpy(), np.tile(x, reps))
    np.testing.assert_array_equal(mx.nd.repeat(a, repeats=2).asnumpy(), np.repeat(x, 2))
    np.testing.assert_array_equal(a.repeat(repeats=3, axis=0).asnumpy(), np.repeat(x, 3, axis=0))
    np.testing.assert_array_equal(mx.nd.flip(a, axis=1).asnumpy(), x[:, ::-1])
    np.testing.assert_array_equal(mx.nd.reverse(a, axis=(0, 1)).asnumpy(), x[::-1, ::-1])


def test_tile_repeat_gradients():
    a = mx.nd.array([[1.0, 2.0]])
    a.attach_grad()
    with mx.autograd.record():
        y = (mx.nd.tile(a, reps=(2, 2)) * mx.nd.array([[1, 2, 3, 4], [5, 6, 7, 8]])).sum()
    y.backward()
    assert a.grad.asnumpy().tolist() == [[1 + 3 + 5 + 7, 2 + 4 + 6 + 8]]
    with mx.autograd.record():
        y = (mx.nd.repeat(a, repeats=2, axis=1) * mx.nd.array([[1, 2, 3, 4]])).sum()
    y.backward()
    assert a.grad.asnumpy().tolist() == [[3, 7]]


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect"])
def test_pad_forward_and_gradient(mode):
    x = _rand(1, 2, 3, 4)
    pw = (0, 0, 0, 0, 1, 2, 2, 1)
    a = mx.nd.array(x)
    kwargs = {"constant_values": 1.5} if mode == "constant" else {}
    expected = np.pad(x, [(0, 0), (0, 0), (1, 2), (2, 1)], mode=mode, **kwargs)
    out = mx.nd.pad(a, mode=mode, pad_width=pw, constant_value=1.5)
    np.testing.assert_allclose(out.asnumpy(), expected)
    # the gradient is the adjoint: <pad(x), w> == <x, pad^T(w)> (constant part excluded)
    w = np.random.uniform(size=expected.shape).astype(np.float32)
    a.attach_grad()
    with mx.autograd.record():
        y = (mx.nd.Pad(a, mode=mode, pad_width=pw) * mx.nd.array(w)).sum()
    y.backward()
    lin = np.pad(x, [(0, 0), (0, 0), (1, 2), (2, 1)], mode=mode) if mode != "constant" else \
        np.pad(x, [(0, 0), (0, 0), (1, 2), (2, 1)])
    np.testing.assert_allclose((lin * w).sum(), (x * a.grad.asnumpy()).sum(), rtol=1e-5)
    base = x.astype(np.float64)
    for idx in [(0, 0, 0, 0), (0, 1, 2, 3), (0, 1, 1, 0)]:
        e = np.zeros_like(base)
        e[idx] = 1.0
        d = (np.pad(base + e, [(0, 0), (0, 0), (1, 2), (2, 1)], mode=mode) * w).sum() - \
            (np.pad(base, [(0, 0), (0, 0), (1, 2), (2, 1)], mode=mode) * w).sum()
        np.testing.assert_allclose(a.grad.asnumpy()[idx], d, rtol=1e-4)


def test_depth_space_roundtrip_and_values():
    x = mx.nd.arange(16).reshape((1, 4, 2, 2))
    d = mx.nd.depth_to_space(x, 2)
    assert d.asnumpy()[0, 0].tolist() == [[0, 4, 1, 5], [8, 12, 9, 13], [2, 6, 3, 7], [10, 14, 11, 15]]
    np.testing.assert_array_equal(mx.nd.space_to_depth(d, 2).asnumpy(), x.asnumpy())


def test_split_v2_sections_and_indices():
    x = np.arange(12, dtype=np.float32).reshape(2, 6)
    a = mx.nd.array(x)
    parts = mx.nd.split_v2(a, (1, 3), axis=1)
    assert [p.shape for p in parts] == [(2, 1), (2, 2), (2, 3)]
    for p, q in zip(parts, np.split(x, [1, 3], axis=1)):
        np.testing.assert_array_equal(p.asnumpy(), q)
    assert [p.shape for p in a.split_v2(3, axis=1)] == [(2, 2)] * 3
    assert [p.shape for p in mx.nd.split_v2(a, 2, squeeze_axis=True)] == [(6,), (6,)]
    with pytest.raises(ShapeError, match=r"\(2, 6\)"):
        mx.nd.split_v2(a, 4, axis=1)


@pytest.mark.parametrize("fn", [lambda x: mx.nd.transpose(x), lambda x: mx.nd.broadcast_to(x, shape=(2,)),
                                lambda x: mx.nd.flip(x, axis=0), lambda x: mx.nd.swapaxes(x, dim1=0, dim2=0),
                                lambda x: mx.nd.tile(x, reps=(1,)), lambda x: mx.nd.split(x, num_outputs=1, axis=0),
                                lambda x: mx.nd.pad(x.reshape((1, 2)), mode="constant", pad_width=(0, 0, 0, 0)),
                                lambda x: mx.nd.reshape(x, shape=(2, 1)), lambda x: mx.nd.expand_dims(x, axis=0),
                                lambda x: mx.nd.flatten(x), lambda x: mx.nd.squeeze(x),
                                lambda x: mx.nd.reshape_like(x, mx.nd.ones((1, 2))), lambda x: x.expand_dims(0)])
def test_new_array_ops_never_alias_their_input(fn):
    """Even when the op changes nothing, its result is a new, writable array (as in MXNet,
    where only the method ``x.reshape`` shares memory)."""
    x = mx.nd.array([1.0, 2.0])
    y = fn(x)
    y += 1
    assert x.asnumpy().tolist() == [1.0, 2.0]
