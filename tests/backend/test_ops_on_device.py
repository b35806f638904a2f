"""The whole op library through the real CupyBackend on the fake CuPy (tests/backend/fake_cupy.py).

Every sample case of ``tests/ops/test_gradients.py``'s GRAD_CASES runs forward and
backward on ``mx.gpu(1)`` (device 1 is never the default device, so an array allocated on
the wrong device fails) and must give the CPU's outputs and gradients.  The double
refuses implicit host conversions and host/device mixes, so an op that calls NumPy on
device data, or ``ufunc.at``, fails here as it would under CuPy.
"""
import numpy as np
import pytest

import psnet as mx
from psnet.ops import registry
from tests.ops.test_gradients import GRAD_CASES, K

CASES = [(name, i) for name in sorted(GRAD_CASES) for i in range(len(GRAD_CASES[name]))]


def _run(op, values, attrs, train, wrt, ctx, head):
    mx.random.seed(7)
    inputs = [mx.nd.array(v, ctx=ctx, dtype=v.dtype) for v in values]
    for k in wrt:
        inputs[k].attach_grad()
    with mx.autograd.record(train_mode=train):
        outs = getattr(mx.nd, op.name)(*inputs, **attrs)
    outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
    linked = [(o, h) for o, h in zip(outs, head) if o._ag is not None]  # ones_like: no path
    if linked:
        mx.autograd.backward([o for o, _ in linked],
                             [mx.nd.array(h, ctx=ctx, dtype=o.dtype) for o, h in linked], train_mode=train)
    for o in outs:
        assert o.context == ctx, "%s: output on %s, expected %s" % (op.name, o.context, ctx)
    return [o.asnumpy() for o in outs], [inputs[k].grad.asnumpy() for k in wrt]


def check_case_matches_cpu(name, i, ctx, rtol=1e-6, atol=1e-9):
    """Sample case ``i`` of op ``name``: forward outputs and input gradients on ``ctx`` equal
    the CPU's (random ops: same shapes and dtypes).  Shared with the real GPU suite."""
    op = registry.get(name)
    c = GRAD_CASES[name][i]
    rs = np.random.RandomState(0)
    values = [spec.make(rs) for spec in c["inputs"]]
    n_args = len(values) - len(op.aux)
    wrt = [k for k, spec in enumerate(c["inputs"]) if not isinstance(spec, K) and k < n_args]
    probe = getattr(mx.nd, op.name)(*[mx.nd.array(v, dtype=v.dtype) for v in values], **c["attrs"])
    head = [rs.uniform(0.5, 1.5, p.shape) for p in (probe if isinstance(probe, (list, tuple)) else [probe])]
    # fresh copies per context: aux states are updated in place
    cpu_out, cpu_grad = _run(op, [v.copy() for v in values], c["attrs"], c["train"], wrt, mx.cpu(), head)
    out, grad = _run(op, [v.copy() for v in values], c["attrs"], c["train"], wrt, ctx, head)
    for a, b in zip(out + grad, cpu_out + cpu_grad):
        assert a.shape == b.shape and a.dtype == b.dtype
        if not op.needs_rng:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("name,i", CASES, ids=["%s-%d" % c for c in CASES])
def test_op_forward_and_gradient_match_cpu(fake_gpu, name, i):
    """Forward outputs and input gradients on gpu(1) equal the CPU's."""
    check_case_matches_cpu(name, i, mx.gpu(1))
