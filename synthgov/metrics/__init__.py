"""The metric families of `synthgov evaluate` (BRIEF §8), pure functions over encoded tables.

Every family takes the `Tables` of `synthgov.metrics.encoding` (the card decides each
column's kind; values are encoded once) and a `Context` (seeded random streams, sample
sizes), and returns `Measurement`s. No file or network I/O happens here; numpy, pandas
and scikit-learn are imported at module level, so only `evaluate` imports this package.
"""
