"""``gluon.model_zoo``: predefined networks (``vision``) and pretrained-weight storage (``model_store``)."""
from . import model_store, vision  # noqa: F401
from .vision import get_model  # noqa: F401
