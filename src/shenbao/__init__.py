"""Shenbao (申报): project calls of associations for science and technology, end to end."""

__version__ = "0.1.0"
