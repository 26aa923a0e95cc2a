"""The builders the tests share, typed; test modules import from here, never from each other.

- `samples`: minimal valid governance documents, the passing metrics, report texts.
- `signing`: real reviewer keys (ssh-keygen) and approvals signed over their payload.
- `ledgers`: real hash-chained privacy-budget ledgers.
- `tables`: tiny typed tables for the metric tests.
- `loaded`: a loaded governance file narrowed to the kind a test knows it is.
- `git`: real git in a folder: commits (plain or signed), merges, revisions.
- `repos`: governance repositories: the base, a release, its approvals.
- `releases`: releases of claims over time (approved, revoked, revalidated): a history.
- `cli`: the CLI in process: the `synthgov` fixture's type, `check`, `audit`, `approve`.
"""

from __future__ import annotations

from pathlib import Path

#: The project's root folder (the parent of tests/).
ROOT = Path(__file__).resolve().parent.parent.parent
