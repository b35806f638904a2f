"""Classes registered by name: the one helper behind ``mx.init``, ``mx.metric``,
``mx.optimizer`` and ``mx.kv`` registration (``@register``, ``@alias``, ``create(name)``)."""
import warnings

from .base import MXKeyError, MXNetError

__all__ = ["Registry"]


class Registry(dict):
    """A ``dict`` of lower-cased name -> class for one kind of object (``'initializer'``,
    ``'metric'``...).  ``base``, when given, is the class every registered class must
    derive from; ``error`` is the :class:`MXKeyError` subclass :meth:`find` raises."""

    def __init__(self, kind, base=None, error=MXKeyError):
        super().__init__()
        self.kind = kind
        self.base = base
        self.error = error

    def register(self, klass, name=None):
        """Register ``klass`` under ``name`` (default: its lower-cased class name); returns
        ``klass`` so this works as a class decorator.  Re-registering a name with another
        class warns and replaces it."""
        if not isinstance(klass, type) or (self.base is not None and not issubclass(klass, self.base)):
            raise MXNetError("cannot register %r as a %s: expected a %s subclass"
                             % (klass, self.kind, (self.base or type).__name__))
        key = (name or klass.__name__).lower()
        old = super().get(key)
        if old is not None and old is not klass:
            warnings.warn("%s %s.%s overrides the registered %s.%s under the name %r"
                          % (self.kind, klass.__module__, klass.__name__, old.__module__,
                             old.__name__, key), stacklevel=2)
        self[key] = klass
        return klass

    def alias(self, *names):
        """A class decorator registering the class under each of ``names`` as well."""
        def decorate(klass):
            for name in names:
                self.register(klass, name)
            return klass
        return decorate

    def find(self, name):
        """The class registered as ``name`` (case-insensitive); raises ``self.error``
        naming the known names when there is none."""
        klass = super().get(str(name).lower())
        if klass is None:
            raise self.error("unknown %s %r; registered: %s" % (self.kind, name, ", ".join(sorted(self)) or "none"))
        return klass
