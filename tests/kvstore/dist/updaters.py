"""Server-side updaters the dist tests load by name (``--updater`` / PSNET_SERVER_UPDATERS)."""


def add_half(key, received, stored):
    """stored += received / 2 (in place)."""
    stored[:] = stored + received * 0.5
