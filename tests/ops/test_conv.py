"""Convolution, Deconvolution, Pooling, LRN and UpSampling: values against direct NumPy
loops and MXNet 1.9.1 results, gradients against finite differences."""
import itertools

import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError, ShapeError


# ---------------------------------------------------------------- references (loops are fine here)
def conv_ref(x, w, b, stride, pad, dilate, groups):
    """Direct N-D convolution by loops over output positions."""
    n, c = x.shape[:2]
    f, k = w.shape[0], w.shape[2:]
    nd = len(k)
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    out = [(xp.shape[2 + i] - dilate[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nd)]
    y = np.zeros((n, f) + tuple(out))
    cg, fg = c // groups, f // groups
    for fi in range(f):
        gi = fi // fg
        for pos in itertools.product(*[range(o) for o in out]):
            sl = tuple(slice(p * s, p * s + d * (kk - 1) + 1, d) for p, s, d, kk in zip(pos, stride, dilate, k))
            patch = xp[(slice(None), slice(gi * cg, (gi + 1) * cg)) + sl]
            y[(slice(None), fi) + pos] = (patch * w[fi]).reshape(n, -1).sum(1) + (b[fi] if b is not None else 0)
    return y


def deconv_ref(x, w, stride, pad, adj, groups):
    """Transposed convolution by scattering every input element (loops)."""
    n, c = x.shape[:2]
    fg, k = w.shape[1], w.shape[2:]
    nd = len(k)
    full = [stride[i] * (x.shape[2 + i] - 1) + k[i] + adj[i] for i in range(nd)]
    y = np.zeros((n, fg * groups) + tuple(full))
    cg = c // groups
    for ci in range(c):
        gi = ci // cg
        for pos in itertools.product(*[range(s) for s in x.shape[2:]]):
            sl = tuple(slice(p * s, p * s + kk) for p, s, kk in zip(pos, stride, k))
            y[(slice(None), slice(gi * fg, (gi + 1) * fg)) + sl] += \
                x[(slice(None), ci) + pos].reshape((n, 1) + (1,) * nd) * w[ci]
    crop = tuple(slice(p, f - p) for p, f in zip(pad, full))
    return y[(Ellipsis,) + crop]


def numeric_grads(fn, arrays, head, eps=1e-3):
    """Central finite differences of sum(fn(*arrays) * head) w.r.t. each array."""
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            old = a[idx]
            a[idx] = old + eps
            hi = (fn(*arrays) * head).sum()
            a[idx] = old - eps
            lo = (fn(*arrays) * head).sum()
            a[idx] = old
            g[idx] = (hi - lo) / (2 * eps)
        grads.append(g)
    return grads


def check_grads(op_fn, arrays, rtol=1e-4, atol=1e-5):
    """psnet's backward of op_fn against finite differences (float64)."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    nds = [mx.nd.array(a, dtype="float64") for a in arrays]
    for v in nds:
        v.attach_grad()
    with mx.autograd.record():
        y = op_fn(*nds)
    head = np.random.RandomState(3).standard_normal(y.shape)
    y.backward(mx.nd.array(head, dtype="float64"))
    expected = numeric_grads(lambda *a: op_fn(*[mx.nd.array(v, dtype="float64") for v in a]).asnumpy(),
                             arrays, head)
    for v, e in zip(nds, expected):
        np.testing.assert_allclose(v.grad.asnumpy(), e, rtol=rtol, atol=atol)


rng = np.random.RandomState(0)


# ---------------------------------------------------------------- Convolution
@pytest.mark.parametrize("shape,kernel,stride,pad,dilate,groups,f", [
    ((2, 3, 6), (3,), (1,), (0,), (1,), 1, 4),
    ((2, 4, 7, 6), (3, 3), (2, 1), (1, 0), (1, 2), 2, 6),
    ((1, 2, 5, 5), (1, 1), (1, 1), (0, 0), (1, 1), 1, 3),
    ((2, 4, 6, 6), (3, 3), (1, 1), (1, 1), (1, 1), 4, 8),      # depthwise, multiplier 2
    ((1, 2, 4, 5, 4), (2, 3, 2), (1, 2, 1), (1, 1, 0), (1, 1, 2), 1, 3),
    ((2, 3, 1, 1), (3, 3), (1, 1), (1, 1), (1, 1), 1, 4),          # only the centre tap sees data
    ((2, 3, 2, 3), (3, 3), (2, 2), (1, 1), (1, 1), 1, 2),          # leading taps see only padding
    ((1, 2, 2, 5), (3, 3), (3, 1), (2, 0), (2, 1), 1, 2),          # dilated, strided, padded
    # >= 4 channels, ungrouped: the channels-last im2col path
    ((2, 5, 6), (3,), (2,), (1,), (1,), 1, 4),
    ((2, 6, 7, 6), (3, 3), (2, 1), (1, 0), (1, 2), 1, 3),
    ((1, 4, 4, 5, 4), (2, 3, 2), (1, 2, 1), (1, 1, 0), (1, 1, 2), 1, 3),
    ((2, 5, 1, 1), (3, 3), (1, 1), (1, 1), (1, 1), 1, 4),
    ((2, 4, 2, 3), (3, 3), (2, 2), (1, 1), (1, 1), 1, 2),
])
def test_convolution_matches_direct_loops(shape, kernel, stride, pad, dilate, groups, f):
    x = rng.standard_normal(shape)
    w = rng.standard_normal((f, shape[1] // groups) + kernel)
    b = rng.standard_normal(f)
    y = mx.nd.Convolution(mx.nd.array(x), mx.nd.array(w), mx.nd.array(b), kernel=kernel, stride=stride,
                          pad=pad, dilate=dilate, num_filter=f, num_group=groups)
    np.testing.assert_allclose(y.asnumpy(), conv_ref(x, w, b, stride, pad, dilate, groups), rtol=1e-4, atol=1e-4)


def test_convolution_no_bias_and_weight_layout():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    w = np.array([[[[1, 0], [0, -1]]]], dtype=np.float32)   # (num_filter, in_channels, kh, kw)
    y = mx.nd.Convolution(mx.nd.array(x), mx.nd.array(w), kernel=(2, 2), num_filter=1, no_bias=True)
    np.testing.assert_array_equal(y.asnumpy(), np.full((1, 1, 3, 3), -5.0))
    assert y.dtype == np.float32


def test_convolution_values_from_mxnet():
    # mx.nd.Convolution(arange(1*2*3*3), ones(1,2,2,2), pad=(1,1), no_bias=True) under MXNet 1.9.1
    x = mx.nd.array(np.arange(18, dtype=np.float32).reshape(1, 2, 3, 3))
    y = mx.nd.Convolution(x, mx.nd.ones((1, 2, 2, 2)), kernel=(2, 2), pad=(1, 1), num_filter=1, no_bias=True)
    expected = [[9, 20, 24, 13], [24, 52, 60, 32], [36, 76, 84, 44], [21, 44, 48, 25]]
    np.testing.assert_array_equal(y.asnumpy()[0, 0], expected)


def test_convolution_errors_name_the_problem():
    x = mx.nd.ones((1, 3, 5, 5))
    with pytest.raises(ShapeError, match=r"weight has shape \(2, 2, 3, 3\), expected \(2, 3, 3, 3\)"):
        mx.nd.Convolution(x, mx.nd.ones((2, 2, 3, 3)), kernel=(3, 3), num_filter=2, no_bias=True)
    with pytest.raises(ShapeError, match="does not fit"):
        mx.nd.Convolution(x, mx.nd.ones((2, 3, 7, 7)), kernel=(7, 7), num_filter=2, no_bias=True)
    with pytest.raises(ShapeError, match="num_group"):
        mx.nd.Convolution(x, mx.nd.ones((2, 1, 3, 3)), kernel=(3, 3), num_filter=2, num_group=2, no_bias=True)
    with pytest.raises(MXNetError, match="layout"):
        mx.nd.Convolution(x, mx.nd.ones((2, 3, 3, 3)), kernel=(3, 3), num_filter=2, no_bias=True, layout="NHWC")


@pytest.mark.parametrize("kw", [
    dict(kernel=(3, 3), stride=(2, 1), pad=(1, 0), dilate=(1, 2), num_filter=4, num_group=2),
    dict(kernel=(2,), stride=(2,), pad=(1,), num_filter=3),
    dict(kernel=(2, 2, 2), pad=(0, 1, 0), num_filter=2),
    dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), num_filter=2),
])
def test_convolution_gradients_finite_differences(kw):
    nd = len(kw["kernel"])
    c = 4 if kw.get("num_group", 1) == 2 else 2
    x = rng.standard_normal((2, c) + ((5, 6, 3)[:nd] if kw.get("stride") != (2, 2) else (2, 1)))
    w = rng.standard_normal((kw["num_filter"], c // kw.get("num_group", 1)) + kw["kernel"])
    b = rng.standard_normal(kw["num_filter"])
    check_grads(lambda x, w, b: mx.nd.Convolution(x, w, b, **kw), [x, w, b])


@pytest.mark.parametrize("shape,kw", [
    ((2, 4, 5, 5), dict(kernel=(3, 3), pad=(1, 1), num_filter=3)),                  # stride-1 route
    ((2, 5, 6, 5), dict(kernel=(3, 3), stride=(2, 1), pad=(1, 0), dilate=(1, 2), num_filter=2)),   # col2im
    ((2, 4, 2, 1), dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), num_filter=2)),  # trimmed taps
    ((1, 4, 3, 4, 2), dict(kernel=(2, 2, 2), pad=(0, 1, 0), num_filter=2)),
])
def test_channels_last_convolution_gradients_finite_differences(shape, kw):
    """Ungrouped convolutions of >= 4 channels compute through channels-last columns."""
    x = rng.standard_normal(shape)
    w = rng.standard_normal((kw["num_filter"], shape[1]) + kw["kernel"])
    b = rng.standard_normal(kw["num_filter"])
    check_grads(lambda x, w, b: mx.nd.Convolution(x, w, b, **kw), [x, w, b])


# ---------------------------------------------------------------- Deconvolution
def test_deconvolution_matches_scatter_loops():
    x = rng.standard_normal((2, 4, 3, 4))
    w = rng.standard_normal((4, 3, 3, 2))
    y = mx.nd.Deconvolution(mx.nd.array(x), mx.nd.array(w), kernel=(3, 2), stride=(2, 3), pad=(1, 0),
                            adj=(1, 2), num_filter=6, num_group=2)
    ref = deconv_ref(x, w, (2, 3), (1, 0), (1, 2), 2)
    assert y.shape == ref.shape == (2, 6, 6, 13)
    np.testing.assert_allclose(y.asnumpy(), ref, rtol=1e-4, atol=1e-4)


def test_deconvolution_target_shape_and_dilation():
    # MXNet 1.9.1: 1-D, dilate 2, stride 2: out[2i + 2k] += x[i] * w[k]
    x = mx.nd.array([[[[1, 10, 100]]]])
    w = mx.nd.array([[[[1, 2]]]])
    y = mx.nd.Deconvolution(x, w, kernel=(1, 2), dilate=(1, 2), stride=(1, 2), num_filter=1)
    np.testing.assert_array_equal(y.asnumpy().ravel(), [1, 0, 12, 0, 120, 0, 200])
    y = mx.nd.Deconvolution(mx.nd.ones((1, 2, 7, 6)), mx.nd.ones((2, 3, 3, 3)), kernel=(3, 3), stride=(2, 2),
                            target_shape=(12, 11), num_filter=3)
    assert y.shape == (1, 3, 12, 11)


def test_deconvolution_gradients_finite_differences():
    x = rng.standard_normal((1, 4, 3, 3))
    w = rng.standard_normal((4, 1, 3, 2))
    b = rng.standard_normal(2)
    check_grads(lambda x, w, b: mx.nd.Deconvolution(x, w, b, kernel=(3, 2), stride=(2, 1), pad=(1, 0), adj=(1, 0),
                                                    dilate=(1, 2), num_filter=2, num_group=2, no_bias=False),
                [x, w, b])


# ---------------------------------------------------------------- Pooling
def pool_ref(x, k, s, p, kind, full=False, include_pad=True):
    """2-D pooling by loops over output positions."""
    n, c, h, w = x.shape
    size = [h + 2 * p[0], w + 2 * p[1]]
    rnd = np.ceil if full else np.floor
    out = [int(rnd((size[i] - k[i]) / s[i])) + 1 for i in range(2)]
    y = np.zeros((n, c) + tuple(out))
    for i, j in itertools.product(range(out[0]), range(out[1])):
        h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
        h1, w1 = min(h0 + k[0], h + p[0]), min(w0 + k[1], w + p[1])
        win = x[:, :, max(h0, 0):min(h1, h), max(w0, 0):min(w1, w)]
        if kind == "max":
            y[:, :, i, j] = win.max(axis=(2, 3))
        elif kind == "sum":
            y[:, :, i, j] = win.sum(axis=(2, 3))
        else:
            cnt = (h1 - h0) * (w1 - w0) if include_pad else win.shape[2] * win.shape[3]
            y[:, :, i, j] = win.sum(axis=(2, 3)) / cnt
    return y


@pytest.mark.parametrize("kind", ["max", "avg", "sum"])
@pytest.mark.parametrize("full", [False, True])
def test_pooling_matches_loops(kind, full):
    x = rng.standard_normal((2, 3, 7, 6))
    y = mx.nd.Pooling(mx.nd.array(x), kernel=(3, 2), stride=(2, 2), pad=(1, 1), pool_type=kind,
                      pooling_convention="full" if full else "valid")
    np.testing.assert_allclose(y.asnumpy(), pool_ref(x, (3, 2), (2, 2), (1, 1), kind, full), rtol=1e-5, atol=1e-6)


def test_avg_pooling_count_include_pad_false():
    x = rng.standard_normal((1, 2, 5, 5))
    y = mx.nd.Pooling(mx.nd.array(x), kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg",
                      count_include_pad=False)
    np.testing.assert_allclose(y.asnumpy(), pool_ref(x, (3, 3), (2, 2), (1, 1), "avg", include_pad=False),
                               rtol=1e-5, atol=1e-6)


def test_global_and_lp_pooling():
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    g = mx.nd.Pooling(mx.nd.array(x), global_pool=True, pool_type="avg", kernel=(1, 1))
    np.testing.assert_allclose(g.asnumpy(), x.mean(axis=(2, 3), keepdims=True), rtol=1e-5)
    g = mx.nd.Pooling(mx.nd.array(x), global_pool=True, pool_type="max")
    np.testing.assert_allclose(g.asnumpy(), x.max(axis=(2, 3), keepdims=True))
    lp2 = mx.nd.Pooling(mx.nd.array(x), kernel=(2, 2), stride=(2, 2), pool_type="lp", p_value=2)
    win = x[:, :, :4, :4].reshape(2, 3, 2, 2, 2, 2)
    np.testing.assert_allclose(lp2.asnumpy(), np.sqrt((win ** 2).sum(axis=(3, 5))), rtol=1e-5)
    # MXNet 1.9.1 takes the signed cube root for p_value=3
    lp3 = mx.nd.Pooling(mx.nd.array([[[-2.0, 1.0]]]), kernel=(2,), pool_type="lp", p_value=3)
    np.testing.assert_allclose(lp3.asnumpy().ravel(), [np.cbrt(-7.0)], rtol=1e-6)


def test_pooling_1d_3d_shapes_and_errors():
    assert mx.nd.Pooling(mx.nd.ones((2, 3, 9)), kernel=(3,), stride=(2,)).shape == (2, 3, 4)
    assert mx.nd.Pooling(mx.nd.ones((1, 2, 4, 6, 5)), kernel=(2, 2, 2), stride=(2, 2, 2)).shape == (1, 2, 2, 3, 2)
    with pytest.raises(MXNetError, match="pool_type"):
        mx.nd.Pooling(mx.nd.ones((1, 1, 4, 4)), kernel=(2, 2), pool_type="median")
    with pytest.raises(MXNetError, match="kernel"):
        mx.nd.Pooling(mx.nd.ones((1, 1, 4, 4)))


@pytest.mark.parametrize("kw", [
    dict(pool_type="max", kernel=(3, 3), stride=(2, 2), pad=(1, 1), pooling_convention="full"),
    dict(pool_type="avg", kernel=(3, 2), stride=(2, 1), pad=(1, 1), count_include_pad=False),
    dict(pool_type="sum", kernel=(2, 2), stride=(1, 2)),
    dict(pool_type="lp", p_value=2, kernel=(2, 2), stride=(2, 2)),
    dict(pool_type="avg", kernel=(2, 2, 2), stride=(1, 2, 1)),
    dict(pool_type="max", global_pool=True, kernel=(1, 1)),
])
def test_pooling_gradients_finite_differences(kw):
    nd = len(kw["kernel"]) if not kw.get("global_pool") else 2
    x = rng.permutation(2 * 2 * 5 * 4 * 3)[:2 * 2 * (20 if nd == 2 else 60)].astype(np.float64) / 7.0
    x = x.reshape((2, 2, 5, 4) if nd == 2 else (2, 2, 5, 4, 3))  # distinct values: no ties for max
    check_grads(lambda a: mx.nd.Pooling(a, **kw), [x])


def test_max_pooling_gradient_goes_to_first_maximum():
    x = mx.nd.array([[[[1, 1], [1, 1]]]])
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Pooling(x, kernel=(2, 2), pool_type="max")
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy().ravel(), [1, 0, 0, 0])


# ---------------------------------------------------------------- LRN, UpSampling
def test_lrn_formula_and_gradient():
    x = rng.standard_normal((2, 5, 2, 3))
    y = mx.nd.LRN(mx.nd.array(x), alpha=0.3, beta=0.6, knorm=1.5, nsize=3).asnumpy()
    sq = np.pad(x ** 2, [(0, 0), (1, 1), (0, 0), (0, 0)])
    win = sq[:, :-2] + sq[:, 1:-1] + sq[:, 2:]
    np.testing.assert_allclose(y, x / (1.5 + 0.3 / 3 * win) ** 0.6, rtol=1e-5)
    check_grads(lambda a: mx.nd.LRN(a, alpha=0.3, beta=0.6, knorm=1.5, nsize=3), [x[:1, :, :1]])


def test_upsampling_nearest_and_gradients():
    x = np.arange(4.0).reshape(1, 1, 2, 2)
    y = mx.nd.UpSampling(mx.nd.array(x), scale=2, sample_type="nearest")
    np.testing.assert_array_equal(y.asnumpy()[0, 0], [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]])
    a, b = rng.standard_normal((1, 2, 2, 3)), rng.standard_normal((1, 1, 4, 6))
    both = mx.nd.UpSampling(mx.nd.array(a), mx.nd.array(b), scale=2, sample_type="nearest", num_args=2)
    assert both.shape == (1, 3, 4, 6)
    check_grads(lambda p, q: mx.nd.UpSampling(p, q, scale=2, sample_type="nearest", num_args=2), [a, b])
    check_grads(lambda p, q: mx.nd.UpSampling(p, q, scale=2, sample_type="nearest", num_args=2,
                                              multi_input_mode="sum"), [a, rng.standard_normal((1, 2, 4, 6))])


def test_upsampling_bilinear_is_depthwise_deconvolution():
    x = rng.standard_normal((1, 2, 3, 3))
    w = rng.standard_normal((2, 1, 4, 4))
    y = mx.nd.UpSampling(mx.nd.array(x), mx.nd.array(w), scale=2, sample_type="bilinear", num_args=2, num_filter=2)
    ref = mx.nd.Deconvolution(mx.nd.array(x), mx.nd.array(w), kernel=(4, 4), stride=(2, 2), pad=(1, 1),
                              num_filter=2, num_group=2)
    assert y.shape == (1, 2, 6, 6)
    np.testing.assert_allclose(y.asnumpy(), ref.asnumpy())
    check_grads(lambda p, q: mx.nd.UpSampling(p, q, scale=2, sample_type="bilinear", num_args=2, num_filter=2),
                [x[:, :, :2, :2], w])


def test_symbol_infers_weight_and_output_shapes():
    d = mx.sym.Variable("data")
    c = mx.sym.Convolution(d, kernel=(3, 3), num_filter=8, pad=(1, 1), name="c1")
    p = mx.sym.Pooling(c, kernel=(2, 2), stride=(2, 2), pool_type="max")
    dc = mx.sym.Deconvolution(p, kernel=(4, 4), stride=(2, 2), pad=(1, 1), num_filter=3, name="dc")
    args, outs, _ = dc.infer_shape(data=(2, 3, 16, 16))
    assert dc.list_arguments() == ["data", "c1_weight", "c1_bias", "dc_weight"]
    assert args == [(2, 3, 16, 16), (8, 3, 3, 3), (8,), (8, 3, 4, 4)]
    assert outs == [(2, 3, 16, 16)]


def test_convolution_second_order_gradient():
    """d/dw of sum(d loss/dx) with loss = sum(conv(x, w)**2), against finite differences."""
    x0 = rng.standard_normal((1, 2, 4, 4))
    w0 = rng.standard_normal((3, 2, 3, 3))
    kw = dict(kernel=(3, 3), pad=(1, 1), stride=(1, 1), num_filter=3, no_bias=True)

    def first_grad_sum(w):
        x = mx.nd.array(x0, dtype="float64")
        wv = mx.nd.array(w, dtype="float64")
        x.attach_grad()
        wv.attach_grad()
        with mx.autograd.record():
            y = mx.nd.Convolution(x, wv, **kw)
            gx = mx.autograd.grad((y * y).sum(), [x], create_graph=True)[0]
            total = gx.sum()
        total.backward()
        return float(total.asscalar()), wv.grad.asnumpy()

    _, analytic = first_grad_sum(w0)
    numeric = np.zeros_like(w0)
    for idx in np.ndindex(w0.shape):
        hi, lo = w0.copy(), w0.copy()
        hi[idx] += 1e-4
        lo[idx] -= 1e-4
        numeric[idx] = (first_grad_sum(hi)[0] - first_grad_sum(lo)[0]) / 2e-4
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-6)
