"""Benchmark: `synthgov audit` over a long first-parent history (BRIEF §7).

Target (BRIEF §7, issue 19): 10,000 commits with 1,000 releases replayed in at most 5 s,
growing linearly; `audit --since` a checkpoint re-judges only the commits after it.

For each size N this writes, with one `git fast-import`, a real governance
repository whose `main` has N first-parent commits: the first sets up the default policy,
a registry of two reviewers, N/100 dataset cards and their empty ledgers; then every
tenth commit is a squash-merged release (manifest, report with the passing metric set,
two approvals signed with real ssh-keygen keys, and the chained debit in its ledger), and
the nine between change a file outside the governance folders. It then times
`synthgov audit`, each run in a fresh process (best and median of --runs, wall and CPU of
the audit, imports aside) and checks that
the history is clean (every release re-decided as passing). Then, on the largest size, it
signs a checkpoint of main~100 (a full audit there, by a registered auditor) and times
`synthgov audit --since` that checkpoint (100 commits to judge).

    .venv/bin/python benchmarks/audit_scale.py [--sizes 1000,5000,10000] [--runs 3]
        [--since-back 100] [--profile]

No pytest, no network; needs git and ssh-keygen. Results are in docs/benchmarks.md ("Audit").
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import io
import json
import os
import pstats
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from check_scale import CARD, POLICY, git_env, ledger, release_files

from synthgov.cli import main as synthgov_main
from synthgov.decision import digests
from synthgov.files.loading import parse_document
from tests.helpers import samples, signing

RELEASE_EVERY = 10
RELEASES_PER_DATASET = 10
START = 1_790_000_000  # 2026-09-21: after the fixtures' created_at and signed_at claims


def _blob(path: str, text: str) -> bytes:
    data = text.encode("utf-8")
    return f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n"


def _commit(mark: int, files: dict[str, str], message: str) -> bytes:
    msg = message.encode()
    head = (
        (
            f"commit refs/heads/main\nmark :{mark}\n"
            f"committer Bench Author <bench@example.org> {START + 60 * mark} +0000\n"
            f"data {len(msg)}\n"
        ).encode()
        + msg
        + b"\n"
    )
    if mark > 1:
        head += f"from :{mark - 1}\n".encode()
    return head + b"".join(_blob(p, t) for p, t in files.items()) + b"\n"


def _release(dataset: str, version: str, card_sha: str) -> dict[str, str]:
    """check_scale's release as today's integrity gate wants it: content fingerprints, the
    seed they derive, and tables as large as the privacy metrics' trial counts."""
    files = release_files(dataset, version, card_sha)
    folder = f"datasets/{dataset}/releases/{version}"
    artifact = hashlib.sha256(f"{dataset}@{version}".encode()).hexdigest()
    fingerprint = samples.fingerprint_of(artifact)
    sketch = ", ".join(f'"{h}"' for h in samples.sketch_of(fingerprint))
    files[f"{folder}/manifest.yaml"] = files[f"{folder}/manifest.yaml"].replace(
        f"sha256: {artifact}, rows: 1000, columns: 4, schema_sha256: {samples.SHA}}}",
        f"sha256: {artifact}, rows: 1000, columns: 4, schema_sha256: {samples.SHA}, "
        f'fingerprint: "{fingerprint}", distinct_rows: 3, sketch: [{sketch}]}}',
    )
    data = json.loads(samples.report_json(samples.PASSING, card_sha, artifact))
    data["dataset"] = dataset
    files[f"{folder}/report.json"] = json.dumps(data, indent=1)
    return files


