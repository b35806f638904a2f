"""Every differentiable operator's gradient against central finite differences (float64).

HOW TO ADD AN OP: the test walks the whole registry and FAILS when an op with a gradient
(``op.grad is not None``) has neither an entry in :data:`GRAD_CASES` nor a reason in
:data:`SKIP`.  Add one entry per op, keyed by the op's canonical name (``op.name``, not an
alias)::

    "Pooling": [case(R(1, 2, 4, 4), kernel=(2, 2), pool_type="avg"), ...],

``case(*inputs, train=False, **attrs)`` lists the op's array inputs in order and its
attributes.  An input is

* ``R(*shape, lo=-1, hi=1)``: uniform random values in [lo, hi) (pick the op's domain:
  ``R(2, 3, lo=0.5, hi=2)`` for log/sqrt, ``lo=-0.9, hi=0.9`` for arcsin...);
* ``D(*shape)``: distinct values, well apart (for max, sort, topk, maximum... whose
  gradient jumps where values tie);
* ``K(values, dtype="int64")``: a constant that is not differentiated (indices, labels);
* ``SPD(*shape)``: symmetric positive-definite matrices in the last two axes (``B B^T + n I``),
  perturbed *symmetrically* by the check (entries (i, j) and (j, i) together, half the step
  each), so the numeric gradient is the symmetric part of the true one.  This is MXNet's
  convention for ``linalg_potrf``, whose gradient is the symmetric matrix that pairs with a
  symmetric change of A (its forward reads one triangle only): the op's gradient must then
  equal that symmetric numeric gradient exactly (symmetric itself).

``train=True`` runs the op in training mode (Dropout, BatchNorm); the random generator is
reseeded before every evaluation, so random ops draw the same mask each time.  The loss
is sum_k sum(output_k * W_k) over the visible outputs with fixed random weights W_k, so
head gradients are not all ones.  Keep inputs small (the check perturbs every element).
"""
import numpy as np
import pytest

import psnet as mx
from psnet.ops import registry


class R:
    """Random float64 input of ``shape`` uniform in [lo, hi)."""

    def __init__(self, *shape, lo=-1.0, hi=1.0):
        self.shape, self.lo, self.hi = shape, lo, hi

    def make(self, rs):
        return rs.uniform(self.lo, self.hi, self.shape)


class D(R):
    """Random distinct float64 values at least 0.1 apart (no ties for max/sort/maximum)."""

    def make(self, rs):
        n = int(np.prod(self.shape))
        return (rs.permutation(n) * 0.1 - 0.05 * n + rs.uniform(0, 0.02, n)).reshape(self.shape)


class K:
    """A constant input (indices, labels, conditions): not differentiated."""

    def __init__(self, values, dtype="float64"):
        self.values = np.asarray(values, dtype=dtype)

    def make(self, rs):
        return self.values.copy()


class SPD(R):
    """Symmetric positive-definite float64 matrices ``B B^T + n I`` (B uniform in [-1, 1))
    in the last two axes; the finite differences perturb them symmetrically."""

    symmetric = True

    def make(self, rs):
        b = rs.uniform(-1.0, 1.0, self.shape)
        n = self.shape[-1]
        return b @ np.swapaxes(b, -1, -2) + n * np.eye(n)


def case(*inputs, train=False, **attrs):
    """One sample call of an op: its array inputs in order, its attributes, its mode."""
    return {"inputs": inputs, "attrs": attrs, "train": train}


def unary(lo=-1.0, hi=1.0, **attrs):
    """A one-input elementwise case on a 2x3 array with values in [lo, hi)."""
    return [case(R(2, 3, lo=lo, hi=hi), **attrs)]


def binary():
    """Two-input broadcasting cases: equal shapes, and (2,3) with (1,3)."""
    return [case(R(2, 3), R(2, 3)), case(R(2, 3), R(1, 3))]


def distinct_binary():
    return [case(D(2, 3), D(2, 3)), case(D(2, 3), D(1, 3))]


