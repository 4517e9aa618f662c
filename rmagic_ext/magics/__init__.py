"""The IPython magics of rmagic_ext."""

from .rmagics import RMagics

__all__ = ["RMagics"]
