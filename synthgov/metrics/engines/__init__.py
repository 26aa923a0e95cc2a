"""Distributed engines for `evaluate` (`synthgov.metrics.engine` is the interface); each is
imported only when asked for, so the CLI never loads a cluster library it does not use."""
