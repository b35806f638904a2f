"""``mx.test_utils``: the helpers MXNet users' own tests import.

Comparisons accept NDArrays, NumPy arrays and numbers.  The symbolic checks bind a
Symbol with ``Symbol.bind`` and compare its forward / backward against expectations or
against central finite differences.
"""
import numpy as np

from .base import MXNetError
from .context import Context, cpu, current_context, num_gpus

__all__ = ["default_context", "set_default_context", "default_dtype", "get_tolerance",
           "almost_equal", "assert_almost_equal", "same", "assert_exception", "rand_ndarray",
           "rand_shape_2d", "rand_shape_3d", "rand_shape_nd", "random_arrays",
           "check_numeric_gradient", "check_symbolic_forward", "check_symbolic_backward",
           "numeric_grad", "list_gpus"]

_DEFAULT_CTX = [None]
# MXNet 1.9.1's default tolerances by dtype
_RTOL = {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-5}
_ATOL = {np.dtype(np.float16): 1e-1, np.dtype(np.float32): 1e-3, np.dtype(np.float64): 1e-20}


def default_context():
    """The context tests run on (``cpu(0)`` unless :func:`set_default_context` said otherwise)."""
    return _DEFAULT_CTX[0] or current_context()


def set_default_context(ctx):
    """Set the context returned by :func:`default_context`."""
    _DEFAULT_CTX[0] = Context(ctx)


def list_gpus():
    """``range(n)`` for the n GPUs psnet can use (an empty range without CuPy or a device)."""
    return range(num_gpus())


def default_dtype():
    """The default dtype of generated test data (float32)."""
    return np.float32


def _as_numpy(a):
    if hasattr(a, "asnumpy"):
        return a.asnumpy()
    return np.asarray(a)


def get_tolerance(a, b, rtol=None, atol=None):
    """(rtol, atol) for comparing ``a`` and ``b``: given values, or MXNet's defaults by dtype."""
    dts = [np.asarray(x).dtype for x in (a, b)]
    loosest = max(dts, key=lambda d: _RTOL.get(d, 0))
    if rtol is None:
        rtol = _RTOL.get(loosest, 0.0)
    if atol is None:
        atol = _ATOL.get(loosest, 0.0)
    return rtol, atol


def almost_equal(a, b, rtol=None, atol=None, equal_nan=False, use_broadcast=True):
    """Whether ``a`` and ``b`` agree within tolerances (``|a-b| <= atol + rtol*|b|``)."""
    a, b = _as_numpy(a), _as_numpy(b)
    if not use_broadcast and a.shape != b.shape:
        return False
    rtol, atol = get_tolerance(a, b, rtol, atol)
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def assert_almost_equal(a, b, rtol=None, atol=None, names=("a", "b"), equal_nan=False,
                        use_broadcast=True, mismatches=(10, 10)):
    """Raise AssertionError, showing the worst mismatching elements, unless ``a`` ≈ ``b``."""
    a, b = _as_numpy(a), _as_numpy(b)
    if not use_broadcast and a.shape != b.shape:
        raise AssertionError("shapes differ: %s %s vs %s %s" % (names[0], a.shape, names[1], b.shape))
    rtol, atol = get_tolerance(a, b, rtol, atol)
    try:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan,
                                   err_msg="%s vs %s" % names)
    except AssertionError as e:
        raise AssertionError("Items are not equal (rtol=%g, atol=%g): %s" % (rtol, atol, e)) from None


def same(a, b):
    """Whether ``a`` and ``b`` are exactly equal (same shape and values)."""
    return np.array_equal(_as_numpy(a), _as_numpy(b))


def assert_exception(f, exception_type, *args, **kwargs):
    """Assert that ``f(*args, **kwargs)`` raises ``exception_type``."""
    try:
        f(*args, **kwargs)
    except exception_type:
        return
    raise AssertionError("%s did not raise %s" % (getattr(f, "__name__", f), exception_type.__name__))


def rand_shape_2d(dim0=10, dim1=10):
    """A random 2-d shape with sides in [1, dim0] x [1, dim1]."""
    return np.random.randint(1, dim0 + 1), np.random.randint(1, dim1 + 1)


def rand_shape_3d(dim0=10, dim1=10, dim2=10):
    """A random 3-d shape."""
    return np.random.randint(1, dim0 + 1), np.random.randint(1, dim1 + 1), np.random.randint(1, dim2 + 1)


def rand_shape_nd(num_dim, dim=10):
    """A random shape of ``num_dim`` dimensions, each in [1, dim]."""
    return tuple(np.random.randint(1, dim + 1, size=num_dim))


def random_arrays(*shapes):
    """Standard-normal NumPy arrays of the given shapes (a single array for one shape)."""
    arrays = [np.array(np.random.randn(), dtype=default_dtype()) if len(s) == 0
              else np.random.randn(*s).astype(default_dtype()) for s in shapes]
    return arrays[0] if len(arrays) == 1 else arrays


def rand_ndarray(shape, stype="default", density=None, dtype=None, ctx=None):
    """A dense NDArray of uniform [0, 1) values (psnet stores sparse types densely)."""
    from . import ndarray as nd
    data = np.random.uniform(size=shape).astype(dtype or default_dtype())
    if density is not None:
        data *= np.random.uniform(size=shape) < density
    return nd.array(data, ctx=ctx or default_context(), dtype=data.dtype)


def _location_dict(sym, location, ctx, dtype):
    from . import ndarray as nd
    names = sym.list_arguments()
    if isinstance(location, dict):
        missing = set(location) - set(names)
        if missing:
            raise MXNetError("location names %s are not arguments of the symbol (%s)"
                             % (sorted(missing), names))
        items = location.items()
    else:
        if len(location) != len(names):
            raise MXNetError("location has %d arrays, the symbol has %d arguments (%s)"
                             % (len(location), len(names), names))
        items = zip(names, location)
    return {k: nd.array(_as_numpy(v), ctx=ctx, dtype=dtype) for k, v in items}


