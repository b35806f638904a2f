"""GridGenerator, BilinearSampler and SpatialTransformer (psnet/ops/spatial.py): values
against MXNet 1.9.1 outputs pasted below and against NumPy reference loops, gradients by
finite differences in float64, Symbol shape inference and shape errors."""
import numpy as np
import pytest

import psnet as mx
from psnet.base import MXNetError, ShapeError

# ---------------------------------------------------------------------------- MXNet 1.9.1 values
# data = (arange(24).reshape(1, 2, 3, 4) % 7) / 4 - 0.5 (float32) and the grids / locs below,
# computed with mxnet==1.9.1 on CPU.
_GRID = [[[[-1.0, -0.3, 0.45], [1.2, 0.9, -0.7]], [[-0.8, 0.1, 1.0], [0.35, -1.1, 0.6]]]]
_LOC = [[0.9, -0.2, 0.1, 0.3, 1.1, -0.25]]
BS_OUT = [[[[-0.30000001192092896, 0.6874999403953552, 0.2937500476837158],
            [-0.10499995946884155, 0.19124996662139893, 0.16249999403953552]],
           [[0.6000000238418579, 0.1874999701976776, -0.20624995231628418],
            [0.34124988317489624, -0.2587500214576721, 0.23999996483325958]]]]
BS_GDATA = [[[[-0.7199999690055847, 0.0, -0.03150001913309097, -0.1784999817609787],
              [-0.19466663897037506, -0.6390000581741333, -0.03299997001886368, -0.18199993669986725],
              [-0.02199999988079071, -0.08766669780015945, -0.47116655111312866, -0.19716675579547882]],
             [[0.08000000566244125, 0.0, 0.10350006073713303, 0.5864999294281006],
              [0.2253333032131195, 0.3960000276565552, 0.011999988928437233, 0.27299994230270386],
              [0.30799999833106995, 0.2773333787918091, 0.3588332533836365, 0.22283339500427246]]]]
BS_GGRID = [[[[-0.29999998211860657, -0.17499999701976776, -0.04999999701976776],
              [-0.5287500023841858, 0.17999997735023499, -1.1450001001358032]],
             [[-0.9749999642372131, 0.3499999940395355, 0.25583332777023315],
              [-0.5949999094009399, -0.27000001072883606, 0.24833327531814575]]]]
ST_OUT = [[[[-0.1224999651312828, -0.008125010877847672, 0.16624996066093445],
            [0.08750003576278687, 0.19999995827674866, 0.3612499237060547]],
           [[0.31499990820884705, -0.2762499153614044, -0.16624996066093445],
            [0.5499999523162842, -0.30000004172325134, -0.06375003606081009]]]]
ST_GDATA = [[[[-0.13999995589256287, -0.23599998652935028, -0.4939999580383301, -0.3989999294281006],
              [-0.18000002205371857, -0.019500000402331352, -0.010499995201826096, 0.0],
              [-0.2199999839067459, -0.1105000227689743, -0.059499986469745636, 0.0]],
             [[0.027999991551041603, 0.05500001087784767, 0.24699997901916504, 0.3989999294281006],
              [0.36000004410743713, 0.09749999642372131, 0.05249997600913048, 0.0],
              [0.4399999678134918, 0.5525000691413879, 0.6035001277923584, 0.7139998078346252]]]]
ST_GLOC = [[1.9199998378753662, 0.13499999046325684, -0.7799996733665466, -1.7499998807907104,
            0.429999977350235, 0.7500001192092896]]
GG_AFFINE = [[[[-0.5999999642372131, 2.2351741790771484e-08, 0.6000000834465027, 1.2000000476837158],
               [-1.0, -0.4000000059604645, 0.20000004768371582, 0.800000011920929]],
              [[-1.6500000953674316, -1.4500000476837158, -1.25, -1.0499999523162842],
               [0.550000011920929, 0.75, 0.9500000476837158, 1.1500000953674316]]]]