_PI = np.pi
# ---------------------------------------------------------------------------- the table
GRAD_CASES = {
    # arithmetic (psnet/ops/arith.py)
    "broadcast_add": binary(), "broadcast_sub": binary(), "broadcast_mul": binary(),
    "broadcast_div": [case(R(2, 3), R(2, 3, lo=0.5, hi=2)), case(R(2, 3), R(1, 3, lo=0.5, hi=2))],
    "broadcast_power": [case(R(2, 3, lo=0.5, hi=2), R(2, 3)), case(R(2, 3, lo=0.5, hi=2), R(1, 3))],
    "broadcast_maximum": distinct_binary(), "broadcast_minimum": distinct_binary(),
    "broadcast_hypot": binary(),
    "broadcast_equal": distinct_binary(), "broadcast_not_equal": distinct_binary(),
    "broadcast_greater": distinct_binary(), "broadcast_greater_equal": distinct_binary(),
    "broadcast_lesser": distinct_binary(), "broadcast_lesser_equal": distinct_binary(),
    "broadcast_logical_and": distinct_binary(), "broadcast_logical_or": distinct_binary(),
    "broadcast_logical_xor": distinct_binary(),
    "_rsub_array": binary(),
    "_rdiv_array": [case(R(2, 3, lo=0.5, hi=2), R(2, 3)), case(R(1, 3, lo=0.5, hi=2), R(2, 3))],
    "_plus_scalar": unary(scalar=0.3), "_minus_scalar": unary(scalar=0.3),
    "_rminus_scalar": unary(scalar=0.3), "_mul_scalar": unary(scalar=-1.7),
    "_div_scalar": unary(scalar=1.7), "_rdiv_scalar": unary(0.5, 2, scalar=1.7),
    "_mod_scalar": unary(0.1, 0.9, scalar=1.0), "_floor_div_scalar": unary(0.1, 0.9, scalar=1.0),
    "_rfloor_div_scalar": unary(0.6, 0.9, scalar=1.0),
    "_power_scalar": unary(0.5, 2, scalar=2.5), "_rpower_scalar": unary(scalar=1.7),
    "_maximum_scalar": unary(scalar=0.05), "_minimum_scalar": unary(scalar=0.05),
    "_equal_scalar": unary(scalar=0.05), "_not_equal_scalar": unary(scalar=0.05),
    "_greater_scalar": unary(scalar=0.05), "_greater_equal_scalar": unary(scalar=0.05),
    "_lesser_scalar": unary(scalar=0.05), "_lesser_equal_scalar": unary(scalar=0.05),
    "_logical_and_scalar": unary(scalar=1.0), "_logical_or_scalar": unary(scalar=0.0),
    "_logical_xor_scalar": unary(scalar=1.0),
    "add_n": [case(R(2, 3), R(2, 3), R(2, 3), num_args=3)],
    # elementwise math (psnet/ops/unary.py)
    "negative": unary(), "abs": unary(), "relu": unary(), "exp": unary(), "log": unary(0.5, 2),
    "log10": unary(0.5, 2), "log2": unary(0.5, 2), "log1p": unary(-0.5, 1), "expm1": unary(),
    "sqrt": unary(0.5, 2), "rsqrt": unary(0.5, 2), "cbrt": unary(0.5, 2), "rcbrt": unary(0.5, 2),
    "square": unary(), "reciprocal": unary(0.5, 2), "sign": unary(), "floor": unary(-1.9, 1.9),
    "ceil": unary(-1.9, 1.9), "round": unary(-1.9, 1.9), "rint": unary(-1.9, 1.9),
    "trunc": unary(-1.9, 1.9), "fix": unary(-1.9, 1.9),
    "sin": unary(), "cos": unary(), "tan": unary(), "arcsin": unary(-0.9, 0.9),
    "arccos": unary(-0.9, 0.9), "arctan": unary(), "sinh": unary(), "cosh": unary(), "tanh": unary(),
    "arcsinh": unary(), "arccosh": unary(1.2, 3), "arctanh": unary(-0.9, 0.9),
    "degrees": unary(), "radians": unary(), "sigmoid": unary(-3, 3), "softsign": unary(),
    "hard_sigmoid": unary(-2, 2), "erf": unary(-2, 2), "erfinv": unary(-0.9, 0.9),
    "gamma": unary(0.5, 3), "gammaln": unary(0.5, 3), "digamma": unary(0.5, 3),
    "identity": unary(), "logical_not": unary(), "clip": unary(a_min=-0.4, a_max=0.5),
    "BlockGrad": None,  # replaced by SKIP below
    "zeros_like": unary(), "ones_like": unary(),
    "Cast": unary(dtype="float64"), "_copyto": [case(R(2, 3), ctx=mx.cpu())],
    # float64 inputs pass through the AMP casts (their cast path is checked in test_amp_cast.py)
    "amp_cast": unary(dtype="float16"), "amp_multicast": [case(R(2, 3), R(3,), num_outputs=2)],
    "cast_storage": unary(stype="default"),
    "_image_normalize": [case(R(3, 2, 2), mean=(0.1, 0.2, 0.3), std=(0.5, 1.0, 2.0)),
                         case(R(2, 3, 2, 2), mean=0.5, std=0.25)],
    "_image_flip_left_right": [case(R(2, 3, 3)), case(R(2, 2, 3, 3))],
    "_image_flip_top_bottom": [case(R(2, 3, 3))],
    "_image_crop": [case(R(3, 4, 3), x=1, y=1, width=2, height=2), case(R(2, 3, 3, 2), x=0, y=1, width=3, height=2)],
    "_image_adjust_lighting": [case(R(2, 2, 3), alpha=(0.1, 0.2, 0.3))],
    # reductions (psnet/ops/reduce.py)
    "sum": [case(R(2, 3, 2)), case(R(2, 3, 2), axis=1, keepdims=True), case(R(2, 3, 2), axis=(0, 2), exclude=True)],
    "mean": [case(R(2, 3, 2)), case(R(2, 3, 2), axis=(0, 2), keepdims=True)],
    "nansum": [case(R(2, 3), axis=1)],
    "prod": [case(R(2, 3, lo=0.5, hi=1.5)), case(R(2, 3, lo=0.5, hi=1.5), axis=0)],
    "nanprod": [case(R(2, 3, lo=0.5, hi=1.5), axis=1)],
    "max": [case(D(2, 3)), case(D(2, 3), axis=1, keepdims=True)],
    "min": [case(D(2, 3)), case(D(2, 3), axis=0)],
    "norm": [case(R(2, 3)), case(R(2, 3), axis=1), case(R(2, 3), ord=1, axis=0)],
    "moments": [case(R(2, 3, 2), axes=(0, 2)), case(R(2, 3), keepdims=True)],
    "cumsum": [case(R(2, 3), axis=1)],
    # products (psnet/ops/linalg.py)
    "dot": [case(R(2, 3), R(3, 4)), case(R(3, 2), R(3, 4), transpose_a=True),
            case(R(2, 3), R(4, 3), transpose_b=True), case(R(2, 3, 2), R(2, 2))],
    "batch_dot": [case(R(2, 2, 3), R(2, 3, 2)), case(R(2, 3, 2), R(2, 3, 2), transpose_a=True)],
    "diag": [case(R(3, 3)), case(R(3), k=1)],
    "_diag_adjoint": [case(R(3), shape=(3, 3))],
    "linalg_gemm2": [case(R(2, 3), R(3, 2)), case(R(2, 3, 2), R(2, 4, 3), transpose_a=True, transpose_b=True,
                                                  alpha=0.5)],
    "linalg_gemm": [case(R(2, 3), R(2, 3), R(2, 2), transpose_b=True, alpha=2.0, beta=-0.5)],
    "linalg_inverse": [case(R(2, 2, 2, lo=0.5, hi=1.5))],
    "linalg_det": [case(R(2, 3, 3)), case(R(2, 2))],
    "linalg_slogdet": [case(R(2, 3, 3))],
    "linalg_extractdiag": [case(R(2, 3, 3), offset=1)],
    "linalg_makediag": [case(R(2, 3), offset=-1)],
    "linalg_sumlogdiag": [case(R(2, 3, 3, lo=0.5, hi=2))],
    "linalg_syrk": [case(R(2, 3), alpha=0.5), case(R(2, 2, 3), transpose=True)],
    "_linalg_triangle": [case(R(2, 3, 3)), case(R(3, 4), lower=False, offset=1)],
    "linalg_potrf": [case(SPD(2, 3, 3)), case(SPD(3, 3), lower=False)],
    "linalg_potri": [case(R(2, 3, 3, lo=0.5, hi=1.5)), case(R(3, 3, lo=0.5, hi=1.5), lower=False)],
    "linalg_trsm": [case(R(2, 3, 3, lo=0.5, hi=1.5), R(2, 3, 2)),
                    case(R(3, 3, lo=0.5, hi=1.5), R(3, 2), transpose=True, lower=False, alpha=-0.5),
                    case(R(3, 3, lo=0.5, hi=1.5), R(2, 3), rightside=True, alpha=2.0),
                    case(R(2, 3, 3, lo=0.5, hi=1.5), R(2, 2, 3), rightside=True, transpose=True, lower=False)],
    "linalg_trmm": [case(R(2, 3, 3), R(2, 3, 2)),
                    case(R(3, 3), R(3, 2), transpose=True, lower=False, alpha=-0.5),
                    case(R(3, 3), R(2, 3), rightside=True, alpha=2.0),
                    case(R(2, 3, 3), R(2, 2, 3), rightside=True, transpose=True, lower=False)],
    "khatri_rao": [case(R(2, 3), R(3, 3), R(2, 3), num_args=3), case(R(2, 2), R(3, 2), num_args=2),
                   case(R(2, 3), num_args=1)],
    # shapes and indexing (psnet/ops/shape.py, indexing.py, sorting.py)
    "Reshape": [case(R(2, 3), shape=(3, 2)), case(R(2, 3, 2), shape=(-3, 0))],
    "Flatten": [case(R(2, 3, 2))],
    "transpose": [case(R(2, 3)), case(R(2, 3, 2), axes=(1, 2, 0))],
    "SwapAxis": [case(R(2, 3, 2), dim1=0, dim2=2)],
    "moveaxis": [case(R(2, 3, 2), source=0, destination=2)],
    "expand_dims": [case(R(2, 3), axis=1)], "squeeze": [case(R(2, 1, 3))],
    "broadcast_to": [case(R(1, 3), shape=(2, 3))],
    "broadcast_axes": [case(R(2, 1), axis=1, size=3)],
    "broadcast_like": [case(R(1, 3), R(2, 3))],
    "reshape_like": [case(R(2, 3), R(3, 2))],
    "_sum_to_shape": [case(R(2, 3), shape=(1, 3))],
    "flip": [case(R(2, 3), axis=1)], "tile": [case(R(2, 3), reps=(2, 1))],
    "repeat": [case(R(2, 3), repeats=2, axis=1)],
    "Pad": [case(R(1, 1, 2, 3), mode="constant", pad_width=(0, 0, 0, 0, 1, 1, 1, 0)),
            case(R(1, 1, 2, 3), mode="edge", pad_width=(0, 0, 0, 0, 1, 1, 1, 0))],
    "_pad_adjoint": [case(R(1, 1, 4, 4), pad_width=(0, 0, 0, 0, 1, 1, 1, 0))],
    "Concat": [case(R(2, 3), R(2, 2), dim=1, num_args=2)],
    "stack": [case(R(2, 3), R(2, 3), axis=1, num_args=2)],
    "SliceChannel": [case(R(2, 4), num_outputs=2, axis=1)],
    "split_v2": [case(R(2, 5), indices_or_sections=(1, 3), axis=1),
                 case(R(3, 2), indices_or_sections=3, squeeze_axis=True)],
    "depth_to_space": [case(R(1, 4, 2, 2), block_size=2)],
    "space_to_depth": [case(R(1, 1, 4, 4), block_size=2)],
    "slice": [case(R(3, 4), begin=(0, 1), end=(2, 4))],
    "slice_axis": [case(R(3, 4), axis=1, begin=1, end=3)],
    "slice_like": [case(R(3, 4), R(2, 2))],
    "_getitem": [case(R(3, 4), key=(slice(0, 2), 1)), case(R(3, 4), key=np.array([2, 0, 2]))],
    "_scatter_getitem": [case(R(2), key=(slice(0, 2), 1), shape=(3, 4))],
    "take": [case(R(4, 3), K([[0, 3], [3, 1]]))],
    "_take_adjoint": [case(R(2, 2, 3), K([[0, 3], [3, 1]]), shape=(4, 3))],
    "batch_take": [case(R(3, 4), K([0, 3, 1]))],
    "pick": [case(R(3, 4), K([0, 3, 1])), case(R(3, 4), K([1, 0, 2, 1]), axis=0, keepdims=True)],
    "_take_along_axis": [case(R(3, 4), K([[0, 3], [1, 2], [2, 0]]), axis=1)],  # no repeats: see _put_along_axis
    "_put_along_axis": [case(R(3, 2), K([[0, 3], [1, 2], [2, 0]]), axis=1, shape=(3, 4))],
    "gather_nd": [case(R(3, 4), K([[0, 2, 2], [1, 3, 3]]))],
    "_backward_gather_nd": [case(R(3), K([[0, 2, 2], [1, 3, 3]]), shape=(3, 4))],
    "scatter_nd": [case(R(3), K([[0, 2, 1], [1, 3, 3]]), shape=(3, 4))],
    "where": [case(K([[1, 0, 1], [0, 0, 1]]), R(2, 3), R(2, 3))],
    "sort": [case(D(2, 4)), case(D(2, 4), axis=0, is_ascend=False)],
    "topk": [case(D(2, 4), k=2, ret_typ="value"), case(D(2, 4), k=2, ret_typ="value", axis=0)],
    # layers (psnet/ops/nn.py, normalization.py, loss_ops.py)
    "FullyConnected": [case(R(2, 3), R(4, 3), R(4), num_hidden=4),
                       case(R(2, 2, 3), R(4, 6), num_hidden=4, no_bias=True),
                       case(R(2, 2, 3), R(4, 3), R(4), num_hidden=4, flatten=False)],
    "_FullyConnected_relu": [case(R(2, 3), R(4, 3), R(4), num_hidden=4),
                             case(R(2, 2, 3), R(4, 6), num_hidden=4, no_bias=True)],
    "_backward_FullyConnected_relu": [case(R(2, 4), K([[1, -1, 2, 0], [-3, 1, 1, 1]]), R(2, 3), R(4, 3)),
                                      case(R(2, 4), K([[1, -1, 2, 3], [-3, 1, 1, 1]]), R(2, 1, 3), R(4, 3),
                                           no_bias=True)],
    "_backward_FullyConnected": [case(R(2, 4), R(2, 3), R(4, 3)),
                                 case(R(2, 4), R(2, 1, 3), R(4, 3), no_bias=True),
                                 case(R(2, 2, 4), R(2, 2, 3), R(4, 3), flatten=False)],
    "Activation": [case(R(2, 3, lo=-2, hi=2), act_type=t) for t in ("relu", "sigmoid", "tanh", "softrelu", "softsign")],
    "LeakyReLU": [case(R(2, 3, lo=-2, hi=2), act_type=t, slope=0.3) for t in ("leaky", "elu", "selu", "gelu")]
    + [case(R(2, 3, 2), R(3), act_type="prelu"), case(R(2, 3), R(1), act_type="prelu"),
       case(R(2, 3), act_type="rrelu", train=True), case(R(2, 3), act_type="rrelu")],
    "_normal_cdf": unary(-2, 2),
    "softmax": [case(R(2, 3)), case(R(2, 3, 2), axis=1, temperature=2.0),
                case(R(2, 4), K([2, 4], dtype="int32"), use_length=True)],
    "log_softmax": [case(R(2, 3)), case(R(2, 3, 2), axis=0, temperature=0.5)],
    "softmin": [case(R(2, 3)), case(R(2, 3), axis=0, temperature=2.0)],
    "SoftmaxActivation": [case(R(2, 3, 2)), case(R(2, 3, 2), mode="channel")],
    "Dropout": [case(R(3, 4), p=0.4, train=True), case(R(3, 4), p=0.5, axes=(1,), train=True),
                case(R(3, 4), p=0.4)],
    "Embedding": [case(K([[0, 2], [3, 2]]), R(4, 3), input_dim=4, output_dim=3)],
    "BatchNorm": [case(R(3, 2, 2), R(2), R(2), K([0.1, -0.1]), K([1.5, 0.5]), fix_gamma=False, train=True),
                  case(R(3, 2, 2), R(2), R(2), K([0.1, -0.1]), K([1.5, 0.5]), fix_gamma=False),
                  case(R(3, 2), R(2), R(2), K([0.1, -0.1]), K([1.5, 0.5]), train=True),
                  case(R(2, 3, 2), R(2), R(2), K([0.0, 0.0]), K([1.0, 1.0]), axis=-1, fix_gamma=False,
                       train=True),
                  case(R(3, 2, 2), R(2), R(2), K([0.1, -0.1]), K([1.5, 0.5]), fix_gamma=False,
                       use_global_stats=True, train=True)],
    "_backward_BatchNorm": [case(R(3, 2, 2), R(3, 2, 2), R(2, lo=0.5, hi=1.5), fix_gamma=False),
                            case(R(2, 3), R(2, 3), R(3), axis=-1, fix_gamma=True)],
    "LayerNorm": [case(R(2, 3, 4), R(4), R(4)), case(R(2, 3, 4), R(3), R(3), axis=1)],
    "InstanceNorm": [case(R(2, 3, 4), R(3), R(3))],
    "GroupNorm": [case(R(2, 4, 3), R(2), R(2), num_groups=2)],
    "softmax_cross_entropy": [case(R(3, 4), K([0, 3, 1]))],
    "_log_softmax_pick": [case(R(3, 4), K([0, 3, 1])), case(R(3, 4), K([[0], [5], [1]]), keepdims=True),
                          case(R(2, 3, 2), K([[0, 2], [1, 1]]), axis=1)],
    "_backward_log_softmax_pick": [case(R(3), R(3, 4)), case(R(3, 1), R(3, 4), keepdims=True),
                                   case(R(2, 2), R(2, 3, 2), axis=1)],
    "CTCLoss": [case(R(4, 2, 3), K([[1, 2], [1, 0]])),
                case(R(4, 2, 3), K([[2, 2], [1, 1]]), K([4, 3]), K([2, 1]), use_data_lengths=True,
                     use_label_lengths=True),
                case(R(3, 2, 4), K([[0, 2], [1, -1]]), blank_label="last")],
    "smooth_l1": [case(R(2, 3, lo=-3, hi=3), scalar=1.0), case(R(2, 3, lo=-3, hi=3), scalar=2.0)],
    # convolution and pooling (psnet/ops/conv.py, pooling.py)
    "Convolution": [case(R(1, 2, 4, 4), R(3, 2, 3, 3), R(3), kernel=(3, 3), num_filter=3),
                    case(R(2, 2, 5), R(2, 1, 2), kernel=(2,), num_filter=2, num_group=2, stride=(2,),
                         pad=(1,), no_bias=True),
                    case(R(1, 2, 5, 5), R(2, 2, 2, 2), R(2), kernel=(2, 2), num_filter=2, dilate=(2, 2),
                         stride=(2, 1))],
    "_backward_Convolution_data": [case(R(1, 3, 2, 2), K(np.zeros((1, 2, 4, 4))), R(3, 2, 3, 3), kernel=(3, 3)),
                                   case(R(1, 2, 3, 3), K(np.zeros((1, 4, 4, 5))), R(2, 2, 2, 2), kernel=(2, 2),
                                        stride=(2, 2), pad=(1, 1), num_group=2)],
    "_backward_Convolution_weight": [case(R(1, 3, 2, 2), R(1, 2, 4, 4), K(np.zeros((3, 2, 3, 3))), kernel=(3, 3)),
                                     case(R(1, 2, 3, 3), R(1, 4, 4, 5), K(np.zeros((2, 2, 2, 2))), kernel=(2, 2),
                                          stride=(2, 2), pad=(1, 1), num_group=2)],
    "Deconvolution": [case(R(1, 2, 3, 3), R(2, 3, 2, 2), kernel=(2, 2), num_filter=3),
                      case(R(1, 2, 3, 3), R(2, 1, 3, 3), R(1), kernel=(3, 3), num_filter=1, stride=(2, 2),
                           pad=(1, 1), no_bias=False)],
    "Pooling": [case(D(1, 2, 4, 4), kernel=(2, 2), stride=(2, 2), pool_type="max"),
                case(R(1, 2, 4, 4), kernel=(3, 3), pad=(1, 1), pool_type="avg"),
                case(R(1, 2, 4, 4), kernel=(2, 2), pool_type="sum"),
                case(D(1, 2, 3, 3), global_pool=True, pool_type="max"),
                case(R(1, 2, 5), kernel=(2,), stride=(2,), pool_type="avg", pooling_convention="full")],
    "LRN": [case(R(1, 4, 2, 2), nsize=3)],
    "UpSampling": [case(R(1, 2, 2, 2), scale=2, sample_type="nearest", num_args=1)],
    # recurrent layers and sequences (psnet/ops/rnn.py, sequence.py)
    "RNN": [case(R(3, 2, 3), R(56, lo=-0.5, hi=0.5), R(1, 2, 2), R(1, 2, 2), state_size=2, num_layers=1,
                 mode="lstm", state_outputs=True),
            case(R(3, 2, 3), R(180, lo=-0.5, hi=0.5), R(4, 2, 2), state_size=2, num_layers=2, mode="gru",
                 bidirectional=True, state_outputs=True),
            case(R(3, 2, 3), R(14, lo=-0.5, hi=0.5), R(1, 2, 2), state_size=2, num_layers=1,
                 mode="rnn_tanh"),
            case(R(3, 2, 3), R(56, lo=-0.5, hi=0.5), R(1, 2, 2), R(1, 2, 2), K([2, 3]), state_size=2,
                 num_layers=1, mode="lstm", use_sequence_length=True, state_outputs=True),
            case(R(3, 2, 3), R(180, lo=-0.5, hi=0.5), R(4, 2, 2), K([3, 1]), state_size=2, num_layers=2,
                 mode="gru", bidirectional=True, use_sequence_length=True, state_outputs=True),
            case(R(3, 2, 3), R(26, lo=-0.5, hi=0.5), R(2, 2, 2), state_size=2, num_layers=2,
                 mode="rnn_relu", p=0.5, state_outputs=True, train=True)],
    "_rnn_param_concat": [case(K(np.zeros((2, 1, 3))), R(8, 3), R(8, 2), R(8), R(8), num_args=5,
                               state_size=2, mode="lstm")],
    "ROIPooling": [case(D(2, 2, 5, 6), K([[0, 0, 0, 5, 4], [1, -2, 1, 3, 9], [1, 2, 2, 2, 2], [0, 3, 0, 40, 4]]),
                        pooled_size=(2, 3), spatial_scale=1.0),
                   case(D(1, 2, 6, 6), K([[0, 1, 1, 10, 10], [0, 4, 4, 8, 8]]), pooled_size=(3, 2),
                        spatial_scale=0.5)],
    "_backward_ROIPooling": [case(R(2, 1, 2, 2), K([[[[0, 5], [-1, 5]]], [[[11, 3], [-1, -1]]]], dtype="int64"),
                                  shape=(1, 1, 3, 4))],
    "L2Normalization": [case(R(2, 3, 4), mode="instance"), case(R(2, 3, 2, 2), mode="channel", eps=0.1),
                        case(R(2, 2, 2, 3), mode="spatial")],
    "Crop": [case(R(1, 2, 4, 5), num_args=1, h_w=(2, 3), offset=(1, 1)),
             case(R(1, 1, 4, 4), K(np.zeros((1, 1, 2, 3))), num_args=2, center_crop=True)],
    "im2col": [case(R(1, 2, 4, 4), kernel=(2, 2)),
               case(R(1, 1, 5, 4), kernel=(3, 2), stride=(2, 1), dilate=(1, 2), pad=(1, 1))],
    "col2im": [case(R(1, 8, 9), output_size=(4, 4), kernel=(2, 2)),
               case(R(1, 6, 12), output_size=(5, 4), kernel=(3, 2), stride=(2, 1), dilate=(1, 2), pad=(1, 1))],
    "linalg_extracttrian": [case(R(2, 3, 3)), case(R(4, 4), offset=1), case(R(3, 3), lower=False),
                            case(R(4, 4), offset=-2)],
    "linalg_maketrian": [case(R(2, 6)), case(R(3), offset=1), case(R(6), lower=False), case(R(3), offset=-2)],
    "linalg_gelqf": [case(R(2, 4)), case(R(2, 3, 3))],
    "GridGenerator": [case(R(2, 6), transform_type="affine", target_shape=(3, 4)),
                      case(R(2, 2, 3, 4), transform_type="warp")],
    "BilinearSampler": [case(R(2, 2, 4, 5), R(2, 2, 3, 3, lo=-1.2, hi=1.2))],
    "SpatialTransformer": [case(R(2, 2, 4, 5), R(2, 6), transform_type="affine", sampler_type="bilinear",
                                target_shape=(3, 3))],
    "_contrib_BilinearResize2D": [case(R(1, 2, 3, 4), height=5, width=3),
                                  case(R(1, 1, 4, 3), height=3, width=5, align_corners=False),
                                  case(R(1, 1, 3, 4), K(np.zeros((1, 1, 2, 6))), mode="like"),
                                  case(R(2, 1, 3, 3), scale_height=1.5, scale_width=0.7)],
    "_contrib_AdaptiveAvgPooling2D": [case(R(1, 2, 5, 4), output_size=(3, 2)), case(R(2, 1, 3, 3), output_size=2)],
    "_contrib_ROIAlign": [
        case(R(2, 2, 5, 6), K([[0, 0, 0, 4.2, 3.9], [1, -2, 1, 3, 9], [1, 2.3, 2.1, 2.2, 2.7], [0, 3, 0.5, 40, 4]]),
             pooled_size=(2, 3), spatial_scale=1.0),
        case(R(1, 2, 6, 6), K([[0, 1, 1.3, 10, 9], [0, 4, 4, 8.5, 8]]), pooled_size=(2, 2), spatial_scale=0.5,
             sample_ratio=2, aligned=True),
        case(R(2, 8, 4, 5), K([[1, 0.5, 0.2, 3.7, 3.1], [0, 1, 1, 2, 4]]), pooled_size=(2, 2), spatial_scale=1.0,
             position_sensitive=True)],
    "_contrib_box_nms": [case(D(1, 6, 6), overlap_thresh=0.3),
                         case(D(2, 5, 5), overlap_thresh=0.2, coord_start=1, score_index=0, topk=3)],
    "_contrib_boolean_mask": [case(R(3, 2), K([1, 0, 1])), case(R(4), K([0, 2, 0, -1]))],
    "_backward_contrib_boolean_mask": [case(R(2, 3), K([1, 0, 1]))],
    "_contrib_index_copy": [case(R(4, 2), K([2, 0]), R(2, 2)), case(R(3), K([1], dtype="int64"), R(1))],
    "_contrib_arange_like": [case(R(2, 3), start=1.0, step=0.5), case(R(2, 3), axis=1, repeat=2)],
    "_contrib_div_sqrt_dim": [case(R(2, 5))],
    "_contrib_quadratic": [case(R(2, 3), a=1.5, b=-2.0, c=0.5), case(R(4), b=3.0)],
    "_random_pdf_uniform": [case(R(2, 3), R(2, lo=-2, hi=-1), R(2, lo=1, hi=2)),
                            case(R(2, 3), R(2, lo=-2, hi=-1), R(2, lo=1, hi=2), is_log=True)],
    "_random_pdf_normal": [case(R(2, 3), R(2), R(2, lo=0.5, hi=2)),
                           case(R(2, 2, 2), R(2, 2), R(2, 2, lo=0.5, hi=2), is_log=True)],
    "_random_pdf_gamma": [case(R(2, 3, lo=0.3, hi=3), R(2, lo=0.5, hi=3), R(2, lo=0.5, hi=2)),
                          case(R(2, 3, lo=0.3, hi=3), R(2, lo=0.5, hi=3), R(2, lo=0.5, hi=2), is_log=True)],
    "_random_pdf_exponential": [case(R(2, 3, lo=0, hi=2), R(2, lo=0.5, hi=2)),
                                case(R(2, 3, lo=0, hi=2), R(2, lo=0.5, hi=2), is_log=True)],
    "_random_pdf_poisson": [case(K([[0, 1, 3], [2, 0, 5]]), R(2, lo=0.5, hi=4)),
                            case(K([[0, 1, 3], [2, 0, 5]]), R(2, lo=0.5, hi=4), is_log=True)],
    "_random_pdf_negative_binomial": [
        case(K([[0, 1, 3], [2, 0, 5]]), R(2, lo=0.5, hi=4), R(2, lo=0.2, hi=0.8)),
        case(K([[0, 1, 3], [2, 0, 5]]), R(2, lo=0.5, hi=4), R(2, lo=0.2, hi=0.8), is_log=True)],
    "_random_pdf_generalized_negative_binomial": [
        case(K([[0, 1, 3], [2, 0, 5]]), R(2, lo=0.5, hi=4), R(2, lo=0.2, hi=2)),
        case(K([[0, 1, 3], [2, 0, 5]]), R(2, lo=0.5, hi=4), R(2, lo=0.2, hi=2), is_log=True)],
    "_random_pdf_dirichlet": [case(R(2, 2, 3, lo=0.1, hi=1), R(2, 3, lo=0.5, hi=3)),
                              case(R(2, 3, lo=0.1, hi=1), R(3, lo=0.5, hi=3), is_log=True)],
    "SequenceMask": [case(R(3, 2, 2), K([1, 3]), use_sequence_length=True, value=-1.0),
                     case(R(2, 3), K([2, 0]), use_sequence_length=True, axis=1)],
    "SequenceLast": [case(R(3, 2, 2), K([1, 3]), use_sequence_length=True), case(R(3, 2))],
    "SequenceReverse": [case(R(3, 2, 2), K([2, 3]), use_sequence_length=True), case(R(3, 2))],
}

