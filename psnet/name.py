"""``mx.name``: automatic operator names of symbols (``NameManager``, ``Prefix``)."""
from .symbol.graph import NameManager, Prefix, current_name_manager

__all__ = ["NameManager", "Prefix", "current_name_manager"]
