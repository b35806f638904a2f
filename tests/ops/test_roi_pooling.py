"""ROIPooling: values against a plain-Python loop of MXNet's documented algorithm and
against MXNet 1.9.1 outputs (edge ROIs included), the data gradient against finite
differences, Symbol shape/type inference and output names, errors naming shapes."""
import math

import numpy as np
import pytest

import psnet as mx
from psnet.base import DTypeError, MXNetError, ShapeError


def _c_round(v):
    """C's round(): halves away from zero."""
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)


def _reference(data, rois, pooled, scale):
    """ROI max pooling, one bin at a time, as MXNet's CPU kernel documents it (float64
    bin arithmetic: the inputs below avoid float32 rounding edges)."""
    n, c, h, w = data.shape
    ph, pw = pooled
    out = np.zeros((len(rois), c, ph, pw), dtype=data.dtype)
    arg = -np.ones(out.shape, dtype=np.int64)
    for r, roi in enumerate(rois):
        b = int(roi[0])
        if not 0 <= b < n:
            continue
        x1, y1, x2, y2 = (_c_round(float(v) * scale) for v in roi[1:])
        bh = max(y2 - y1 + 1, 1) / ph
        bw = max(x2 - x1 + 1, 1) / pw
        for i in range(ph):
            hs = min(max(math.floor(i * bh) + y1, 0), h)
            he = min(max(math.ceil((i + 1) * bh) + y1, 0), h)
            for j in range(pw):
                ws = min(max(math.floor(j * bw) + x1, 0), w)
                we = min(max(math.ceil((j + 1) * bw) + x1, 0), w)
                for ch in range(c):
                    best, pos = -np.inf, -1
                    for yy in range(hs, he):
                        for xx in range(ws, we):
                            if data[b, ch, yy, xx] > best:
                                best, pos = data[b, ch, yy, xx], ((b * c + ch) * h + yy) * w + xx
                    if pos >= 0:
                        out[r, ch, i, j], arg[r, ch, i, j] = best, pos
    return out, arg


def _random_rois(rs, n, h, w, scale, count):
    x1 = rs.uniform(-4, 1.1 * w / scale, count)
    y1 = rs.uniform(-4, 1.1 * h / scale, count)
    x2 = x1 + rs.uniform(-2, w / scale, count)
    y2 = y1 + rs.uniform(-2, h / scale, count)
    b = rs.randint(-1, n + 1, count)  # includes out-of-range batch indices
    rois = np.stack([b, x1, y1, x2, y2], 1)
    rois[::3, 1:] = np.round(rois[::3, 1:] * 2) / 2  # corners on halves: rounding direction
    return rois


@pytest.mark.parametrize("seed,pooled,scale", [(0, (2, 2), 1.0), (1, (3, 2), 0.5), (2, (1, 4), 0.25),
                                               (3, (4, 3), 0.125)])
def test_matches_reference_loop_on_random_rois(seed, pooled, scale):
    rs = np.random.RandomState(seed)
    data = rs.randn(3, 2, 7, 9)
    rois = _random_rois(rs, 3, 7, 9, scale, 20)
    expect, _ = _reference(data, rois, pooled, scale)
    out = mx.nd.ROIPooling(mx.nd.array(data, dtype="float64"), mx.nd.array(rois, dtype="float64"),
                           pooled_size=pooled, spatial_scale=scale)
    assert out.shape == (20, 2) + pooled and out.dtype == np.float64
    np.testing.assert_array_equal(out.asnumpy(), expect)
    assert (expect == 0).any() and (expect != 0).any()  # empty bins and real maxima both occur


def test_hidden_argmax_output_holds_flat_positions():
    rs = np.random.RandomState(5)
    data = rs.randn(2, 3, 5, 6)
    rois = _random_rois(rs, 2, 5, 6, 1.0, 10)
    expect, arg = _reference(data, rois, (2, 3), 1.0)
    op = mx.ops.get("ROIPooling")
    out, got = op.forward(np, data, rois, pooled_size=(2, 3), spatial_scale=1.0)
    np.testing.assert_array_equal(out, expect)
    np.testing.assert_array_equal(got, arg)
    assert (got == -1).any()


# MXNet 1.9.1: mx.nd.ROIPooling(x, r, pooled_size=(2, 3), spatial_scale=0.5), then
# y.backward(OGRAD) (float32)
_DATA = ((np.arange(2 * 2 * 5 * 6) * 37) % 101 - 50).reshape(2, 2, 5, 6).astype("float32") / 10
_ROIS = np.array([[0, 0, 0, 11, 9],      # the whole map at scale 0.5
                  [1, 3, 1, 7, 7],       # inside
                  [1, -6, -4, 3, 2],     # partly outside (top-left)
                  [0, 8, 6, 20, 14],     # partly outside (bottom-right)
                  [0, 5, 5, 5, 5],       # degenerate: one point
                  [1, 9, 3, 2, 1],       # inverted corners (x2 < x1): forced to one pixel
                  [2, 0, 0, 4, 4],       # batch index out of range
                  [0, 30, 30, 40, 40]],  # entirely outside
                 dtype="float32")