GG_GLOC = [[0.8333332538604736, 2.0, -4.5, 0.8333333730697632, 2.0, 3.5]]
GG_WARP = [[[[-2.0, -0.75, 0.5], [-1.25, 0.0, 1.25]], [[0.0, 0.5, 1.0], [3.5, 4.0, 4.5]]]]


def _data():
    return mx.nd.array((np.arange(24).reshape(1, 2, 3, 4) % 7) / 4.0 - 0.5)


def _f32(v):
    return np.array(v, dtype=np.float32)


def test_bilinear_sampler_matches_mxnet_values_and_gradients():
    data, grid = _data(), mx.nd.array(_GRID)
    og = mx.nd.array(np.arange(12).reshape(1, 2, 2, 3) / 6.0 - 0.9)
    data.attach_grad()
    grid.attach_grad()
    with mx.autograd.record():
        y = mx.nd.BilinearSampler(data, grid)
    y.backward(og)
    assert y.dtype == np.float32 and y.shape == (1, 2, 2, 3)
    np.testing.assert_array_equal(y.asnumpy(), _f32(BS_OUT))          # bit for bit
    np.testing.assert_allclose(data.grad.asnumpy(), _f32(BS_GDATA), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grid.grad.asnumpy(), _f32(BS_GGRID), rtol=1e-5, atol=1e-7)


def test_spatial_transformer_matches_mxnet_values_and_gradients():
    data, loc = _data(), mx.nd.array(_LOC)
    og = mx.nd.array(np.arange(12).reshape(1, 2, 2, 3) / 5.0 - 1.0)
    data.attach_grad()
    loc.attach_grad()
    with mx.autograd.record():
        y = mx.nd.SpatialTransformer(data, loc, transform_type="affine", sampler_type="bilinear",
                                     target_shape=(2, 3))
    y.backward(og)
    np.testing.assert_array_equal(y.asnumpy(), _f32(ST_OUT))
    np.testing.assert_allclose(data.grad.asnumpy(), _f32(ST_GDATA), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(loc.grad.asnumpy(), _f32(ST_GLOC), rtol=1e-5, atol=1e-7)


def test_grid_generator_matches_mxnet():
    loc = mx.nd.array(_LOC)
    loc.attach_grad()
    og = mx.nd.array(np.arange(16).reshape(1, 2, 2, 4) / 8.0 - 1.0)
    with mx.autograd.record():
        y = mx.nd.GridGenerator(loc, transform_type="affine", target_shape=(2, 4))
    y.backward(og)
    np.testing.assert_array_equal(y.asnumpy(), _f32(GG_AFFINE))
    np.testing.assert_allclose(loc.grad.asnumpy(), _f32(GG_GLOC), rtol=1e-6)
    flow = mx.nd.array(np.arange(12).reshape(1, 2, 2, 3) / 4.0 - 1.0)
    np.testing.assert_array_equal(mx.nd.GridGenerator(flow, transform_type="warp").asnumpy(), _f32(GG_WARP))


# ---------------------------------------------------------------------------- NumPy references
def _ref_sample(data, grid):
    """Pixel-by-pixel bilinear sampling in float64, zero outside the image."""
    n, c, ih, iw = data.shape
    ho, wo = grid.shape[2:]
    out = np.zeros((n, c, ho, wo))
    for b in range(n):
        for i in range(ho):
            for j in range(wo):
                x = (grid[b, 0, i, j] + 1) * (iw - 1) / 2
                y = (grid[b, 1, i, j] + 1) * (ih - 1) / 2
                x0, y0 = int(np.floor(x)), int(np.floor(y))
                for yy, xx, w in ((y0, x0, (1 - (y - y0)) * (1 - (x - x0))),
                                  (y0, x0 + 1, (1 - (y - y0)) * (x - x0)),
                                  (y0 + 1, x0, (y - y0) * (1 - (x - x0))),
                                  (y0 + 1, x0 + 1, (y - y0) * (x - x0))):
                    if 0 <= yy < ih and 0 <= xx < iw:
                        out[b, :, i, j] += w * data[b, :, yy, xx]
    return out


def _ref_affine(loc, h, w):
    n = loc.shape[0]
    out = np.zeros((n, 2, h, w))
    for b in range(n):
        m = loc[b].reshape(2, 3)
        for i in range(h):
            for j in range(w):
                p = np.array([-1 + 2.0 * j / (w - 1), -1 + 2.0 * i / (h - 1), 1.0])
                out[b, :, i, j] = m @ p
    return out


def test_bilinear_sampler_against_numpy_loop():
    rs = np.random.RandomState(0)
    data = rs.uniform(-1, 1, (2, 3, 4, 5))
    grid = rs.uniform(-1.4, 1.4, (2, 2, 3, 6))
    grid[0, :, 0, :3] = [[-1, 1, 1], [-1, 1, -1]]            # the corners exactly
    ref = _ref_sample(data, grid)
    got = mx.nd.BilinearSampler(mx.nd.array(data, dtype="float64"), mx.nd.array(grid, dtype="float64"))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.asnumpy(), ref, rtol=1e-12, atol=1e-14)
    got32 = mx.nd.BilinearSampler(mx.nd.array(data), mx.nd.array(grid))
    np.testing.assert_allclose(got32.asnumpy(), _ref_sample(data.astype("f"), grid.astype("f")), rtol=1e-5, atol=1e-6)
    # far outside the image everything is padding
    far = mx.nd.BilinearSampler(mx.nd.array(data), mx.nd.full((2, 2, 1, 2), 3.0))
    np.testing.assert_array_equal(far.asnumpy(), 0)


