"""Multi-tensor updates: many weights of one context updated by one vectorised step.

:class:`FusedGroup` re-homes a list of weights and their gradients as views into one
flat weight buffer and one flat gradient buffer (the NDArray objects stay the same,
only their ``_data`` becomes a view, so autograd, the store and the user keep working
on them), and builds the optimizer state for the flat buffer, handing the Updater
per-weight views of it (so ``get_states``/``set_states`` still see one state per key).
An element-wise optimizer (``Optimizer.elementwise``) then updates the whole group
with one call of its ``step`` instead of one call per weight.

A group is used only while it is still valid: same buffers, same Updater states,
equal learning rates, weight decays and update counts over its members.
"""
from ..ndarray.ndarray import from_backend
from .optimizer import Optimizer, _raw_state

__all__ = ["FusedGroup", "plan_groups", "can_fuse"]


def can_fuse(optimizer):
    """Whether ``optimizer`` applies the same element-wise rule through ``step``."""
    return getattr(optimizer, "elementwise", False) and type(optimizer).update is Optimizer.update


def _views(state, offset, size, shape):
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return tuple(_views(s, offset, size, shape) for s in state)
    return from_backend(state._data[offset:offset + size].reshape(shape), state._ctx)


def _copy_values(dst, src):
    if dst is None or src is None:
        return
    if isinstance(dst, tuple):
        for d, s in zip(dst, src):
            _copy_values(d, s)
        return
    dst._data[...] = src.as_in_context(dst._ctx)._data


class FusedGroup:
    """Weights of one context and dtype, updated together by one ``optimizer.step`` call."""

    def __init__(self, optimizer, updater, indices, weights, grads):
        self.optimizer = optimizer
        self.updater = updater
        self.indices = list(indices)
        self.weights = list(weights)
        self.grads = list(grads)
        ctx = weights[0].context
        xp = ctx.backend.xp
        dtype = weights[0]._data.dtype
        sizes = [w.size for w in weights]
        total = sum(sizes)
        flat_w = xp.empty(total, dtype=dtype)
        flat_g = xp.empty(total, dtype=grads[0]._data.dtype)
        offsets, off = [], 0
        for w, g, n in zip(weights, grads, sizes):
            offsets.append(off)
            flat_w[off:off + n] = w._data.reshape(-1)
            flat_g[off:off + n] = g._data.reshape(-1)
            w._data = flat_w[off:off + n].reshape(w.shape)
            g._data = flat_g[off:off + n].reshape(g.shape)
            off += n
        self.flat_weight, self.flat_grad, self.backend = flat_w, flat_g, ctx.backend
        self.device_id = ctx.device_id
        state = optimizer.create_state(self.indices[0], from_backend(flat_w, ctx))
        self.states = []
        for i, w, o, n in zip(self.indices, weights, offsets, sizes):
            view = _views(state, o, n, w.shape)
            old = updater.states.get(i)
            if old is not None:
                _copy_values(view, old)
            updater.states[i] = view
            updater.states_synced[i] = True
            self.states.append(view)
        self.raw_state = _raw_state(state)
        self.weight_views = [w._data for w in weights]
        self.grad_views = [g._data for g in grads]

    def valid(self):
        """Whether every member still lives in the flat buffers with the group's state."""
        states = self.updater.states
        for w, g, wv, gv, i, s in zip(self.weights, self.grads, self.weight_views, self.grad_views,
                                      self.indices, self.states):
            if w._data is not wv or g._data is not gv or states.get(i) is not s:
                return False
        return True

    def step(self):
        """Update every member at once; False (nothing done) when the members' hyper-parameters differ."""
        opt = self.optimizer
        opt._set_current_context(self.device_id)
        counts = opt._index_update_count
        first = self.indices[0]
        lr, wd, t = opt._get_lr(first), opt._get_wd(first), counts.get(first)
        for i in self.indices[1:]:
            if opt._get_lr(i) != lr or opt._get_wd(i) != wd or counts.get(i) != t:
                return False
        opt._update_count(self.indices)
        opt.step(self.backend.xp, first, self.flat_weight, self.flat_grad, self.raw_state,
                 opt._get_lr(first), wd)
        return True


def plan_groups(optimizer, updater, indices, weights, grads):
    """Fused groups for (index, weight, grad) triples of one context, and the indices left over.

    Weights are grouped by dtype (float16 with multi_precision stays unfused); a group
    needs two members or more to be worth it.
    """
    if not can_fuse(optimizer):
        return [], list(indices)
    by_dtype = {}
    for i, w, g in zip(indices, weights, grads):
        by_dtype.setdefault((w._data.dtype, g._data.dtype), []).append((i, w, g))
    groups, rest = [], []
    for (wdt, _), members in by_dtype.items():
        if len(members) < 2 or (optimizer.multi_precision and wdt.itemsize == 2):
            rest.extend(m[0] for m in members)
            continue
        idx, ws, gs = zip(*members)
        groups.append(FusedGroup(optimizer, updater, idx, ws, gs))
    return groups, rest
