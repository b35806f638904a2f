"""mx.nd.contrib / mx.sym.contrib / mx.contrib and the ``_contrib_*`` ops of psnet/ops/contrib_ops.py,
against values printed by MXNet 1.9.1, NumPy references and finite differences."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError, ShapeError


def _fd_check(fn, x, eps=1e-6, seed=0):
    """autograd gradient of sum(fn(x) * W) against central differences (float64)."""
    x = np.asarray(x, dtype=np.float64)
    a = mx.nd.array(x, dtype="float64")
    a.attach_grad()
    with mx.autograd.record():
        y = fn(a)
    w = np.random.RandomState(seed).uniform(0.5, 1.5, y.shape)
    y.backward(mx.nd.array(w, dtype="float64"))
    num = np.zeros_like(x)
    flat, nflat = x.reshape(-1), num.reshape(-1)
    for j in range(flat.size):
        old = flat[j]
        flat[j] = old + eps
        fp = float((fn(mx.nd.array(x, dtype="float64")).asnumpy() * w).sum())
        flat[j] = old - eps
        fm = float((fn(mx.nd.array(x, dtype="float64")).asnumpy() * w).sum())
        flat[j] = old
        nflat[j] = (fp - fm) / (2 * eps)
    np.testing.assert_allclose(a.grad.asnumpy(), num, rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------------------ namespaces
def test_contrib_namespaces():
    assert mx.nd.contrib.CTCLoss is mx.nd._contrib_CTCLoss
    assert mx.nd.contrib.ctc_loss is mx.nd._contrib_ctc_loss
    with mx.name.NameManager():   # Symbol nodes are named after the short name, as in MXNet
        assert mx.sym.contrib.CTCLoss(mx.sym.var("d"), mx.sym.var("l")).name == "ctcloss0"
    assert mx.contrib.nd is mx.nd.contrib and mx.contrib.ndarray is mx.nd.contrib
    assert mx.contrib.sym is mx.sym.contrib and mx.contrib.symbol is mx.sym.contrib
    assert mx.nd.contrib.BilinearResize2D is mx.nd._contrib_BilinearResize2D
    import psnet.ndarray.contrib as ndc
    assert ndc is mx.nd.contrib
    assert not hasattr(mx.nd.contrib, "potrf")
    with pytest.raises(AttributeError):
        mx.contrib.nonexistent


def test_linalg_namespace_unchanged():
    assert mx.nd.linalg.potrf is mx.nd.linalg_potrf
    a = mx.sym.var("a")
    nodes = __import__("json").loads(mx.sym.linalg.gemm2(a, a).tojson())["nodes"]
    assert nodes[-1]["op"].endswith("linalg_gemm2")
    assert not hasattr(mx.nd.linalg, "CTCLoss")


def test_sym_contrib_infers_shape():
    s = mx.sym.contrib.BilinearResize2D(mx.sym.var("d"), height=3, width=5)
    assert s.infer_shape(d=(1, 2, 4, 4))[1] == [(1, 2, 3, 5)]
    s = mx.contrib.sym.AdaptiveAvgPooling2D(mx.sym.var("d"), output_size=(2, 3))
    assert s.infer_shape(d=(2, 4, 7, 7))[1] == [(2, 4, 2, 3)]


# ------------------------------------------------------------------------------ BilinearResize2D
X34 = np.arange(2 * 1 * 3 * 4, dtype=np.float32).reshape(2, 1, 3, 4)


@pytest.mark.parametrize("kw,shape,first", [
    # MXNet 1.9.1 outputs (sample 0, channel 0)
    (dict(height=5, width=7), (5, 7), [[0, .5, 1, 1.5, 2, 2.5, 3], [2, 2.5, 3, 3.5, 4, 4.5, 5],
                                       [4, 4.5, 5, 5.5, 6, 6.5, 7], [6, 6.5, 7, 7.5, 8, 8.5, 9],
                                       [8, 8.5, 9, 9.5, 10, 10.5, 11]]),
    (dict(height=5, width=7, align_corners=False), (5, 7),
     [[0., 0.3571429, 0.92857146, 1.5000001, 2.0714288, 2.6428573, 3.],
      [1.6000001, 1.9571431, 2.5285716, 3.1000004, 3.671429, 4.2428575, 4.6000004],
      [4., 4.357143, 4.9285717, 5.5, 6.071429, 6.642857, 7.],
      [6.4000006, 6.757143, 7.3285723, 7.9000006, 8.47143, 9.042857, 9.400001],
      [8., 8.357142, 8.928572, 9.5, 10.071428, 10.642857, 11.]]),
    (dict(scale_height=1.5, scale_width=0.5), (4, 2), [[0, 3], [2.6666667, 5.666667], [5.3333335, 8.333334], [8, 11]]),
    (dict(mode="to_even_down"), (2, 4), [[0, 1, 2, 3], [8, 9, 10, 11]]),
    (dict(mode="to_odd_down"), (3, 3), [[0, 1.5, 3], [4, 5.5, 7], [8, 9.5, 11]]),
    (dict(mode="to_odd_up"), (3, 5), [[0, .75, 1.5, 2.25, 3], [4, 4.75, 5.5, 6.25, 7], [8, 8.75, 9.5, 10.25, 11]]),
    (dict(mode="to_even_up"), (4, 4), [[0, 1, 2, 3], [2.6666667, 3.6666667, 4.6666665, 5.666667],
                                       [5.3333335, 6.3333335, 7.3333335, 8.333334], [8, 9, 10, 11]]),
    (dict(height=2, width=2, align_corners=False), (2, 2), [[1.5, 3.5], [7.5, 9.5]]),
    (dict(height=1, width=1, align_corners=False), (1, 1), [[0]]),
])
def test_bilinear_resize_matches_mxnet(kw, shape, first):
    y = mx.nd.contrib.BilinearResize2D(mx.nd.array(X34), **kw)
    assert y.shape == (2, 1) + shape and y.dtype == np.float32
    np.testing.assert_allclose(y.asnumpy()[0, 0], first, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(y.asnumpy()[1, 0], np.asarray(first) + 12, rtol=1e-5, atol=1e-5)


def test_bilinear_resize_odd_scale_and_like():
    x = mx.nd.array(X34)
    y = mx.nd.contrib.BilinearResize2D(x, scale_height=1.5, scale_width=2.0, mode="odd_scale")
    assert y.shape == (2, 1, 4, 8)  # odd H: (3-1)*1.5+1; even W: 4*2 (MXNet 1.9.1)
    np.testing.assert_allclose(y.asnumpy()[0, 0, 1, :3], [2.6666667, 3.095238, 3.5238094], rtol=1e-5)
    z = mx.nd.contrib.BilinearResize2D(x, mx.nd.zeros((1, 1, 5, 7)), mode="like")
    np.testing.assert_allclose(z.asnumpy(), mx.nd.contrib.BilinearResize2D(x, height=5, width=7).asnumpy())


def test_bilinear_resize_numpy_reference():
    rs = np.random.RandomState(3)
    x = rs.rand(1, 2, 4, 5)
    y = mx.nd.contrib.BilinearResize2D(mx.nd.array(x, dtype="float64"), height=7, width=3).asnumpy()
    # align_corners: source coordinate i * (in - 1) / (out - 1), separable linear interpolation
    hs, ws = np.arange(7) * 3 / 6, np.arange(3) * 4 / 2
    ref = np.empty((1, 2, 7, 3))
    for a, hh in enumerate(hs):
        for b, ww in enumerate(ws):
            h0, w0 = min(int(hh), 2), min(int(ww), 3)
            lh, lw = hh - h0, ww - w0
            ref[..., a, b] = ((1 - lh) * (1 - lw) * x[..., h0, w0] + (1 - lh) * lw * x[..., h0, w0 + 1]
                              + lh * (1 - lw) * x[..., h0 + 1, w0] + lh * lw * x[..., h0 + 1, w0 + 1])
    np.testing.assert_allclose(y, ref, rtol=1e-12)


def test_bilinear_resize_gradients():
    rs = np.random.RandomState(0)
    _fd_check(lambda a: mx.nd.contrib.BilinearResize2D(a, height=5, width=3), rs.rand(1, 2, 3, 4))
    _fd_check(lambda a: mx.nd.contrib.BilinearResize2D(a, height=2, width=6, align_corners=False),
              rs.rand(2, 1, 4, 3))
    like = mx.nd.zeros((1, 1, 2, 2), dtype="float64")
    like.attach_grad()
    x = mx.nd.array(rs.rand(1, 1, 3, 3), dtype="float64")
    with mx.autograd.record():
        y = mx.nd.contrib.BilinearResize2D(x, like, mode="like")
    y.backward()
    assert (like.grad.asnumpy() == 0).all()


def test_bilinear_resize_errors():
    with pytest.raises(ShapeError, match=r"4-D.*\(2, 3\)"):
        mx.nd.contrib.BilinearResize2D(mx.nd.zeros((2, 3)), height=2)
    with pytest.raises(MXNetError, match="mode"):
        mx.nd.contrib.BilinearResize2D(mx.nd.zeros((1, 1, 2, 2)), mode="bogus")
    with pytest.raises(ShapeError, match="positive"):
        mx.nd.contrib.BilinearResize2D(mx.nd.zeros((1, 1, 2, 2)), height=0, width=2)


# ------------------------------------------------------------------------------ AdaptiveAvgPooling2D
def _adaptive_ref(x, oh, ow):
    n, c, h, w = x.shape
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, h1 = (i * h) // oh, -(-((i + 1) * h) // oh)
            w0, w1 = (j * w) // ow, -(-((j + 1) * w) // ow)
            out[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return out


def test_adaptive_avg_pooling_values():
    x = mx.nd.array(X34)
    # MXNet 1.9.1
    np.testing.assert_allclose(mx.nd.contrib.AdaptiveAvgPooling2D(x, output_size=2).asnumpy()[0, 0],
                               [[2.5, 4.5], [6.5, 8.5]])
    np.testing.assert_allclose(mx.nd.contrib.AdaptiveAvgPooling2D(x, output_size=(2, 3)).asnumpy()[0, 0],
                               [[2.5, 3.5, 4.5], [6.5, 7.5, 8.5]])
    np.testing.assert_allclose(mx.nd.contrib.AdaptiveAvgPooling2D(x).asnumpy()[:, 0, 0, 0], [5.5, 17.5])
    r = np.random.RandomState(0).rand(2, 3, 7, 5)
    for oh, ow in [(3, 2), (7, 5), (10, 9), (1, 4)]:
        y = mx.nd.contrib.AdaptiveAvgPooling2D(mx.nd.array(r, dtype="float64"), output_size=(oh, ow))
        np.testing.assert_allclose(y.asnumpy(), _adaptive_ref(r, oh, ow), rtol=1e-12)


def test_adaptive_avg_pooling_gradient_and_errors():
    _fd_check(lambda a: mx.nd.contrib.AdaptiveAvgPooling2D(a, output_size=(3, 2)),
              np.random.RandomState(1).rand(1, 2, 5, 4))
    with pytest.raises(ShapeError, match=r"4-D.*\(3, 4, 5\)"):
        mx.nd.contrib.AdaptiveAvgPooling2D(mx.nd.zeros((3, 4, 5)), output_size=2)
    with pytest.raises(ShapeError, match="output_size"):
        mx.nd.contrib.AdaptiveAvgPooling2D(mx.nd.zeros((1, 1, 4, 4)), output_size=(1, 2, 3))


# ------------------------------------------------------------------------------ ROIAlign
X2245 = np.arange(2 * 2 * 4 * 5).reshape(2, 2, 4, 5) % 7
ROIS2 = [[0, 0.5, 0.2, 3.7, 3.1], [1, 1, 1, 2, 4]]


def _roi_align_ref(x, rois, ph, pw, scale, ratio, aligned):
    """Per-sample loop reference of ROIAlign (Detectron's definition)."""
    n, c, h, w = x.shape
    out = np.zeros((len(rois), c, ph, pw))

    def corner(v, size):
        v = max(v, 0.0)
        lo = int(v)
        if lo >= size - 1:
            return size - 1, size - 1, 0.0
        return lo, lo + 1, v - lo

    def interp(img, y, xx):
        if y < -1 or y > h or xx < -1 or xx > w:
            return 0 * img[:, 0, 0]
        y0, y1, ly = corner(y, h)
        x0, x1, lx = corner(xx, w)
        return ((1 - ly) * (1 - lx) * img[:, y0, x0] + (1 - ly) * lx * img[:, y0, x1]
                + ly * (1 - lx) * img[:, y1, x0] + ly * lx * img[:, y1, x1])

    off = 0.5 if aligned else 0.0
    for r, (b, x1, y1, x2, y2) in enumerate(rois):
        sx, sy, ex, ey = x1 * scale - off, y1 * scale - off, x2 * scale - off, y2 * scale - off
        rw, rh = ex - sx, ey - sy
        if not aligned:
            rw, rh = max(rw, 1.0), max(rh, 1.0)
        bh, bw = rh / ph, rw / pw
        gh = ratio if ratio > 0 else int(np.ceil(rh / ph))
        gw = ratio if ratio > 0 else int(np.ceil(rw / pw))
        for i in range(ph):
            for j in range(pw):
                acc = 0
                for a in range(gh):
                    for bb in range(gw):
                        acc = acc + interp(x[int(b)], sy + i * bh + (a + .5) * bh / gh, sx + j * bw + (bb + .5) * bw / gw)
                out[r, :, i, j] = acc / max(gh * gw, 1)
    return out


def test_roi_align_matches_mxnet():
    x = mx.nd.array(X2245)
    rois = mx.nd.array(ROIS2)
    # MXNet 1.9.1
    np.testing.assert_allclose(
        mx.nd.contrib.ROIAlign(x, rois, pooled_size=(2, 2), spatial_scale=1.0).asnumpy(),
        [[[[3.356875, 1.9053125], [3.55, 4.49375]], [[3.9953127, 2.171875], [2.55, 4.15]]],
         [[[2.75, 3.25], [0.375, 0.875]], [[2.078125, 2.359375], [4.296875, 1.515625]]]], rtol=1e-5)
    np.testing.assert_allclose(
        mx.nd.contrib.ROIAlign(x, rois, pooled_size=(1, 2), spatial_scale=0.5, sample_ratio=2,
                               aligned=True).asnumpy(),
        [[[[1.89375, 2.48828125]], [[4.68359375, 2.2429688]]], [[[3.625, 3.875]], [[2.625, 2.875]]]], rtol=1e-5)


@pytest.mark.parametrize("kw", [dict(ph=2, pw=3, scale=1.0, ratio=-1, aligned=False),
                                dict(ph=3, pw=2, scale=0.5, ratio=2, aligned=False),
                                dict(ph=2, pw=2, scale=0.8, ratio=-1, aligned=True)])
def test_roi_align_numpy_reference(kw):
    rs = np.random.RandomState(2)
    x = rs.rand(2, 3, 6, 7)
    rois = np.array([[0, 0, 0, 5, 4], [1, -2, 1, 3, 9], [1, 0.4, 1.7, 6.2, 5.9], [0, 3, 0.5, 40, 4]])
    y = mx.nd.contrib.ROIAlign(mx.nd.array(x, dtype="float64"), mx.nd.array(rois, dtype="float64"),
                               pooled_size=(kw["ph"], kw["pw"]), spatial_scale=kw["scale"],
                               sample_ratio=kw["ratio"], aligned=kw["aligned"])
    np.testing.assert_allclose(y.asnumpy(), _roi_align_ref(x, rois, **kw), rtol=1e-10, atol=1e-12)


def test_roi_align_position_sensitive_and_bad_batch():
    rs = np.random.RandomState(4)
    x = mx.nd.array(rs.rand(1, 8, 5, 5), dtype="float64")
    rois = mx.nd.array([[0, 0.5, 1, 4, 3.5], [-1, 0, 0, 2, 2], [3, 0, 0, 2, 2]], dtype="float64")
    full = mx.nd.contrib.ROIAlign(x, rois, pooled_size=(2, 2), spatial_scale=1.0).asnumpy()
    ps = mx.nd.contrib.ROIAlign(x, rois, pooled_size=(2, 2), spatial_scale=1.0, position_sensitive=True)
    assert ps.shape == (3, 2, 2, 2)
    for c in range(2):
        for i in range(2):
            for j in range(2):
                assert ps.asnumpy()[0, c, i, j] == pytest.approx(full[0, c * 4 + i * 2 + j, i, j])
    assert (full[1:] == 0).all()  # batch index outside [0, N): zeros


def test_roi_align_gradients():
    rs = np.random.RandomState(5)
    rois = mx.nd.array([[0, 0.5, 0.2, 3.7, 3.1], [1, -1, 1, 2, 4.5], [0, 1, 1, 1.2, 1.1]], dtype="float64")
    _fd_check(lambda a: mx.nd.contrib.ROIAlign(a, rois, pooled_size=(2, 3), spatial_scale=1.0),
              rs.rand(2, 2, 4, 5))
    _fd_check(lambda a: mx.nd.contrib.ROIAlign(a, rois[:2], pooled_size=(2, 2), spatial_scale=0.9, sample_ratio=2,
                                               aligned=True, position_sensitive=True), rs.rand(2, 4, 4, 5))


def test_roi_align_symbol_and_errors():
    s = mx.sym.contrib.ROIAlign(mx.sym.var("d"), mx.sym.var("r"), pooled_size=(2, 3), spatial_scale=1.0)
    assert s.infer_shape(d=(2, 3, 8, 8), r=(4, 5))[1] == [(4, 3, 2, 3)]
    x, rois = mx.nd.zeros((1, 6, 4, 4)), mx.nd.array([[0, 0, 0, 2, 2]])
    with pytest.raises(ShapeError, match=r"rois.*\(1, 4\)"):
        mx.nd.contrib.ROIAlign(x, rois[:, :4], pooled_size=(2, 2), spatial_scale=1.0)
    with pytest.raises(ShapeError, match=r"position_sensitive.*\(1, 6, 4, 4\)"):
        mx.nd.contrib.ROIAlign(x, rois, pooled_size=(2, 2), spatial_scale=1.0, position_sensitive=True)
    with pytest.raises(ShapeError, match="pooled_size"):
        mx.nd.contrib.ROIAlign(x, rois, pooled_size=2, spatial_scale=1.0)
    with pytest.raises(MXNetError, match="spatial_scale"):
        mx.nd.contrib.ROIAlign(x, rois, pooled_size=(2, 2), spatial_scale=1.5)
    with pytest.raises(MXNetError, match="aligned"):
        mx.nd.contrib.ROIAlign(x, mx.nd.array([[0, 2, 0, 2, 2]]), pooled_size=(2, 2), spatial_scale=1.0,
                               aligned=True)


# ------------------------------------------------------------------------------ box_iou / box_nms
def test_box_iou_values_and_shapes():
    a = mx.nd.array([[0, 0, 2, 2], [1, 1, 3, 4]])
    b = mx.nd.array([[[0.5, 0.5, 2, 2]], [[5, 5, 6, 6]], [[1, 1, 1, 1]]])
    y = mx.nd.contrib.box_iou(a, b)
    assert y.shape == (2, 3, 1)
    # MXNet 1.9.1
    np.testing.assert_allclose(y.asnumpy()[:, :, 0], [[0.5625, 0, 0], [0.13793103, 0, 0]], rtol=1e-6)
    c = mx.nd.contrib.box_iou(mx.nd.array([[1, 1, 2, 2]]), mx.nd.array([[1, 1, 2, 2], [2, 2, 2, 2]]), format="center")
    np.testing.assert_allclose(c.asnumpy(), [[1.0, 0.14285715]], rtol=1e-6)
    assert mx.nd.contrib.box_iou(mx.nd.array([[2, 2, 2, 2]]), mx.nd.array([[2, 2, 2, 2]])).asnumpy()[0, 0] == 0
    rs = np.random.RandomState(0)
    p = rs.rand(5, 4)
    p[:, 2:] += p[:, :2]
    q = rs.rand(3, 4)
    q[:, 2:] += q[:, :2]
    ref = np.zeros((5, 3))
    for i in range(5):
        for j in range(3):
            iw = max(min(p[i, 2], q[j, 2]) - max(p[i, 0], q[j, 0]), 0)
            ih = max(min(p[i, 3], q[j, 3]) - max(p[i, 1], q[j, 1]), 0)
            area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
            ref[i, j] = iw * ih / (area(p[i]) + area(q[j]) - iw * ih)
    got = mx.nd.contrib.box_iou(mx.nd.array(p, dtype="float64"), mx.nd.array(q, dtype="float64"))
    np.testing.assert_allclose(got.asnumpy(), ref, rtol=1e-12)


def test_box_iou_gradient_is_zero_and_errors():
    a = mx.nd.array([[0, 0, 2, 2]])
    a.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.box_iou(a, mx.nd.array([[1, 1, 3, 3]]))
    y.backward()
    assert (a.grad.asnumpy() == 0).all()  # as MXNet 1.9.1
    with pytest.raises(ShapeError, match=r"lhs.*\(2, 3\)"):
        mx.nd.contrib.box_iou(mx.nd.zeros((2, 3)), mx.nd.zeros((2, 4)))
    with pytest.raises(MXNetError, match="format"):
        mx.nd.contrib.box_iou(mx.nd.zeros((2, 4)), mx.nd.zeros((2, 4)), format="xywh")


NMS_X = [[0, 0.5, 0.1, 0.1, 0.2, 0.2], [1, 0.4, 0.1, 0.1, 0.2, 0.2], [0, 0.3, 0.1, 0.1, 0.14, 0.14],
         [2, 0.6, 0.5, 0.5, 0.7, 0.8], [1, 0.45, 0.5, 0.5, 0.7, 0.8], [0, 0.0, 0, 0, 1, 1],
         [3, 0.5, 0.8, 0.8, 0.9, 0.9]]
_M1 = [-1] * 6


@pytest.mark.parametrize("kw,expected", [
    # MXNet 1.9.1 outputs
    (dict(overlap_thresh=0.1, id_index=0),
     [[2, 0.6, 0.5, 0.5, 0.7, 0.8], [0, 0.5, 0.1, 0.1, 0.2, 0.2], [3, 0.5, 0.8, 0.8, 0.9, 0.9],
      [1, 0.45, 0.5, 0.5, 0.7, 0.8], [1, 0.4, 0.1, 0.1, 0.2, 0.2], _M1, _M1]),
    (dict(overlap_thresh=0.1, id_index=0, force_suppress=True),
     [[2, 0.6, 0.5, 0.5, 0.7, 0.8], [0, 0.5, 0.1, 0.1, 0.2, 0.2], [3, 0.5, 0.8, 0.8, 0.9, 0.9], _M1, _M1, _M1, _M1]),
    (dict(overlap_thresh=0.1, id_index=0, background_id=1),
     [[2, 0.6, 0.5, 0.5, 0.7, 0.8], [0, 0.5, 0.1, 0.1, 0.2, 0.2], [3, 0.5, 0.8, 0.8, 0.9, 0.9], _M1, _M1, _M1, _M1]),
    (dict(overlap_thresh=0.1, topk=3),
     [[2, 0.6, 0.5, 0.5, 0.7, 0.8], [0, 0.5, 0.1, 0.1, 0.2, 0.2], [3, 0.5, 0.8, 0.8, 0.9, 0.9], _M1, _M1, _M1, _M1]),
    (dict(overlap_thresh=0.1, valid_thresh=0.45, out_format="center"),
     [[2, 0.6, 0.6, 0.65, 0.2, 0.3], [0, 0.5, 0.15, 0.15, 0.1, 0.1], [3, 0.5, 0.85, 0.85, 0.1, 0.1],
      _M1, _M1, _M1, _M1]),
])
def test_box_nms_matches_mxnet(kw, expected):
    y = mx.nd.contrib.box_nms(mx.nd.array(NMS_X), **kw)
    np.testing.assert_allclose(y.asnumpy(), expected, rtol=1e-5, atol=1e-6)


def test_box_nms_threshold_batches_and_gradient():
    # IoU exactly 0.5 is not suppressed (IoU > overlap_thresh suppresses), as in MXNet 1.9.1
    y = mx.nd.contrib.box_nms(mx.nd.array([[0.9, 0, 0, 2, 1], [0.8, 0, 0, 1, 1], [0.7, 0, 0, 1.9, 1]]),
                              coord_start=1, score_index=0)
    np.testing.assert_allclose(y.asnumpy(), [[0.9, 0, 0, 2, 1], [0.8, 0, 0, 1, 1], [-1] * 5], rtol=1e-6)
    # leading axes are batches
    x = np.array(NMS_X)
    both = mx.nd.contrib.box_nms(mx.nd.array(np.stack([x, x[::-1]])[None]), overlap_thresh=0.1)
    assert both.shape == (1, 2, 7, 6)
    one = mx.nd.contrib.box_nms(mx.nd.array(x), overlap_thresh=0.1).asnumpy()
    np.testing.assert_allclose(both.asnumpy()[0, 0], one)
    # gradient: copied back to each kept box's input row (MXNet's documented example)
    a = mx.nd.array(NMS_X[:4])
    a.attach_grad()
    with mx.autograd.record():
        out = mx.nd.contrib.box_nms(a, overlap_thresh=0.1, id_index=0, force_suppress=True)
    out.backward(mx.nd.array(np.repeat([[0.1], [0.2], [0.3], [0.4]], 6, axis=1)))
    np.testing.assert_allclose(a.grad.asnumpy(), np.repeat([[0.2], [0], [0], [0.1]], 6, axis=1), rtol=1e-6)
    distinct = np.array(NMS_X)
    distinct[5, 1], distinct[6, 1] = 0.2, 0.55  # no tied scores, none at valid_thresh: no jump nearby
    _fd_check(lambda d: mx.nd.contrib.box_nms(d, overlap_thresh=0.1), distinct)


def test_box_nms_symbol_and_errors():
    s = mx.sym.contrib.box_nms(mx.sym.var("d"), name="nms")
    assert s.infer_shape(d=(2, 5, 6))[1] == [(2, 5, 6)]
    assert s.list_outputs() == ["nms_output0"]  # MXNet 1.9.1 (a second, hidden output)
    assert mx.nd.contrib.box_non_maximum_suppression is mx.nd._contrib_box_non_maximum_suppression
    with pytest.raises(ShapeError, match=r"coord_start=3.*\(7, 6\)"):
        mx.nd.contrib.box_nms(mx.nd.array(NMS_X), coord_start=3)
    with pytest.raises(ShapeError, match="at least 2 dimensions"):
        mx.nd.contrib.box_nms(mx.nd.zeros((6,)))
    with pytest.raises(MXNetError, match="in_format"):
        mx.nd.contrib.box_nms(mx.nd.array(NMS_X), in_format="xywh")


# ------------------------------------------------------------------------------ boolean_mask / index_copy
def test_boolean_mask_values_gradient_errors():
    x = mx.nd.arange(12).reshape((3, 4))
    np.testing.assert_array_equal(mx.nd.contrib.boolean_mask(x, mx.nd.array([0, 1, 1])).asnumpy(),
                                  [[4, 5, 6, 7], [8, 9, 10, 11]])
    # any nonzero entry selects (MXNet 1.9.1); none gives 0 rows
    np.testing.assert_array_equal(mx.nd.contrib.boolean_mask(x, mx.nd.array([2, -1, 0.5])).asnumpy(), x.asnumpy())
    assert mx.nd.contrib.boolean_mask(x, mx.nd.array([0, 0, 0])).shape == (0, 4)
    z = mx.nd.array(np.arange(6).reshape(3, 2))
    z.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.boolean_mask(z, mx.nd.array([1, 0, 1]))
    y.backward(mx.nd.array([[1, 2], [3, 4]]))
    np.testing.assert_array_equal(z.grad.asnumpy(), [[1, 2], [0, 0], [3, 4]])  # MXNet 1.9.1
    idx = mx.nd.array([0, 1, 1, 0])
    _fd_check(lambda a: mx.nd.contrib.boolean_mask(a, idx) * 2, np.random.RandomState(0).rand(4, 3))
    with pytest.raises(ShapeError, match=r"data \(3, 4\), index \(2,\)"):
        mx.nd.contrib.boolean_mask(x, mx.nd.array([0, 1]))
    with pytest.raises(NotImplementedError, match="axis"):
        mx.nd.contrib.boolean_mask(x, mx.nd.array([0, 1, 1, 0]), axis=1)


def test_index_copy_values_gradient_errors():
    x = mx.nd.arange(12).reshape((3, 4))
    np.testing.assert_array_equal(mx.nd.contrib.index_copy(x, mx.nd.array([2, 0]), mx.nd.ones((2, 4))).asnumpy(),
                                  [[1, 1, 1, 1], [4, 5, 6, 7], [1, 1, 1, 1]])
    # a repeated index: the last row wins (MXNet 1.9.1)
    np.testing.assert_array_equal(
        mx.nd.contrib.index_copy(x, mx.nd.array([2, 2]), mx.nd.array([[1] * 4, [2] * 4])).asnumpy()[2], [2] * 4)
    old, new = mx.nd.array(np.arange(6).reshape(3, 2)), mx.nd.array([[10, 20]])
    old.attach_grad()
    new.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.index_copy(old, mx.nd.array([1]), new)
    y.backward(mx.nd.array([[1, 2], [3, 4], [5, 6]]))
    np.testing.assert_array_equal(old.grad.asnumpy(), [[1, 2], [0, 0], [5, 6]])  # MXNet 1.9.1
    np.testing.assert_array_equal(new.grad.asnumpy(), [[3, 4]])
    rs = np.random.RandomState(1)
    nw = mx.nd.array(rs.rand(2, 3), dtype="float64")
    _fd_check(lambda a: mx.nd.contrib.index_copy(a, mx.nd.array([3, 0]), nw), rs.rand(4, 3))
    od = mx.nd.array(rs.rand(4, 3), dtype="float64")
    _fd_check(lambda a: mx.nd.contrib.index_copy(od, mx.nd.array([3, 0]), a), rs.rand(2, 3))
    with pytest.raises(ShapeError, match=r"new_tensor \(2, 3\)"):
        mx.nd.contrib.index_copy(x, mx.nd.array([2, 0]), mx.nd.ones((2, 3)))
    with pytest.raises(IndexError, match=r"outside \[0, 3\)"):
        mx.nd.contrib.index_copy(x, mx.nd.array([5]), mx.nd.ones((1, 4)))


# ------------------------------------------------------------------------------ arange_like, div_sqrt_dim, quadratic
def test_arange_like():
    x = mx.nd.zeros((3, 4))
    np.testing.assert_array_equal(mx.nd.contrib.arange_like(x).asnumpy(), np.arange(12).reshape(3, 4))
    # MXNet 1.9.1
    np.testing.assert_array_equal(mx.nd.contrib.arange_like(x, start=1, step=0.5, repeat=5).asnumpy(),
                                  [[1, 1, 1, 1], [1, 1.5, 1.5, 1.5], [1.5, 1.5, 2, 2]])
    np.testing.assert_array_equal(mx.nd.contrib.arange_like(x, start=1, step=0.5, repeat=2, axis=1).asnumpy(),
                                  [1, 1, 1.5, 1.5])
    ints = mx.nd.contrib.arange_like(mx.nd.ones((2, 3), dtype="int32"), start=1.5, step=0.7)
    assert ints.dtype == np.int32 and (ints.asnumpy() == 1).all()  # start/step truncated first
    assert mx.nd.contrib.arange_like(mx.nd.ones((2, 3), dtype="float16"), axis=-1).dtype == np.float16
    a = mx.nd.ones((2, 2))
    a.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.arange_like(a)
    y.backward()
    assert (a.grad.asnumpy() == 0).all()
    with pytest.raises(ShapeError, match=r"axis=2.*\(3, 4\)"):
        mx.nd.contrib.arange_like(x, axis=2)


def test_div_sqrt_dim_and_quadratic():
    x = np.arange(10.0).reshape(2, 5)
    np.testing.assert_allclose(mx.nd.contrib.div_sqrt_dim(mx.nd.array(x)).asnumpy(), x / np.sqrt(5), rtol=1e-6)
    v = np.array([1, 2.5, -3])
    np.testing.assert_allclose(mx.nd.contrib.quadratic(mx.nd.array(v), a=1.5, b=2, c=3).asnumpy(),
                               1.5 * v ** 2 + 2 * v + 3, rtol=1e-6)
    assert (mx.nd.contrib.quadratic(mx.nd.array(v)).asnumpy() == 0).all()
    qi = mx.nd.contrib.quadratic(mx.nd.array([1, 2, -3], dtype="int32"), a=1.5, b=2.5, c=0.5)
    assert qi.dtype == np.int32 and qi.asnumpy().tolist() == [4, 11, 6]  # MXNet 1.9.1
    rs = np.random.RandomState(2)
    _fd_check(lambda a: mx.nd.contrib.div_sqrt_dim(a), rs.rand(2, 3, 4))
    _fd_check(lambda a: mx.nd.contrib.quadratic(a, a=2.0, b=-1.0, c=4.0), rs.rand(3, 2))
