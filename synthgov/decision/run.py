"""One run of the gate, as `check` makes it: a pull request, the working tree, or the
scheduled revalidation of main, decided into one `Verdict`.

The trust root is the base commit (BRIEF §10.4): its policy and registry decide, and the
changed files are `git diff merge-base(base, head)..head`. With --no-git the working tree
is both sides and every release in it is decided; the scheduled run judges HEAD's current
releases against their revalidation schedule, judged as `status` judges them (at their
merge, `decision/schedule.py`). A base whose policy or registry cannot be
loaded prevents a decision (`InputError`, exit 2).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from synthgov.decision.decide import RunResult, decide
from synthgov.decision.findings import RuleInfo, Verdict
from synthgov.decision.sides import Tree, commit_tree, git_sides, release_of, working_tree
from synthgov.decision.trust import Trust, make_trust
from synthgov.errors import InputError
from synthgov.files import layout
from synthgov.git.history import Repository
from synthgov.models import Policy

if TYPE_CHECKING:
    from synthgov.decision.status import StatusView


def _verdict(
    sides: tuple[str, str],
    decision: RunResult,
    changes: list[tuple[str, str]],
    trust: Trust,
    now: datetime,
    scheduled: bool = False,
) -> Verdict:
    governed = [path for path, _ in changes if layout.is_governed(path)]
    notes = () if governed or scheduled else ("no governance file changed: nothing to check",)
    return Verdict(
        base=sides[0],
        head=sides[1],
        releases=tuple(decision.results),
        findings=tuple(decision.findings),
        rules_evaluated=len(trust.policy.model.rules) * len(decision.results),
        evaluated_at=now,
        notes=notes,
        rules=_rules(trust),
    )


def _rules(trust: Trust) -> tuple[RuleInfo, ...]:
    """The base policy's rules as the outputs describe them (description, fix, where set)."""
    found = []
    for rule_id, rule in trust.policy.model.rules.items():
        where = trust.policy.document.locate(("rules", rule_id), key=True)
        found.append(RuleInfo(rule_id, rule.description, rule.fix, where.path, where.line))
    return tuple(found)


def _scheduled(tree: Tree, view: StatusView, now: datetime, enforce: bool) -> Verdict:
    """The scheduled run on HEAD's files, from the view `status` shows of them."""
    from synthgov.decision import schedule

    trust = make_trust(tree, "the checked-out", now, None, enforce)
    decision = RunResult(schedule.overdue(view, tree, now), schedule.expiring(view))
    return _verdict(("", ""), decision, [], trust, now, scheduled=True)


def check(
    root: Path,
    *,
    base: str | None,
    now: datetime,
    no_git: bool = False,
    enforce: bool = True,
    scheduled: bool = False,
    pr_author: str | None = None,
) -> Verdict:
    """The gate's verdict on `root` (`now`: the checker's clock, read once by the caller).

    Raises:
        InputError: the base's policy or registry cannot be loaded.
        GitError: not a Git repository, or an unknown base.
    """
    if scheduled:  # judged as `status` judges (replaying merges): imported only here
        from synthgov.decision import status

        if no_git:
            tree = working_tree(root)
            return _scheduled(tree, status.collect_tree(tree, now, enforce=enforce), now, enforce)
        view = status.collect(root, None, now, enforce=enforce, reports=False)  # HEAD's files
        with Repository.open(root) as repo:
            return _scheduled(commit_tree(repo, view.head), view, now, enforce)
    if no_git:
        tree = working_tree(root)
        trust = make_trust(tree, "the working tree's", now, None, enforce)
        trust = replace(trust, pr_author=pr_author)
        changes = [(p, "M") for p in tree.list("datasets") if release_of(p)]
        with trust.verifier:
            decision = decide(changes, trust, tree, None)
        return _verdict(("", ""), decision, changes, trust, now)
    with Repository.open(root) as repo:
        sides = git_sides(repo, base)
        where = f"the base commit {sides.base[:12]}'s"
        trust = make_trust(sides.base_tree, where, now, sides.provenance, enforce)
        trust = replace(trust, pr_author=pr_author)
        with trust.verifier:
            decision = decide(sides.changes, trust, sides.head_tree, sides.base_tree)
            if any(p == layout.POLICY and status != "D" for p, status in sides.changes):
                try:
                    proposed = sides.head_tree.load(layout.POLICY, Policy)
                except InputError:
                    pass  # already a files finding
                else:
                    from synthgov.decision.impact import policy_impact  # a policy change only

                    decision.findings.extend(policy_impact(proposed, trust, sides.base_tree))
    return _verdict((sides.base, sides.head), decision, sides.changes, trust, now)
