"""``mx.mod``: the classic symbolic training API (Module and its training loop)."""
from .base_module import BaseModule
from .module import Module

__all__ = ["BaseModule", "Module"]