def test_grid_generator_and_spatial_transformer_against_numpy():
    rs = np.random.RandomState(1)
    loc = rs.uniform(-1, 1, (2, 6))
    got = mx.nd.GridGenerator(mx.nd.array(loc, dtype="float64"), transform_type="affine", target_shape=(3, 5))
    np.testing.assert_allclose(got.asnumpy(), _ref_affine(loc, 3, 5), rtol=1e-12, atol=1e-14)
    flow = rs.uniform(-2, 2, (2, 2, 3, 4))
    warp = mx.nd.GridGenerator(mx.nd.array(flow, dtype="float64"), transform_type="warp").asnumpy()
    jj, ii = np.meshgrid(np.arange(4), np.arange(3))
    np.testing.assert_allclose(warp[:, 0], (flow[:, 0] + jj) / 1.5 - 1, rtol=1e-12)
    np.testing.assert_allclose(warp[:, 1], (flow[:, 1] + ii) / 1.0 - 1, rtol=1e-12)
    data = rs.uniform(-1, 1, (2, 3, 5, 4))
    st = mx.nd.SpatialTransformer(mx.nd.array(data, dtype="float64"), mx.nd.array(loc, dtype="float64"),
                                  transform_type="affine", sampler_type="bilinear", target_shape=(3, 5))
    np.testing.assert_allclose(st.asnumpy(), _ref_sample(data, _ref_affine(loc, 3, 5)), rtol=1e-12, atol=1e-14)