SKIP = {
    "_contrib_box_iou": "MXNet 1.9.1 defines its gradient as zero (tested in tests/ops/test_contrib_ops.py)",
    "MakeLoss": "loss head: backward ignores the head gradient (tested in tests/ops/test_legacy_ops.py)",
    "SVMOutput": "loss head: backward ignores the head gradient (tested in tests/ops/test_legacy_ops.py)",
    "BlockGrad": "stops the gradient by design (its gradient is zero, its forward is the identity)",
    "SoftmaxOutput": "loss head: backward ignores the head gradient (tested in tests/ndarray/test_nn_ops.py)",
    "LinearRegressionOutput": "loss head: backward ignores the head gradient (tested in test_nn_ops.py)",
    "LogisticRegressionOutput": "loss head: backward ignores the head gradient (tested in test_nn_ops.py)",
    "MAERegressionOutput": "loss head: backward ignores the head gradient (tested in test_nn_ops.py)",
    "Custom": "user-defined Python operators; their gradient is the user's (tests/operator)",
    "_arange": "creation op without array inputs: nothing to differentiate",
    "_full": "creation op without array inputs: nothing to differentiate",
    "_ones": "creation op without array inputs: nothing to differentiate",
    "_zeros": "creation op without array inputs: nothing to differentiate",
}
del GRAD_CASES["BlockGrad"]

