"""smartlap: a terminal songwriting studio for Dutch smartlappen and levensliederen."""

__version__ = "0.1.0"