_OGRAD = ((np.arange(8 * 2 * 2 * 3) % 7) + 1).reshape(8, 2, 2, 3).astype("float32")
_MX_OUT = np.array(
    [[[[4.4, 4.4, 3.7], [4.7, 4.0, 1.3]], [[5.0, 4.3, 3.6], [4.6, 3.9, 1.2]]],
     [[[4.2, -0.2, 3.5], [0.1, 3.8, -2.6]], [[4.1, -0.3, 3.4], [0.0, 3.7, -2.7]]],
     [[[0.0, 0.0, 0.0], [0.0, 4.9, 4.2]], [[0.0, 0.0, 0.0], [0.0, 4.8, 4.1]]],
     [[[1.3, 0.0, 0.0], [0.0, 0.0, 0.0]], [[1.2, 0.0, 0.0], [0.0, 0.0, 0.0]]],
     [[[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]], [[1.9, 1.9, 1.9], [1.9, 1.9, 1.9]]],
     [[[-2.9, -2.9, -2.9], [-2.9, -2.9, -2.9]], [[-3.0, -3.0, -3.0], [-3.0, -3.0, -3.0]]],
     [[[0.0] * 3] * 2] * 2,
     [[[0.0] * 3] * 2] * 2], dtype="float32")
_MX_GRAD = np.array(
    [[[[0, 0, 0, 0, 0, 0], [0, 0, 3, 0, 0, 0], [0, 0, 0, 0, 3, 0], [0, 4, 0, 22, 0, 0], [0, 0, 0, 5, 0, 8]],
      [[7, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 2, 0], [0, 3, 0, 23, 0, 0], [0, 0, 0, 4, 0, 6]]],
     [[[1, 0, 0, 0, 0, 0], [0, 0, 8, 0, 0, 0], [0, 0, 0, 7, 1, 24], [0, 0, 0, 0, 0, 0], [0, 0, 2, 3, 4, 0]],
      [[7, 0, 0, 0, 0, 0], [0, 0, 6, 0, 0, 0], [0, 0, 0, 6, 7, 25], [0, 0, 0, 0, 0, 0], [0, 0, 1, 2, 3, 0]]]],
    dtype="float32")


def test_matches_mxnet_edge_rois_values_and_gradient():
    x = mx.nd.array(_DATA)
    x.attach_grad()
    r = mx.nd.array(_ROIS)
    r.attach_grad()
    with mx.autograd.record():
        y = mx.nd.ROIPooling(x, r, pooled_size=(2, 3), spatial_scale=0.5)
    y.backward(mx.nd.array(_OGRAD))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.asnumpy(), _MX_OUT)
    np.testing.assert_array_equal(x.grad.asnumpy(), _MX_GRAD)
    np.testing.assert_array_equal(r.grad.asnumpy(), np.zeros((8, 5)))  # rois get no gradient


def test_matches_mxnet_rounding_ties_and_float64():
    # corners round half away from zero (C's round), as MXNet 1.9.1: x=0.5 -> 1, 2.5 -> 3, -0.5 -> -1 (empty)
    x = mx.nd.arange(1, 65).reshape((1, 1, 8, 8))
    got = [float(mx.nd.ROIPooling(x, mx.nd.array([[0, v, 0, v, 0]]), pooled_size=(1, 1),
                                  spatial_scale=1.0).asnumpy()[0, 0, 0, 0]) for v in [0.5, 1.5, 2.5, -0.5, 3.49]]
    assert got == [2.0, 3.0, 4.0, 0.0, 4.0]
    # ties: the first maximum in row-major order takes the gradient (MXNet 1.9.1)
    x = mx.nd.ones((1, 1, 3, 3))
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.ROIPooling(x, mx.nd.array([[0, 0, 0, 2, 2]]), pooled_size=(2, 2), spatial_scale=1.0)
    y.backward(mx.nd.array([[[[1, 2], [3, 4]]]]))
    assert x.grad.asnumpy().tolist() == [[[[1, 2, 0], [3, 4, 0], [0, 0, 0]]]]
    # float64, non-square pooled size, scale 1/3 (MXNet 1.9.1)
    x = mx.nd.array(np.arange(36.).reshape(1, 1, 6, 6) % 7, dtype="float64")
    y = mx.nd.ROIPooling(x, mx.nd.array([[0, 1, 1, 10, 10]], dtype="float64"), pooled_size=(3, 2),
                         spatial_scale=1 / 3.)
    assert y.dtype == np.float64
    assert y.asnumpy().tolist() == [[[[6, 3], [6, 2], [6, 6]]]]


