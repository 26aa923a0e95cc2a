"""The approval evidence of one subject, gathered from the head side and the history.

What `synthgov.decision.review` judges a subject's approvals on: every approval file under its
folder at head (with a lazy lookup of the signed commits that carry it), the earlier
versions of those files (a reject removed or overwritten still stands), and who authored
the subject. With --no-git there is no history: embedded signatures only.
"""

from __future__ import annotations

from contextlib import suppress
from functools import partial

from synthgov.decision.review import Evidence, Filed
from synthgov.decision.sides import Tree, kind_of, parsed
from synthgov.decision.trust import Trust
from synthgov.errors import InputError
from synthgov.files import governance
from synthgov.files.loading import Loaded
from synthgov.models import Approval


def filed(paths: list[str], head: Tree, trust: Trust) -> tuple[tuple[Filed, ...], dict[str, bytes]]:
    """The approval files among `paths` at head, each with its commit carriers' lookup,
    and their bytes by path.

    Raises:
        InputError: an approval file does not load.
    """
    found, current = [], {}
    provenance = trust.provenance
    for path in paths:
        if kind_of(path) != "approval":
            continue
        raw = head.read(path)
        assert raw is not None  # listed a moment ago
        current[path] = raw
        loaded: Loaded[Approval] = parsed(raw, path, Approval)  # the gates parsed it too
        reviewer = trust.registry.reviewer(loaded.model.reviewer)
        if provenance is not None and reviewer is not None:
            carriers = partial(provenance.carriers, path, raw, reviewer.email)
            found.append(Filed(loaded, carriers))
        else:
            found.append(Filed(loaded))
    return tuple(found), current


def approval_evidence(
    folder: str,
    head: Tree,
    trust: Trust,
    author_prefixes: tuple[str, ...],
    author_emails: frozenset[str] = frozenset(),
) -> Evidence:
    """Every approval file under `folder` at head, the earlier versions of those files,
    and the authors (the commits that touched `author_prefixes`, and `author_emails`).

    Raises:
        InputError: an approval file at head does not load.
    """
    files, current = filed(head.list(folder), head, trust)
    provenance = trust.provenance
    past: list[Loaded[Approval]] = []
    history: tuple[bytes, ...] = ()
    if provenance is not None:
        for path, raw in provenance.past_approvals(folder, current):
            with suppress(InputError):  # an old malformed version decided nothing
                past.append(governance.load_bytes(raw, path, Approval))
        history = provenance.author_commits(*author_prefixes)
    logins = frozenset({trust.pr_author.casefold()} if trust.pr_author else ())
    return Evidence(
        trust.registry,
        trust.verifier,
        files,
        author_emails,
        history,
        trust.enforce_approvals,
        tuple(past),
        logins,
        provenance is not None,
    )