def build(
    root: Path, commits: int, env: dict[str, str], merges: bool = False, hold_back: int = 0
) -> tuple[int, float, list[bytes]]:
    """`main` with `commits` first-parent commits, one release in every tenth; the last
    `hold_back` of them are not imported but returned, for `land`."""
    started = time.perf_counter()
    cut = None
    releases = commits // RELEASE_EVERY
    datasets = max(1, releases // RELEASES_PER_DATASET)
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, env=env, check=True)
    keys = root.parent / f"{root.name}-keys"
    keys.mkdir()
    ada = signing.make_person(keys, "ada", "privacy-reviewer")
    chen = signing.make_person(keys, "chen", "data-owner")
    dana = signing.make_person(keys, "dana", "auditor")  # signs the --since checkpoint
    first = {
        "policy/policy.yaml": POLICY,
        "policy/reviewers.yaml": signing.registry_yaml(ada, chen, dana),
    }
    card_shas = {}
    for d in range(datasets):
        dataset = f"ds-{d:04d}"
        card = CARD.format(dataset=dataset)
        first[f"datasets/{dataset}/card.yaml"] = card
        first[f"budgets/{dataset}-db.yaml"] = ledger(dataset, []).replace(
            "entries:\n", "entries: []\n"
        )
        card_shas[dataset] = hashlib.sha256(card.encode()).hexdigest()
    stream = [_commit(1, first, "governance repository")]
    versions: dict[str, list[str]] = {d: [] for d in card_shas}
    made = 0
    for mark in range(2, commits + 1):
        if mark == commits - hold_back + 1:
            cut = len(stream)
        if mark % RELEASE_EVERY:
            stream.append(_commit(mark, {"src/notes.txt": f"change {mark}\n"}, f"work {mark}"))
            continue
        dataset = f"ds-{made % datasets:04d}"
        version = f"1.{made // datasets}"
        made += 1
        files = _release(dataset, version, card_shas[dataset])
        folder = f"datasets/{dataset}/releases/{version}"
        digest = digests.release_digest(
            *(
                parse_document(files[f"{folder}/{n}"].encode(), n).data
                for n in ("manifest.yaml", "report.json")
            )
        )
        for person in (ada, chen):
            path, text = signing.approval(
                person, person.roles[0], digest, release=f"{dataset}@{version}"
            )
            files[path] = text
        versions[dataset].append(version)
        files[f"budgets/{dataset}-db.yaml"] = ledger(dataset, versions[dataset])
        if merges:  # the release on a side branch, merged with --no-ff (GitHub's default)
            side, message = 1_000_000 + mark, f"release {dataset}@{version}".encode()
            stream.append(
                (
                    f"commit refs/heads/side\nmark :{side}\ncommitter Bench Author "
                    f"<bench@example.org> {START + 60 * mark - 30} +0000\n"
                    f"data {len(message)}\n"
                ).encode()
                + message
                + b"\n"
                + f"from :{mark - 1}\n".encode()
                + b"".join(_blob(p, t) for p, t in files.items())
                + b"\n"
            )
            merge = _commit(mark, files, f"Merge release {dataset}@{version} (#{mark})")
            stream.append(
                merge.replace(
                    f"from :{mark - 1}\n".encode(), f"from :{mark - 1}\nmerge :{side}\n".encode(), 1
                )
            )
        else:
            stream.append(_commit(mark, files, f"release {dataset}@{version} (#{mark})"))
    held = stream[cut:] if cut is not None else []
    marks = f"--export-marks={root.parent / (root.name + '-marks')}"
    subprocess.run(
        ["git", "fast-import", "--quiet", marks],
        cwd=root,
        env=env,
        check=True,
        input=b"".join(stream[: len(stream) - len(held)]),
    )
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=root, env=env, check=True)
    return made, time.perf_counter() - started, held


def land(root: Path, env: dict[str, str], held: list[bytes]) -> None:
    """Import the commits `build` held back, dated now (after a checkpoint just made: a
    commit dated before a checkpoint it follows is back-dated)."""
    now = int(time.time())
    dated = [
        re.sub(rb"(committer [^\n]*> )\d+", b"\\g<1>%d" % (now + i), chunk)
        for i, chunk in enumerate(held)
    ]
    marks = f"--import-marks={root.parent / (root.name + '-marks')}"
    subprocess.run(
        ["git", "fast-import", "--quiet", marks],
        cwd=root,
        env=env,
        check=True,
        input=b"".join(dated),
    )
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=root, env=env, check=True)


