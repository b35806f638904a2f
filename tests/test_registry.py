"""psnet.registry.Registry: the name -> class table behind mx.init/metric/optimizer/kv registration."""
import warnings

import pytest

import psnet as mx
from psnet.base import MXKeyError, MXNetError
from psnet.registry import Registry


class _Base:
    pass


def test_register_alias_find_case_insensitive():
    reg = Registry("widget", base=_Base)

    @reg.alias("w", "Gadget")
    @reg.register
    class Widget(_Base):
        pass

    assert reg.find("WIDGET") is Widget and reg.find("gadget") is Widget and reg.find("w") is Widget
    assert sorted(reg) == ["gadget", "w", "widget"]
    with pytest.raises(MXKeyError, match=r"unknown widget 'nope'; registered: gadget, w, widget"):
        reg.find("nope")


def test_register_rejects_non_subclasses_and_warns_on_override():
    reg = Registry("widget", base=_Base)
    with pytest.raises(MXNetError, match="expected a _Base subclass"):
        reg.register(int)
    with pytest.raises(MXNetError, match="as a widget"):
        reg.register(lambda: None)

    class A(_Base):
        pass

    class B(_Base):
        pass

    reg.register(A, "x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg.register(A, "x")          # the same class again: silent
    with pytest.warns(UserWarning, match="overrides the registered"):
        reg.register(B, "x")
    assert reg.find("x") is B


def test_the_four_registries_report_unknown_names():
    with pytest.raises(ValueError, match="unknown optimizer 'nope'"):   # MXNet raises ValueError
        mx.optimizer.create("nope")
    with pytest.raises(KeyError, match="unknown metric 'nope'"):
        mx.metric.create("nope")
    with pytest.raises(KeyError, match="unknown initializer 'nope'"):
        mx.init.create("nope")
    with pytest.raises(MXNetError, match="KVStoreBase subclass"):
        mx.kv.KVStoreBase.register(int)
