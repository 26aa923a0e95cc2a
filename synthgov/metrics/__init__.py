"""The metric families of `synthgov evaluate` (BRIEF §8), pure functions over encoded tables.

Every family takes the `Tables` of `synthgov.metrics.encoding` (the card decides each
column's kind; values are encoded once) and a `Context` (seeded random streams, sample
sizes), and returns `Measurement`s. No file or network I/O happens here; numpy, pandas
and scikit-learn are imported at module level, so only the commands that measure tables
import the families.

Beside them: `evaluation` (reading the tables and running the families into a report),
`progress` (the same run shown at a terminal), `tables` (CSV and Parquet, bound to their
sha256), `aggregates` (the report's chart counts), and the pure modules the gate and the
report page read reports with, `metric_ids` (the report contract's ids), `intervals`
(confidence intervals from recorded statistics) and `cells` (the small-cell control),
which import neither numpy nor pandas.
"""