EPS = 1e-6


def _canonical_ops():
    """Each registered Op once (aliases folded), sorted by name."""
    ops = {}
    for name in registry.list_ops():
        op = registry.get(name)
        ops[op.name] = op
    return [ops[k] for k in sorted(ops)]


def _differentiable():
    return [op for op in _canonical_ops() if op.grad is not None]


def test_every_differentiable_op_has_a_gradient_case():
    """Adding an op with a gradient means adding its sample inputs to GRAD_CASES (or a reason to SKIP)."""
    missing = [op.name for op in _differentiable() if op.name not in GRAD_CASES and op.name not in SKIP]
    assert not missing, ("differentiable ops without an entry in tests/ops/test_gradients.py GRAD_CASES "
                         "(add sample inputs, see the module docstring): %s" % ", ".join(missing))
    stale = [n for n in list(GRAD_CASES) + list(SKIP) if n not in {op.name for op in _canonical_ops()}]
    assert not stale, "GRAD_CASES/SKIP name ops that are not registered (renamed?): %s" % ", ".join(stale)


def _visible(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _evaluate(op, values, attrs, train, marked=()):
    """Run ``op`` on fresh copies of ``values`` (recording when ``marked`` names inputs to
    differentiate); returns (input NDArrays, visible outputs)."""
    mx.random.seed(1234)
    inputs = [mx.nd.array(v, dtype=v.dtype) for v in values]
    for k in marked:
        inputs[k].attach_grad()
    if marked:
        scope = mx.autograd.record(train_mode=train)
    else:
        scope = mx.autograd.train_mode() if train else mx.autograd.predict_mode()
    with scope:
        outs = _visible(getattr(mx.nd, op.name)(*inputs, **attrs))
    return inputs, outs


def _loss(outs, weights):
    return sum(float((o.asnumpy() * w).sum()) for o, w in zip(outs, weights))


def _transposed_positions(shape):
    """For each flat position of an array of ``shape``, the flat position of the entry with
    its last two indices swapped (the mirror entry of a stack of square matrices)."""
    idx = np.arange(int(np.prod(shape))).reshape(shape)
    return np.swapaxes(idx, -1, -2).reshape(-1)


def _check_case(op, c, rs):
    values = [spec.make(rs) for spec in c["inputs"]]
    attrs, train = c["attrs"], c["train"]
    n_args = len(values) - len(op.aux)
    wrt = [k for k, spec in enumerate(c["inputs"]) if not isinstance(spec, K) and k < n_args]
    inputs, outs = _evaluate(op, values, attrs, train, marked=wrt)
    weights = [rs.uniform(0.5, 1.5, o.shape) for o in outs]
    mx.autograd.backward(outs, [mx.nd.array(w, dtype=o.dtype) for o, w in zip(outs, weights)],
                         train_mode=train)
    for k in wrt:
        numeric = np.zeros_like(values[k])
        flat, nflat = values[k].reshape(-1), numeric.reshape(-1)
        partner = _transposed_positions(values[k].shape) if getattr(c["inputs"][k], "symmetric", False) \
            else np.arange(flat.size)
        for j in range(flat.size):
            # a symmetric input moves entries j and partner[j] together, half the step each
            moved = [j] if partner[j] == j else [j, partner[j]]
            step = EPS / len(moved)
            old = flat[moved].copy()
            flat[moved] = old + step
            fp = _loss(_evaluate(op, values, attrs, train)[1], weights)
            flat[moved] = old - step
            fm = _loss(_evaluate(op, values, attrs, train)[1], weights)
            flat[moved] = old
            nflat[j] = (fp - fm) / (2 * EPS)
        np.testing.assert_allclose(inputs[k].grad.asnumpy(), numeric, rtol=1e-4, atol=1e-6,
                                   err_msg="%s: gradient of input %d (%s), attrs %s, train=%s"
                                   % (op.name, k, op.input_names(attrs)[k], attrs, train))


@pytest.mark.parametrize("op", _differentiable(), ids=lambda op: op.name)
def test_gradient_matches_finite_differences(op):
    """The op's gradient equals central differences of its forward for each sample case."""
    if op.name in SKIP:
        pytest.skip(SKIP[op.name])
    if op.name not in GRAD_CASES:
        pytest.fail("no GRAD_CASES entry for %s (see the module docstring)" % op.name)
    rs = np.random.RandomState(0)
    for c in GRAD_CASES[op.name]:
        _check_case(op, c, rs)
