"""Op attributes as MXNet writes them: tuples may arrive as ints, lists or the strings a
Symbol's JSON holds (``'(2, 3)'``)."""
import numbers

from ..base import MXNetError

__all__ = ["int_tuple"]


def int_tuple(op, name, value):
    """Attribute ``name`` of ``op`` (an int, a tuple/list or MXNet's string ``'(2, 3)'``) as
    a tuple of ints; anything else is an error naming the op and the attribute."""
    items = value
    if isinstance(items, str):
        items = [t for t in items.strip("()[] ").split(",") if t.strip()]
    elif isinstance(items, numbers.Number):
        items = (items,)
    try:
        return tuple(int(t) for t in items)
    except (TypeError, ValueError):
        raise MXNetError("%s: attribute %s=%r is not a tuple of integers" % (op, name, value)) from None