def test_identity_transform_reproduces_the_image():
    rs = np.random.RandomState(2)
    data = mx.nd.array(rs.uniform(-1, 1, (2, 3, 4, 6)))
    loc = mx.nd.array(np.tile([1.0, 0, 0, 0, 1.0, 0], (2, 1)))
    out = mx.nd.SpatialTransformer(data, loc, transform_type="affine", sampler_type="bilinear", target_shape=(4, 6))
    np.testing.assert_allclose(out.asnumpy(), data.asnumpy(), rtol=1e-6, atol=1e-6)
    zero_flow = mx.nd.zeros((2, 2, 4, 6))
    out = mx.nd.BilinearSampler(data, mx.nd.GridGenerator(zero_flow, transform_type="warp"))
    np.testing.assert_allclose(out.asnumpy(), data.asnumpy(), rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------- gradients (float64)
def _numeric_grad(fn, arrays, k, head, eps=1e-6):
    x = arrays[k]
    num = np.zeros_like(x)
    flat, nflat = x.reshape(-1), num.reshape(-1)
    for j in range(flat.size):
        old = flat[j]
        flat[j] = old + eps
        fp = float((fn(*arrays) * head).sum())
        flat[j] = old - eps
        fm = float((fn(*arrays) * head).sum())
        flat[j] = old
        nflat[j] = (fp - fm) / (2 * eps)
    return num


def _check_grads(op, arrays, **attrs):
    def fn(*xs):
        return getattr(mx.nd, op)(*[mx.nd.array(x, dtype="float64") for x in xs], **attrs).asnumpy()

    nds = [mx.nd.array(x, dtype="float64") for x in arrays]
    for a in nds:
        a.attach_grad()
    with mx.autograd.record():
        y = getattr(mx.nd, op)(*nds, **attrs)
    head = np.random.RandomState(5).uniform(0.5, 1.5, y.shape)
    y.backward(mx.nd.array(head, dtype="float64"))
    for k in range(len(arrays)):
        np.testing.assert_allclose(nds[k].grad.asnumpy(), _numeric_grad(fn, arrays, k, head),
                                   rtol=1e-6, atol=1e-8, err_msg="%s input %d" % (op, k))


def _smooth_grid(rs, shape, h, w):
    """A grid whose pixel coordinates stay at least 0.1 away from integers (smooth weights)."""
    g = rs.uniform(-1.3, 1.3, shape)
    for ch, size in ((0, w), (1, h)):
        p = (g[:, ch] + 1) * (size - 1) / 2
        p = np.floor(p) + np.clip(p - np.floor(p), 0.1, 0.9)
        g[:, ch] = p * 2 / (size - 1) - 1
    return g


def test_bilinear_sampler_gradient_by_finite_differences():
    rs = np.random.RandomState(3)
    _check_grads("BilinearSampler", [rs.uniform(-1, 1, (2, 2, 3, 4)), _smooth_grid(rs, (2, 2, 3, 3), 3, 4)])


def test_grid_generator_gradient_by_finite_differences():
    rs = np.random.RandomState(4)
    _check_grads("GridGenerator", [rs.uniform(-1, 1, (2, 6))], transform_type="affine", target_shape=(3, 4))
    _check_grads("GridGenerator", [rs.uniform(-1, 1, (2, 2, 3, 4))], transform_type="warp")


def test_spatial_transformer_gradient_by_finite_differences():
    rs = np.random.RandomState(6)
    # every sampled point stays > 0.03 pixel away from integer coordinates (smooth weights)
    loc = np.array([[0.83, 0.11, 0.04, -0.12, 0.77, 0.09], [0.68, -0.21, -0.13, 0.14, 0.72, 0.11]])
    _check_grads("SpatialTransformer", [rs.uniform(-1, 1, (2, 2, 4, 5)), loc], transform_type="affine",
                 sampler_type="bilinear", target_shape=(3, 3))


def test_second_order_grid_gradient():
    """The grid gradient is written with mx.nd ops: its own gradient matches finite differences."""
    rs = np.random.RandomState(7)
    data = rs.uniform(-1, 1, (1, 2, 3, 4))
    grid0 = _smooth_grid(rs, (1, 2, 2, 2), 3, 4)
    w = rs.uniform(0.5, 1.5, (1, 2, 2, 2))

    def first(g):
        d, gr = mx.nd.array(data, dtype="float64"), mx.nd.array(g, dtype="float64")
        gr.attach_grad()
        with mx.autograd.record():
            y = mx.nd.BilinearSampler(d, gr)
        y.backward()
        return gr.grad.asnumpy()

    gr = mx.nd.array(grid0, dtype="float64")
    gr.attach_grad()
    d = mx.nd.array(data, dtype="float64")
    with mx.autograd.record():
        y = mx.nd.BilinearSampler(d, gr)
        (gg,) = mx.autograd.grad(y, [gr], create_graph=True)
        z = (gg * mx.nd.array(w, dtype="float64")).sum()
    z.backward()
    np.testing.assert_allclose(gr.grad.asnumpy(), _numeric_grad(first, [grid0], 0, w), rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------- symbols and errors
def test_symbol_infer_shape():
    d, g, l = mx.sym.var("d"), mx.sym.var("g"), mx.sym.var("l")
    s = mx.sym.BilinearSampler(d, g)
    assert s.infer_shape(d=(2, 3, 5, 5), g=(2, 2, 3, 4)) == ([(2, 3, 5, 5), (2, 2, 3, 4)], [(2, 3, 3, 4)], [])
    s = mx.sym.GridGenerator(l, transform_type="affine", target_shape=(3, 4))
    assert s.infer_shape(l=(2, 6)) == ([(2, 6)], [(2, 2, 3, 4)], [])
    s = mx.sym.GridGenerator(g, transform_type="warp")
    assert s.infer_shape(g=(2, 2, 3, 4)) == ([(2, 2, 3, 4)], [(2, 2, 3, 4)], [])
    s = mx.sym.SpatialTransformer(d, l, transform_type="affine", sampler_type="bilinear", target_shape=(3, 4))
    assert s.list_arguments() == ["d", "l"]
    assert s.infer_shape(d=(2, 3, 5, 5), l=(2, 6)) == ([(2, 3, 5, 5), (2, 6)], [(2, 3, 3, 4)], [])
    assert s.infer_shape(d=(2, 3, 5, 5))[0] == [(2, 3, 5, 5), (2, 6)]   # loc follows from data


def test_symbol_forward_matches_ndarray():
    d, l = mx.sym.var("d"), mx.sym.var("l")
    s = mx.sym.SpatialTransformer(d, l, transform_type="affine", sampler_type="bilinear", target_shape=(2, 3))
    ex = s.bind(mx.cpu(), {"d": _data(), "l": mx.nd.array(_LOC)})
    np.testing.assert_array_equal(ex.forward()[0].asnumpy(), _f32(ST_OUT))


def test_shape_errors_name_the_shapes():
    with pytest.raises(ShapeError, match=r"\(2, 5\)"):
        mx.nd.GridGenerator(mx.nd.ones((2, 5)), transform_type="affine", target_shape=(3, 4))
    with pytest.raises(ShapeError, match=r"\(2, 3, 3, 4\)"):
        mx.nd.GridGenerator(mx.nd.ones((2, 3, 3, 4)), transform_type="warp")
    with pytest.raises(ShapeError, match=r"grid.*\(2, 3, 2, 2\)"):
        mx.nd.BilinearSampler(mx.nd.ones((2, 3, 4, 5)), mx.nd.ones((2, 3, 2, 2)))
    with pytest.raises(ShapeError, match=r"batch size"):
        mx.nd.BilinearSampler(mx.nd.ones((2, 3, 4, 5)), mx.nd.ones((1, 2, 2, 2)))
    with pytest.raises(ShapeError, match=r"loc.*\(2, 5\)"):
        mx.nd.SpatialTransformer(mx.nd.ones((2, 3, 4, 5)), mx.nd.ones((2, 5)), transform_type="affine",
                                 sampler_type="bilinear", target_shape=(2, 2))
    with pytest.raises(ShapeError, match=r"\(2, 5\)"):
        mx.sym.GridGenerator(mx.sym.var("a"), transform_type="affine", target_shape=(3, 4)).infer_shape(a=(2, 5))


def test_attribute_errors():
    with pytest.raises(MXNetError, match="target_shape"):
        mx.nd.GridGenerator(mx.nd.ones((2, 6)), transform_type="affine")
    with pytest.raises(MXNetError, match="transform_type"):
        mx.nd.GridGenerator(mx.nd.ones((2, 6)), transform_type="perspective", target_shape=(2, 2))
    with pytest.raises(MXNetError, match="sampler_type"):
        mx.nd.SpatialTransformer(mx.nd.ones((2, 3, 4, 5)), mx.nd.ones((2, 6)), transform_type="affine",
                                 sampler_type="nearest", target_shape=(2, 2))
    with pytest.raises(MXNetError, match="target_shape"):
        mx.nd.SpatialTransformer(mx.nd.ones((2, 3, 4, 5)), mx.nd.ones((2, 6)), transform_type="affine",
                                 sampler_type="bilinear")