def _aux_dict(sym, aux_states, ctx, dtype):
    from . import ndarray as nd
    if aux_states is None:
        return None
    names = sym.list_auxiliary_states()
    items = aux_states.items() if isinstance(aux_states, dict) else zip(names, aux_states)
    return {k: nd.array(_as_numpy(v), ctx=ctx, dtype=dtype) for k, v in items}


def _outputs_list(expected, sym):
    if isinstance(expected, dict):
        return [expected[n] for n in sym.list_outputs()]
    return list(expected)


def check_symbolic_forward(sym, location, expected, rtol=1e-4, atol=None, aux_states=None,
                           ctx=None, equal_nan=False, dtype=np.float32):
    """Bind ``sym`` at ``location``, run forward (prediction mode) and compare with ``expected``."""
    ctx = ctx or default_context()
    args = _location_dict(sym, location, ctx, dtype)
    exe = sym.bind(ctx, args=args, aux_states=_aux_dict(sym, aux_states, ctx, dtype), grad_req="null")
    outputs = exe.forward(is_train=False)
    for name, out, exp in zip(sym.list_outputs(), outputs, _outputs_list(expected, sym)):
        assert_almost_equal(out, exp, rtol, atol, ("output " + name, "expected"), equal_nan)
    return [o.asnumpy() for o in outputs]


def check_symbolic_backward(sym, location, out_grads, expected, rtol=1e-5, atol=None,
                            aux_states=None, grad_req="write", ctx=None, grad_stypes=None,
                            equal_nan=False, dtype=np.float32):
    """Bind ``sym``, run forward (training) and backward with ``out_grads``; compare input gradients.

    ``expected`` maps argument names (or lists, in argument order) to expected gradients.
    """
    from . import ndarray as nd
    ctx = ctx or default_context()
    args = _location_dict(sym, location, ctx, dtype)
    names = sym.list_arguments()
    if not isinstance(expected, dict):
        expected = dict(zip(names, expected))
    grads = {k: nd.zeros(v.shape, ctx=ctx, dtype=dtype) for k, v in args.items()}
    reqs = grad_req if isinstance(grad_req, dict) else {k: grad_req for k in names}
    exe = sym.bind(ctx, args=args, args_grad=grads, grad_req=reqs,
                   aux_states=_aux_dict(sym, aux_states, ctx, dtype))
    exe.forward(is_train=True)
    ogs = out_grads if isinstance(out_grads, (list, tuple)) else [out_grads]
    exe.backward([nd.array(_as_numpy(g), ctx=ctx, dtype=dtype) for g in ogs])
    for name, exp in expected.items():
        if reqs.get(name, "write") == "null":
            continue
        assert_almost_equal(exe.grad_dict[name], exp, rtol, atol, ("grad " + name, "expected"), equal_nan)
    return {k: v.asnumpy() for k, v in exe.grad_dict.items()}


def numeric_grad(f, arrays, eps=1e-4):
    """Central finite-difference gradients of the scalar ``f(arrays)`` w.r.t. each NumPy array."""
    grads = []
    for a in arrays:
        g = np.zeros_like(a, dtype=np.float64)
        flat, gflat = a.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            fp = f(arrays)
            flat[i] = old - eps
            fm = f(arrays)
            flat[i] = old
            gflat[i] = (fp - fm) / (2 * eps)
        grads.append(g)
    return grads


def check_numeric_gradient(sym, location, aux_states=None, numeric_eps=1e-3, rtol=1e-2,
                           atol=None, grad_nodes=None, use_forward_train=True, ctx=None,
                           grad_stype_dict=None, dtype=np.float64):
    """Compare ``sym``'s backward with finite differences of ``sum(outputs * random projection)``."""
    from . import ndarray as nd
    ctx = ctx or cpu()
    args = _location_dict(sym, location, ctx, dtype)
    aux = _aux_dict(sym, aux_states, ctx, dtype)
    names = sym.list_arguments()
    grad_nodes = list(grad_nodes) if grad_nodes is not None else names
    probe = sym.bind(ctx, args=args, aux_states=aux, grad_req="null")
    shapes = [o.shape for o in probe.forward(is_train=use_forward_train)]
    projs = [np.random.normal(0, 0.01, size=s) for s in shapes]
    grads = {k: nd.zeros(args[k].shape, ctx=ctx, dtype=dtype) for k in grad_nodes}
    reqs = {k: ("write" if k in grad_nodes else "null") for k in names}
    exe = sym.bind(ctx, args=args, args_grad=grads, grad_req=reqs, aux_states=aux)
    exe.forward(is_train=use_forward_train)
    exe.backward([nd.array(p, ctx=ctx, dtype=dtype) for p in projs])
    values = {k: v.asnumpy().astype(np.float64) for k, v in args.items()}

    def f(_):
        ins = {k: nd.array(v, ctx=ctx, dtype=dtype) for k, v in values.items()}
        e = sym.bind(ctx, args=ins, aux_states=aux, grad_req="null")
        outs = e.forward(is_train=use_forward_train)
        return sum(float((o.asnumpy() * p).sum()) for o, p in zip(outs, projs))

    numeric = numeric_grad(f, [values[k] for k in grad_nodes], eps=numeric_eps)
    for k, num in zip(grad_nodes, numeric):
        assert_almost_equal(exe.grad_dict[k], num, rtol, atol if atol is not None else 1e-4,
                            ("symbolic grad " + k, "numeric grad " + k))
