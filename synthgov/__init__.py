"""synthgov: synthetic-data releases as governed artifacts in Git."""

__version__ = "0.1.0"
