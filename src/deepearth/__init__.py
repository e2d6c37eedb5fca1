"""deepearth: from first-principles data to error-barred properties of Earth's deep interior."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("deepearth")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+unknown"


def load_potential(path):
    """An ASE calculator for a trained model file (see :func:`deepearth.potentials.registry.load_potential`)."""
    from deepearth.potentials import registry

    return registry.load_potential(path)


__all__ = ["__version__", "load_potential"]