def _cpu() -> float:
    """CPU seconds of this process and of the git processes it has waited for: what the
    load of others on a shared machine distorts least."""
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_audit(repo: Path, *args: str) -> tuple[float, float, dict]:  # type: ignore[type-arg]
    """(wall seconds, CPU seconds, audit.json) of `synthgov audit ARGS` in `repo`, run in a
    fresh process as a user runs it: nothing cached by an earlier run (parsed files,
    trust roots) makes a later one look faster. synthgov's imports are not timed."""
    done = subprocess.run(
        [sys.executable, __file__, "--one", str(repo), *args],
        capture_output=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    if done.returncode != 0:
        raise SystemExit(f"audit of {repo} failed: {done.stderr.decode()[-2000:]}")
    seconds, cpu, code, out = json.loads(done.stdout)
    data = json.loads(out)
    if code != 0:
        raise SystemExit(f"audit of {repo} found {data['findings'][:3]}: expected clean")
    return seconds, cpu, data


def one(repo: Path, args: list[str]) -> None:
    """`--one REPO ARGS`: audit in this process and print [wall, cpu, exit code, stdout]."""
    out = io.StringIO()
    os.chdir(repo)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        cpu, started = _cpu(), time.perf_counter()
        code = synthgov_main(["audit", *args])
        seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    print(json.dumps([seconds, cpu, code, out.getvalue()]))


def profile(repo: Path) -> None:
    """A full audit of `repo` in this process under cProfile, by CPU time."""
    profiler = cProfile.Profile(time.process_time)
    old = Path.cwd()
    os.chdir(repo)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            profiler.enable()
            synthgov_main(["audit"])
            profiler.disable()
    finally:
        os.chdir(old)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def checkpoint_back(root: Path, commits: int, back: int, env: dict[str, str]) -> Path:
    """A repository of `commits` commits whose main~`back` is checkpointed: the first ones
    are imported and audited in full with --checkpoint (signed by the registered auditor),
    then the last `back` land, dated after the checkpoint. The checkpoint file."""
    _, _, held = build(root, commits, env, hold_back=back)
    run_audit(root, "--checkpoint", "--key", str(root.parent / f"{root.name}-keys" / "dana"))
    land(root, env, held)
    [written] = (root / "audit/checkpoints").glob("*.yaml")
    return written


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        one(Path(sys.argv[2]), sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--since-back",
        type=int,
        default=100,
        help="also time `audit --since` on the largest size, from a checkpoint this many "
        "commits before the tip (0: skip)",
    )
    parser.add_argument(
        "--merges",
        action="store_true",
        help="land each release by a --no-ff merge commit instead of a squash",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="synthgov-audit-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = git_env(home)
        os.environ.update({k: v for k, v in env.items() if k.startswith(("GIT_", "HOME"))})
        repos = {}
        for size in sizes:
            releases, seconds, _ = build(Path(tmp) / f"r{size}", size, env, args.merges)
            repos[size] = releases
            print(f"built {size:>6} commits with {releases:>5} releases in {seconds:6.1f} s")
        times: dict[int, list[float]] = {size: [] for size in sizes}
        cpus: dict[int, list[float]] = {size: [] for size in sizes}
        for _ in range(args.runs):  # round-robin: outside load falls on every size alike
            for size in sizes:
                seconds, cpu, data = run_audit(Path(tmp) / f"r{size}")
                assert data["commits"] == size and len(data["releases"]) == repos[size]
                times[size].append(seconds)
                cpus[size].append(cpu)
        print(
            f"\n{'commits':>8} {'releases':>9} {'best (s)':>9} {'median (s)':>11} "
            f"{'cpu (s)':>8} {'ms/commit':>10} {'ms/release':>11}"
        )
        for size in sizes:
            best, median = min(times[size]), statistics.median(times[size])
            print(
                f"{size:>8} {repos[size]:>9} {best:>9.2f} {median:>11.2f} "
                f"{min(cpus[size]):>8.2f} "
                f"{1000 * best / size:>10.3f} {1000 * best / max(repos[size], 1):>11.2f}"
            )
        small, large = sizes[0], sizes[-1]
        ratio = min(times[large]) / min(times[small])
        cpu_ratio = min(cpus[large]) / min(cpus[small])
        print(
            f"\ngrowth {small} -> {large} commits: x{ratio:.2f} time, x{cpu_ratio:.2f} CPU "
            f"for x{large / small:.0f} commits (linear: x{large / small:.0f})"
        )
        if args.since_back:
            incremental = Path(tmp) / f"since{large}"
            point = checkpoint_back(incremental, large, args.since_back, env)
            since: list[tuple[float, float]] = []
            for _ in range(args.runs):
                seconds, cpu, data = run_audit(incremental, "--since", str(point))
                assert data["commits"] == args.since_back and data["since"]["commits"] == (
                    large - args.since_back
                )
                since.append((seconds, cpu))
            print(
                f"audit --since a checkpoint {args.since_back} commits back, {large} commits: "
                f"best {min(s for s, _ in since):.2f} s, median "
                f"{statistics.median(s for s, _ in since):.2f} s, "
                f"cpu {min(c for _, c in since):.2f} s"
            )
        if min(times[large]) >= 60 and large >= 10_000:
            raise SystemExit("audit of 10,000 commits took a minute or more (target: under 1)")
        if args.profile:
            profile(Path(tmp) / f"r{large}")  # the full audit again, in this process


if __name__ == "__main__":
    main()