def test_float16_and_no_rois():
    x = mx.nd.arange(1, 65).reshape((1, 1, 8, 8)).astype("float16")
    y = mx.nd.ROIPooling(x, mx.nd.array([[0, 0, 0, 3, 3]], dtype="float16"), pooled_size=(2, 2),
                         spatial_scale=1.0)
    assert y.dtype == np.float16 and y.asnumpy().ravel().tolist() == [10, 12, 26, 28]
    y = mx.nd.ROIPooling(x, mx.nd.zeros((0, 5), dtype="float16"), pooled_size=(2, 3), spatial_scale=1.0)
    assert y.shape == (0, 1, 2, 3)


def _loss(data, rois, w, pooled, scale):
    y = mx.nd.ROIPooling(mx.nd.array(data, dtype="float64"), mx.nd.array(rois, dtype="float64"),
                         pooled_size=pooled, spatial_scale=scale)
    return float((y.asnumpy() * w).sum())


def test_gradient_matches_finite_differences():
    rs = np.random.RandomState(3)
    n = 2 * 2 * 5 * 6
    data = (rs.permutation(n) * 0.1 + rs.uniform(0, 0.02, n)).reshape(2, 2, 5, 6)  # distinct values
    rois = np.array([[0, 0, 0, 5, 4], [1, -2, 1, 3, 9], [1, 2, 2, 2, 2], [0, 1, 0, 4, 4], [2, 0, 0, 3, 3]],
                    dtype="float64")
    w = rs.uniform(0.5, 1.5, (5, 2, 2, 3))
    x = mx.nd.array(data, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.ROIPooling(x, mx.nd.array(rois, dtype="float64"), pooled_size=(2, 3), spatial_scale=1.0)
    y.backward(mx.nd.array(w, dtype="float64"))
    numeric = np.zeros_like(data)
    eps = 1e-6
    for k in range(data.size):
        d = data.copy().reshape(-1)
        d[k] += eps
        fp = _loss(d.reshape(data.shape), rois, w, (2, 3), 1.0)
        d[k] -= 2 * eps
        fm = _loss(d.reshape(data.shape), rois, w, (2, 3), 1.0)
        numeric.reshape(-1)[k] = (fp - fm) / (2 * eps)
    np.testing.assert_allclose(x.grad.asnumpy(), numeric, rtol=1e-6, atol=1e-8)
    assert (numeric > 1).any()  # overlapping ROIs accumulate into one position


def test_second_order_gradient_through_backward_op():
    """d/d ograd of <ROIPooling backward(ograd), v> is v gathered at the argmax positions."""
    rs = np.random.RandomState(4)
    data = mx.nd.array(rs.permutation(2 * 4 * 4).reshape(1, 2, 4, 4), dtype="float64")
    rois = mx.nd.array([[0, 0, 0, 3, 3], [0, 9, 9, 12, 12]], dtype="float64")  # the second is empty
    _, arg = mx.ops.get("ROIPooling").forward(np, data.asnumpy(), rois.asnumpy(),
                                              pooled_size=(2, 2), spatial_scale=1.0)
    v = rs.uniform(-1, 1, (1, 2, 4, 4))
    og = mx.nd.array(rs.uniform(-1, 1, (2, 2, 2, 2)), dtype="float64")
    og.attach_grad()
    data.attach_grad()
    with mx.autograd.record():
        y = mx.nd.ROIPooling(data, rois, pooled_size=(2, 2), spatial_scale=1.0)
        gx = mx.autograd.grad(y, [data], head_grads=og, create_graph=True)[0]
        s = (gx * mx.nd.array(v, dtype="float64")).sum()
    s.backward()
    expect = np.where(arg >= 0, v.reshape(-1)[np.maximum(arg, 0)], 0.0)
    np.testing.assert_allclose(og.grad.asnumpy(), expect)
    assert (expect[1] == 0).all() and (expect[0] != 0).all()


def test_symbol_outputs_shapes_types_and_executor():
    s = mx.sym.ROIPooling(mx.sym.var("data"), mx.sym.var("rois"), pooled_size=(7, 6), spatial_scale=0.0625,
                          name="roi")
    assert s.list_outputs() == ["roi_output"]  # MXNet 1.9.1: the argmax output stays hidden
    assert s.list_arguments() == ["data", "rois"]
    assert s.infer_shape(data=(2, 3, 8, 8), rois=(5, 5)) == ([(2, 3, 8, 8), (5, 5)], [(5, 3, 7, 6)], [])
    assert s.infer_type(data="float64", rois="float64")[1] == [np.float64]
    s2 = mx.sym.load_json(s.tojson())  # attributes come back as MXNet's strings
    assert s2.infer_shape(data=(1, 4, 5, 5), rois=(3, 5))[1] == [(3, 4, 7, 6)]
    ex = s2.bind(mx.cpu(), {"data": mx.nd.array(_DATA[:1]), "rois": mx.nd.array([[0, 0, 0, 7, 9]])})
    expect, _ = _reference(_DATA[:1], np.array([[0, 0, 0, 7, 9]]), (7, 6), 0.0625)
    np.testing.assert_array_equal(ex.forward()[0].asnumpy(), expect)
    small = mx.sym.ROIPooling(mx.sym.var("data"), mx.sym.var("rois"), pooled_size=(2, 3), spatial_scale=0.5)
    ex = small.bind(mx.cpu(), {"data": mx.nd.array(_DATA), "rois": mx.nd.array(_ROIS)},
                    args_grad={"data": mx.nd.zeros(_DATA.shape)}, grad_req={"data": "write", "rois": "null"})
    np.testing.assert_array_equal(ex.forward(is_train=True)[0].asnumpy(), _MX_OUT)
    ex.backward(mx.nd.array(_OGRAD))
    np.testing.assert_array_equal(ex.grad_dict["data"].asnumpy(), _MX_GRAD)


def test_errors_name_shapes_and_attributes():
    x = mx.nd.zeros((1, 2, 4, 4))
    with pytest.raises(ShapeError, match=r"rois.*\(R, 5\).*\(2, 4\)"):
        mx.nd.ROIPooling(x, mx.nd.zeros((2, 4)), pooled_size=(2, 2), spatial_scale=1.0)
    with pytest.raises(ShapeError, match=r"rois.*\(5,\)"):
        mx.nd.ROIPooling(x, mx.nd.zeros((5,)), pooled_size=(2, 2), spatial_scale=1.0)
    with pytest.raises(ShapeError, match=r"data must be a 4-D.*\(2, 4, 4\)"):
        mx.nd.ROIPooling(mx.nd.zeros((2, 4, 4)), mx.nd.zeros((1, 5)), pooled_size=(2, 2), spatial_scale=1.0)
    with pytest.raises(ShapeError, match="pooled_size"):
        mx.nd.ROIPooling(x, mx.nd.zeros((1, 5)), pooled_size=(2,), spatial_scale=1.0)
    with pytest.raises(MXNetError, match="pooled_size.*positive"):
        mx.nd.ROIPooling(x, mx.nd.zeros((1, 5)), pooled_size=(0, 2), spatial_scale=1.0)
    with pytest.raises(MXNetError, match="spatial_scale"):
        mx.nd.ROIPooling(x, mx.nd.zeros((1, 5)), pooled_size=(2, 2))
    with pytest.raises(DTypeError, match="float64.*float32"):
        mx.nd.ROIPooling(x, mx.nd.zeros((1, 5), dtype="float64"), pooled_size=(2, 2), spatial_scale=1.0)
    s = mx.sym.ROIPooling(mx.sym.var("data"), mx.sym.var("rois"), pooled_size=(2, 2), spatial_scale=1.0)
    with pytest.raises(ShapeError, match=r"rois.*\(3, 4\)"):
        s.infer_shape(data=(1, 2, 4, 4), rois=(3, 4))


def test_hybridized_block_equals_imperative():
    from psnet import gluon

    class Net(gluon.HybridBlock):
        def hybrid_forward(self, F, x, rois):
            return F.ROIPooling(x * 2, rois, pooled_size=(2, 3), spatial_scale=0.5) * 3

    results = []
    for hybridize in (False, True):
        net = Net()
        if hybridize:
            net.hybridize()
        for _ in range(2):  # the second call replays the cached graph
            x = mx.nd.array(_DATA)
            x.attach_grad()
            with mx.autograd.record():
                y = net(x, mx.nd.array(_ROIS))
            y.backward(mx.nd.array(_OGRAD))
        results.append((y.asnumpy(), x.grad.asnumpy()))
    np.testing.assert_array_equal(results[0][0], _MX_OUT * 6)  # pooling commutes with x * 2
    np.testing.assert_array_equal(results[0][1], _MX_GRAD * 6)
    np.testing.assert_array_equal(results[1][0], results[0][0])
    np.testing.assert_array_equal(results[1][1], results[0][1])
