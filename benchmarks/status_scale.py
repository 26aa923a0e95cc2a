"""Benchmark: `synthgov status` as the repository grows.

`status` (and the catalog, and `check --scheduled`) judge each merged release as the audit
does, at the first-parent commit that merged it: one replayed decision per merge commit.
This measures what that costs against the number of releases, on two shapes of history,
built from the documents of benchmarks/check_scale.py (the default policy, N/10 dataset
cards, N valid releases with their ledger debits; no approvals, so each decision is a
complete run of every gate that ends in `approvals.missing`):

- `root`: check_scale.py's repository as it is (every release in the commit that sets up
  the policy, on `main`; HEAD is `pr`, which adds one approved release);
- `merged`: the policy and cards first, then one commit per release on `main` (as a squash
  merge leaves it; built with `git fast-import`), HEAD = main: N decisions to replay.

For each size and shape it runs the console script `synthgov status --format json` with
the interpreter given by --python (default: this one) and PYTHONPATH=--source (default:
this checkout), round-robin, and reports the best wall and CPU time (user + system, git
children included) and peak resident memory (of the process or its largest git child) of
--runs runs; the CPU time is what load from elsewhere distorts least.
Compare two versions of synthgov by running it twice with two --source checkouts: the same
--seed-dir reuses the repositories.

    .venv/bin/python benchmarks/status_scale.py [--sizes 100,1000] [--shapes root,merged]
        [--runs 3] [--source DIR] [--seed-dir DIR] [--no-warm-up]

No pytest, no network; needs git. Results are recorded in docs/benchmarks.md ("status").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: this checkout's synthgov builds the repositories (its policy template), whatever the
#: venv installs; the runs use --source
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_scale  # the repository's documents and builder

#: Each commit of the `merged` shape claims a minute after the previous one, from this
#: instant on (after the manifests' created_at, before any real clock running this).
START = 1788480000  # 2026-09-04T00:00:00Z


def _blob(text: str) -> bytes:
    data = text.encode()
    return b"data %d\n%s\n" % (len(data), data)


def build_merged(root: Path, releases: int, env: dict[str, str]) -> None:
    """`main`: the policy, registry and cards, then one commit per release (its manifest,
    report and ledger debit), fed to `git fast-import`; packed."""
    datasets = max(1, releases // check_scale.RELEASES_PER_DATASET)
    root.mkdir(parents=True)
    check_scale.git(root, env, "init", "-q", "-b", "main")
    keys = root.parent / f"{root.name}-keys"
    keys.mkdir()
    ada = check_scale.signing.make_person(keys, "ada", "privacy-reviewer")
    chen = check_scale.signing.make_person(keys, "chen", "data-owner")
    base = {
        "policy/policy.yaml": check_scale.POLICY,
        "policy/reviewers.yaml": check_scale.signing.registry_yaml(ada, chen),
    }
    card_shas = {}
    for d in range(datasets):
        dataset = f"ds-{d:04d}"
        card = check_scale.CARD.format(dataset=dataset)
        base[f"datasets/{dataset}/card.yaml"] = card
        card_shas[dataset] = hashlib.sha256(card.encode()).hexdigest()
    stream = bytearray()

    def commit(files: dict[str, str], message: str, when: int) -> None:
        who = f"Bench Author <bench@example.org> {when} +0000"
        stream.extend(f"commit refs/heads/main\nauthor {who}\ncommitter {who}\n".encode())
        stream.extend(_blob(message))
        for path, text in files.items():
            stream.extend(f"M 100644 inline {path}\n".encode())
            stream.extend(_blob(text))
        stream.extend(b"\n")

    commit(base, "policy, reviewers and cards", START)
    versions: dict[str, list[str]] = {dataset: [] for dataset in card_shas}
    for r in range(releases):
        dataset = f"ds-{r % datasets:04d}"
        version = f"1.{r // datasets}"
        versions[dataset].append(version)
        files = check_scale.release_files(dataset, version, card_shas[dataset])
        files[f"budgets/{dataset}-db.yaml"] = check_scale.ledger(dataset, versions[dataset])
        commit(files, f"release {dataset}@{version}", START + 60 * (r + 1))
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=root, env=env, input=bytes(stream), check=True
    )
    check_scale.git(root, env, "reset", "-q", "--hard", "main")
    check_scale.git(root, env, "gc", "--quiet")


def build(shape: str, root: Path, releases: int, env: dict[str, str]) -> None:
    if shape == "root":
        check_scale.build(root, releases, env)
    else:
        build_merged(root, releases, env)


def time_status(repo: Path, env: dict[str, str], python: str) -> tuple[float, float, int, int]:
    """One `synthgov status --format json`: (wall s, CPU s incl. git children, peak resident
    bytes of the process or a git child, releases), from `wait4` of this one run."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [python, "-m", "synthgov", "status", "--format", "json"],
            cwd=repo,
            env=env,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"status exited {proc.returncode} on {repo}: {err.read()[-2000:]!r}")
        out.seek(0)
        shown = len(json.loads(out.read())["releases"])
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss * 1024, shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="100,1000", help="release counts, comma-separated")
    parser.add_argument("--shapes", default="root,merged", help="root, merged or both")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per repository")
    parser.add_argument("--python", default=sys.executable, help="the interpreter to run")
    parser.add_argument(
        "--source",
        default=str(Path(__file__).resolve().parent.parent),
        help="the synthgov checkout to run (PYTHONPATH)",
    )
    parser.add_argument("--seed-dir", help="build the repositories here once, and reuse them")
    parser.add_argument(
        "--no-warm-up", action="store_true", help="no untimed first run (bytecode already cached)"
    )
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    shapes = args.shapes.split(",")
    where = Path(args.seed_dir or tempfile.mkdtemp(prefix="synthgov-status-bench-"))
    where.mkdir(parents=True, exist_ok=True)
    env = check_scale.git_env(where / "home")
    (where / "home").mkdir(exist_ok=True)
    env["PYTHONPATH"] = args.source
    print(
        f"source {args.source} · {os.cpu_count()} CPUs · load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    repos = {}
    for shape in shapes:
        for size in sizes:
            repo = where / f"{shape}-{size}"
            if not repo.exists():
                started = time.perf_counter()
                build(shape, repo, size, env)
                print(
                    f"  built {shape}-{size} in {time.perf_counter() - started:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
            if not args.no_warm_up:
                time_status(repo, env, args.python)  # untimed: bytecode, page cache
            repos[(shape, size)] = repo
    best: dict[tuple[str, int], tuple[float, float, int, int]] = {}
    for _ in range(args.runs):  # round-robin: outside load falls on every repository alike
        for key, repo in repos.items():
            wall, cpu, rss, count = time_status(repo, env, args.python)
            old = best.get(key, (float("inf"), float("inf"), rss, count))
            best[key] = (min(old[0], wall), min(old[1], cpu), min(old[2], rss), count)
    print(
        f"\n{'shape':<7} {'releases':>8} {'shown':>6} {'wall best (s)':>13} {'CPU best (s)':>12}"
        f" {'peak RSS (MiB)':>14}"
    )
    for (shape, size), (wall, cpu, rss, count) in best.items():
        print(f"{shape:<7} {size:>8} {count:>6} {wall:>13.2f} {cpu:>12.2f} {rss / 2**20:>14.0f}")
    print(f"best of {args.runs}; load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
