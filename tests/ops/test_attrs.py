"""Tuple attributes in the forms MXNet passes them: ints, tuples/lists, JSON strings."""
import numpy as np
import pytest

from psnet.base import MXNetError
from psnet.ops.attrs import int_tuple


@pytest.mark.parametrize("value, want", [(3, (3,)), (np.int64(2), (2,)), ((7, 7), (7, 7)), ([1, 2, 3], (1, 2, 3)),
                                         ("(2, 3)", (2, 3)), ("[4]", (4,)), ("()", ()), ("(5,)", (5,))])
def test_int_tuple_reads_every_form(value, want):
    assert int_tuple("ROIPooling", "pooled_size", value) == want


def test_int_tuple_names_the_op_and_attribute():
    with pytest.raises(MXNetError, match=r"ROIPooling: attribute pooled_size='\(a, b\)' is not a tuple of integers"):
        int_tuple("ROIPooling", "pooled_size", "(a, b)")
