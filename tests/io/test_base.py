"""mx.io protocol: DataDesc, DataBatch, user-written DataIter subclasses."""
import numpy as np
import pytest

import psnet as mx


def test_data_desc_is_a_name_shape_tuple():
    d = mx.io.DataDesc("x", (1, 2))
    name, shape = d
    assert (name, shape) == ("x", (1, 2)) and d.dtype is np.float32 and d.layout == "NCHW"
    assert repr(d) == "DataDesc[x,(1, 2),<class 'numpy.float32'>,NCHW]"
    assert mx.io.DataDesc.get_batch_axis("TNC") == 1 and mx.io.DataDesc.get_batch_axis(None) == 0
    descs = mx.io.DataDesc.get_list([("a", (2,)), ("b", (3,))], [("a", np.int32), ("b", np.float64)])
    assert [(x.name, x.dtype) for x in descs] == [("a", np.int32), ("b", np.float64)]


def test_data_batch_str_and_validation():
    b = mx.io.DataBatch([mx.nd.zeros((4, 2))], [mx.nd.zeros((4,))], pad=1)
    assert str(b) == "DataBatch: data shapes: [(4, 2)] label shapes: [(4,)]" and b.pad == 1
    with pytest.raises(mx.MXNetError, match="list of NDArrays"):
        mx.io.DataBatch(mx.nd.zeros((1,)))


class _Countdown(mx.io.DataIter):
    """A user iterator in the MXNet tutorial style: implements iter_next/getdata/getlabel/getpad."""

    def __init__(self, n):
        super().__init__(batch_size=2)
        self.n, self.i = n, 0

    def reset(self):
        self.i = 0

    def iter_next(self):
        self.i += 1
        return self.i <= self.n

    def getdata(self):
        return [mx.nd.full((2, 1), self.i)]

    def getlabel(self):
        return [mx.nd.zeros((2,))]

    def getpad(self):
        return 0


def test_user_iterator_protocol_and_resize():
    it = _Countdown(3)
    assert iter(it) is it
    assert [int(b.data[0].asnumpy()[0, 0]) for b in it] == [1, 2, 3]
    it.reset()
    assert next(it).data[0].asnumpy()[0, 0] == 1 and it.next().pad == 0
    it.provide_data = [mx.io.DataDesc("data", (2, 1))]
    it.provide_label = [mx.io.DataDesc("softmax_label", (2,))]
    it.reset()
    resized = mx.io.ResizeIter(it, 5)
    assert [int(b.data[0].asnumpy()[0, 0]) for b in resized] == [1, 2, 3, 1, 2]
    resized.reset()
    assert len(list(resized)) == 5
