"""The decision pipeline: what `check`, `audit`, `status` and the predictions of `release
new` and `revalidate` all judge with.

The trust root (`trust`) is read from the base side, the release contexts (`contexts`)
from both sides (`sides`), and the gates judge each context; `decide` runs them over every
release and governance change of a pull request, failing closed.
"""
