"""Benchmark: `synthgov check` on a one-release pull request, as the repository grows.

BRIEF §7: on a repository of 1,000 datasets and 10,000 releases, `check` for a pull request
that touches one release takes at most 0.15 s wall, independent of repository size, and
the CLI does not import pandas or scikit-learn for it.

For each size N this builds, in a temporary folder, a real Git governance repository: the
default policy, N/10 dataset cards and N valid releases (manifest.yaml + report.json with a
complete set of passing metrics bound to the card's sha256) and a privacy-budget ledger
per dataset with one chained debit per release, committed on `main` in one commit and
packed. A branch `pr` then adds one new release, and its debit, to an existing dataset. It
times, round-robin over the sizes so that outside load falls on every size alike:

- `synthgov check --base main` through the installed console script (a subprocess: wall
  clock including interpreter start and imports), best and median of --runs runs;
- `synthgov.cli.main(["check", "--base", "main"])` in this process (no interpreter start;
  the first call, which pays the lazy imports of `check`, is not counted).

Then where the time of one run goes on the largest repository (interpreter, third-party
imports, synthgov's modules, building the models the run validates, the work), and
`python -X importtime` of the console script: the top import costs, and a check that
pandas, scikit-learn (and OpenDP, NumPy, PyArrow) are never imported. `--profile` adds a
cProfile of the in-process run on the largest repository; `--instructions` counts the
instructions of each step, and of `validate` of one manifest and `--help`, under valgrind's
callgrind, which the machine's load does not change: the Python process and its git
children apart, with the number of git processes.

    .venv/bin/python benchmarks/check_scale.py [--sizes 100,1000,10000] [--runs 5] [--profile]
        [--instructions]

No pytest, no network; needs git. Results are recorded in docs/benchmarks.md ("check").
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import synthgov
from synthgov.budget import ledgers
from synthgov.cli import main as synthgov_main

VENV_BIN = Path(sys.executable).parent
SYNTHGOV = VENV_BIN / "synthgov"
POLICY = (Path(synthgov.__file__).parent / "templates/policy.yaml").read_text()
RELEASES_PER_DATASET = 10
#: What `synthgov check` imports: the CLI, and lazily the command, Git access and reporting.
CHECK_MODULES = (
    "synthgov.cli",
    "synthgov.commands.check",
    "synthgov.git.history",
    "synthgov.reporting",
)
#: The models `check` validates for a signed release of a confidential dataset.
CHECK_KINDS = ("policy", "reviewers", "card", "manifest", "report", "approval", "ledger")
#: Packages the check path must never import (BRIEF §7).
HEAVY = ("pandas", "sklearn", "opendp", "numpy", "pyarrow", "scipy")

# The minimal valid documents of tests/helpers/samples.py, parameterised by dataset, version and
# artifact hash; the passing metric set (PASSING) is imported from there.
CARD = """\
schema_version: 1
id: {dataset}
title: Insurance claims {dataset}
owner: claims-team@example.org
description: Claims with member demographics.
source: {{id: {dataset}-db, privacy_unit: one member}}
classification: confidential
intended_uses: [model development]
retention_days: 365
columns:
  - {{name: age, type: integer, min: 18, max: 99}}
  - {{name: region, type: categorical, allowed_values: [north, south]}}
  - {{name: amount, type: number, min: 0, nullable: true}}
  - {{name: fraud, type: boolean}}
constraints:
  - {{name: positive-amount, rule: "amount >= 0"}}
prohibited_columns: [email]
quasi_identifiers: [age, region]
subgroup_columns: [region]
target: {{column: fraud, positive: true}}
overrides:
  fidelity.detection_auc: {{threshold: 0.7}}
"""

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from synthgov.decision import digests  # noqa: E402
from synthgov.files.loading import parse_document  # noqa: E402
from tests.helpers import samples, signing  # noqa: E402  (sample documents, real ssh-keygen keys)
from tests.helpers.samples import PASSING  # noqa: E402  (the passing metrics the tests use)


def report(dataset: str, card_sha: str, artifact: str) -> str:
    """The tests' sample report with every passing metric, about `dataset`'s `artifact` (its
    content fingerprint, sketch and the seed they derive follow, as the integrity gate asks)."""
    data = json.loads(samples.report_json(PASSING, card_sha, artifact))
    data["dataset"] = dataset
    return json.dumps(data, indent=1)


def manifest(dataset: str, version: str, artifact: str) -> str:
    """The tests' sample manifest, of `dataset` at `version`, shipping `artifact`."""
    text = samples.MANIFEST.replace("claims", dataset).replace('"1.10"', f'"{version}"')
    return samples.manifest_for(artifact, text)


def release_files(dataset: str, version: str, card_sha: str) -> dict[str, str]:
    artifact = hashlib.sha256(f"{dataset}@{version}".encode()).hexdigest()
    folder = f"datasets/{dataset}/releases/{version}"
    return {
        f"{folder}/manifest.yaml": manifest(dataset, version, artifact),
        f"{folder}/report.json": report(dataset, card_sha, artifact),
    }


#: Every release debits its source's ledger (the budget gate): (1.0, 1e-6) each, within a
#: cap that fits them all, so that the gate decides by exact sums, without OpenDP.
LEDGER_HEADER = {
    "schema_version": 1,
    "privacy_unit": "one member",
    "notion": "approx",
    "cap": {"epsilon": Decimal("100.0"), "delta": Decimal("0.001")},
}


def ledger(dataset: str, versions: list[str]) -> str:
    """budgets/<dataset>-db.yaml with one chained debit per version (as `budget debit` writes)."""
    source = f"{dataset}-db"
    lines = [
        "schema_version: 1",
        f"source: {source}",
        "privacy_unit: one member",
        "notion: approx",
        "cap: {epsilon: 100.0, delta: 0.001}",
        "entries:",
    ]
    previous: dict[str, object] = {**LEDGER_HEADER, "source": source}
    for seq, version in enumerate(versions, start=1):
        entry = {
            "seq": seq,
            "release": f"{dataset}@{version}",
            "mechanism": "aim",
            "parameters": {},
            "loss": {"epsilon": Decimal("1.0"), "delta": Decimal("0.000001")},
            "recorded_at": "2026-09-02T10:00:00Z",
            "prev_sha256": ledgers.sha256(previous),
        }
        lines += [
            f"  - seq: {seq}",
            f"    release: {dataset}@{version}",
            "    mechanism: aim",
            "    parameters: {}",
            "    loss: {epsilon: 1.0, delta: 0.000001}",
            "    recorded_at: '2026-09-02T10:00:00Z'",
            f"    prev_sha256: {entry['prev_sha256']}",
        ]
        previous = entry
    return "\n".join(lines) + "\n"


def git_env(home: Path) -> dict[str, str]:
    """No user or system git config, fixed identities: the same repository on any machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(home), GIT_CONFIG_GLOBAL=str(home / ".gitconfig"), GIT_CONFIG_NOSYSTEM="1")
    for role in ("AUTHOR", "COMMITTER"):
        env[f"GIT_{role}_NAME"] = "Bench Author"
        env[f"GIT_{role}_EMAIL"] = "bench@example.org"
    env["NO_COLOR"] = "1"
    # Bytecode cached as in any pip install (the first, untimed run writes it), kept out of
    # the source tree; a PYTHONDONTWRITEBYTECODE=1 shell would otherwise recompile synthgov
    # on every run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
    return env


def git(repo: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "gc.auto=0", *args],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def write_all(root: Path, files: dict[str, str]) -> None:
    made: set[Path] = set()
    for path, text in files.items():
        target = root / path
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        target.write_text(text)


def build(root: Path, releases: int, env: dict[str, str]) -> tuple[int, int, float]:
    """The repository at `root`: `main` with `releases` releases, `pr` adding one more.

    Returns (datasets, files tracked on pr, seconds to generate).
    """
    started = time.perf_counter()
    datasets = max(1, releases // RELEASES_PER_DATASET)
    root.mkdir(parents=True)
    git(root, env, "init", "-q", "-b", "main")
    keys = root.parent / f"{root.name}-keys"
    keys.mkdir()
    ada = signing.make_person(keys, "ada", "privacy-reviewer")
    chen = signing.make_person(keys, "chen", "data-owner")
    files = {
        "policy/policy.yaml": POLICY,
        "policy/reviewers.yaml": signing.registry_yaml(ada, chen),
    }
    card_shas: dict[str, str] = {}
    for d in range(datasets):
        dataset = f"ds-{d:04d}"
        card = CARD.format(dataset=dataset)
        files[f"datasets/{dataset}/card.yaml"] = card
        card_shas[dataset] = hashlib.sha256(card.encode()).hexdigest()
    versions: dict[str, list[str]] = {dataset: [] for dataset in card_shas}
    for r in range(releases):
        dataset = f"ds-{r % datasets:04d}"
        version = f"1.{r // datasets}"
        files.update(release_files(dataset, version, card_shas[dataset]))
        versions[dataset].append(version)
    for dataset, released in versions.items():
        files[f"budgets/{dataset}-db.yaml"] = ledger(dataset, released)
    write_all(root, files)
    git(root, env, "add", "-A")
    git(root, env, "commit", "-q", "-m", f"{releases} releases over {datasets} datasets")
    # The pull request: one new release of an existing dataset, in the middle of the tree.
    git(root, env, "checkout", "-q", "-b", "pr")
    dataset = f"ds-{datasets // 2:04d}"
    proposed = release_files(dataset, "2.0", card_shas[dataset])
    folder = f"datasets/{dataset}/releases/2.0"
    digest = digests.release_digest(
        *(
            parse_document(proposed[f"{folder}/{name}"].encode(), name).data
            for name in ("manifest.yaml", "report.json")
        )
    )
    for person in (ada, chen):  # the approvals the confidential tier needs, signed
        path, text = signing.approval(person, person.roles[0], digest, release=f"{dataset}@2.0")
        proposed[path] = text
    write_all(root, proposed)
    write_all(root, {f"budgets/{dataset}-db.yaml": ledger(dataset, [*versions[dataset], "2.0"])})
    git(root, env, "add", "-A")
    git(root, env, "commit", "-q", "-m", f"release {dataset}@2.0")
    # Packed, as a clone is; and no `gc --auto` left running in the background (it would
    # compete with the timed runs and change the repository under them).
    git(root, env, "gc", "--quiet")
    os.sync()  # no write-back of the generated files during the timed runs
    seconds = time.perf_counter() - started
    tracked = git(root, env, "ls-files", "-z").count("\0")
    return datasets, tracked, seconds


def verify(repo: Path, env: dict[str, str]) -> None:
    """The pull request is compliant and is exactly one release: the benchmark measures a pass."""
    done = subprocess.run(
        [str(SYNTHGOV), "check", "--base", "main", "--format", "json"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(
            f"check did not pass on {repo} (exit {done.returncode}):\n{done.stdout}{done.stderr}"
        )
    data = json.loads(done.stdout)
    releases = [r["release"] for r in data["releases"]]
    if data["verdict"] != "pass" or len(releases) != 1:
        sys.exit(f"unexpected verdict on {repo}: {data['verdict']} for {releases}")


def time_subprocess(repo: Path, env: dict[str, str]) -> tuple[float, float]:
    """One run of the console script: (wall seconds, CPU seconds incl. its git children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [str(SYNTHGOV), "check", "--base", "main"], cwd=repo, env=env, capture_output=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"check exited {done.returncode}: {done.stdout!r} {done.stderr!r}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


@contextlib.contextmanager
def inside(repo: Path, env: dict[str, str]):  # type: ignore[no-untyped-def]
    """cwd = repo, the benchmark's git environment, stdout swallowed."""
    old_cwd, old_env = Path.cwd(), dict(os.environ)
    os.chdir(repo)
    os.environ.clear()
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)


def time_in_process(repo: Path, env: dict[str, str]) -> float:
    """One call of main(["check", ...]) in this process (imports already paid)."""
    with inside(repo, env):
        started = time.perf_counter()
        code = synthgov_main(["check", "--base", "main"])
        seconds = time.perf_counter() - started
    if code != 0:
        sys.exit(f"in-process check exited {code}")
    return seconds


def breakdown_steps() -> list[tuple[str, list[str]]]:
    """Cumulative steps of one `synthgov check`: each adds one cost to the one before."""
    third_party = "import click, yaml; from pydantic import BaseModel"
    modules = "; ".join(f"import {m}" for m in CHECK_MODULES)
    # as the CLI builds them: no scan for pydantic plugins (synthgov.cli.main), but pydantic's
    # plugin loader still imports importlib.metadata before it reads the variable
    build = (
        f"{modules}; import os; os.environ.setdefault('PYDANTIC_DISABLE_PLUGINS', '__all__'); "
        "from synthgov import models; import importlib.metadata; "
        f"[models.KINDS[k].model_rebuild() for k in {CHECK_KINDS!r}]"
    )
    return [
        ("python -c pass (interpreter start)", [sys.executable, "-c", "pass"]),
        ("+ import click, yaml, pydantic.BaseModel", [sys.executable, "-c", third_party]),
        (
            "+ import synthgov.cli (console script)",
            [sys.executable, "-c", f"{third_party}; import synthgov.cli"],
        ),
        ("+ import everything check imports", [sys.executable, "-c", modules]),
        (f"+ build the {len(CHECK_KINDS)} models check validates", [sys.executable, "-c", build]),
        ("synthgov check --base main (all of it)", [str(SYNTHGOV), "check", "--base", "main"]),
    ]


def counted_commands(repo: Path) -> list[tuple[str, list[str]]]:
    """`instructions` counts these besides the cumulative steps: `validate` of one manifest
    (in the pull request's new release) and `--help`."""
    manifest = next(repo.glob("datasets/*/releases/2.0/manifest.yaml")).relative_to(repo)
    return [
        ("synthgov validate <one manifest>", [str(SYNTHGOV), "validate", str(manifest)]),
        ("synthgov --help", [str(SYNTHGOV), "--help"]),
    ]


def callgrind(command: list[str], repo: Path, env: dict[str, str]) -> tuple[int, int, int]:
    """(instructions of the Python process, of its git children, number of git children):
    every process of `command` under callgrind, each to its own file."""
    with tempfile.TemporaryDirectory(prefix="callgrind-") as folder:
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--trace-children=yes",
                f"--callgrind-out-file={folder}/out.%p",
                f"--log-file={folder}/log.%p",
                *command,
            ],
            cwd=repo,
            env=env,
            capture_output=True,
            check=True,
        )
        python, git, children = 0, 0, 0
        for out in Path(folder).glob("out.*"):
            text = out.read_text(errors="replace")
            cmd = next((line for line in text.splitlines() if line.startswith("cmd:")), "")
            total = next(
                int(line.split()[1]) for line in text.splitlines() if line.startswith("totals:")
            )
            if cmd.split()[1:2] and Path(cmd.split()[1]).name == "git":
                git, children = git + total, children + 1
            else:
                python += total
        return python, git, children


def instructions(repo: Path, env: dict[str, str]) -> None:
    """Instructions of each step under callgrind: the same on a loaded machine. The kernel's
    share of a process start (fork, exec, page faults: about 1.5 ms of CPU for each git
    child here) is not an instruction of either, so the git column undercounts its time."""
    if shutil.which("valgrind") is None:
        print("\n--instructions needs valgrind")
        return
    steps = breakdown_steps() + counted_commands(repo)
    for _, command in steps:  # bytecode of every module written before anything is counted
        subprocess.run(command, cwd=repo, env=env, capture_output=True, check=True)
    print(f"\ninstructions of each step, {repo.name} (callgrind, M instructions):")
    print(f"  {'':<44} {'python':>8} {'git':>6} {'git runs':>8} {'total':>8}")
    for label, command in steps:
        python, git, children = callgrind(command, repo, env)
        print(
            f"  {label:<44} {python / 1e6:>8.0f} {git / 1e6:>6.0f} {children:>8} "
            f"{(python + git) / 1e6:>8.0f}"
        )


def startup_breakdown(repo: Path, env: dict[str, str], runs: int) -> None:
    """Where the wall clock of one `synthgov check` goes: interpreter, imports, the work."""
    steps = breakdown_steps()
    print(f"\nwhere the time goes, {repo.name} (best of {runs}):")
    print(f"  {'':<44} {'wall (s)':>9} {'CPU (s)':>8}")
    best = {label: (float("inf"), float("inf")) for label, _ in steps}
    for _ in range(runs):  # round-robin, as above
        for label, command in steps:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(command, cwd=repo, env=env, capture_output=True, check=True)
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            best[label] = (min(best[label][0], wall), min(best[label][1], used))
    for label, (wall, used) in best.items():
        print(f"  {label:<44} {wall:>9.3f} {used:>8.3f}")


def import_costs(repo: Path, env: dict[str, str], top: int = 5) -> None:
    """`python -X importtime` of the console script: top-level imports by cumulative time."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(SYNTHGOV), "check", "--base", "main"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    rows: list[tuple[int, int, str]] = []
    modules: set[str] = set()
    own: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        self_us, cumulative, name = line[len("import time:") :].split("|")
        own[name.strip()] = int(self_us)
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2  # two spaces per nesting level
        modules.add(name.strip())
        rows.append((depth, int(cumulative), name.strip()))
    total = sum(c for d, c, _ in rows if d == 0)
    print(
        f"\nimports of `synthgov check` (python -X importtime): {len(modules)} modules, "
        f"{total / 1e6:.3f} s cumulative at top level"
    )
    print(f"  {'top-level import':<36} {'cumulative (s)':>14}")
    for _, cumulative, name in sorted((r for r in rows if r[0] == 0), key=lambda r: -r[1])[:top]:
        print(f"  {name:<36} {cumulative / 1e6:>14.3f}")
    by_package: dict[str, int] = {}
    for name, self_us in own.items():
        # synthgov.models.* apart: their own time is pydantic creating the model classes (their
        # validators are built later, when a model first validates: not an import)
        package = "synthgov.models" if name.startswith("synthgov.models") else name.split(".")[0]
        by_package[package] = by_package.get(package, 0) + self_us
    print(f"  {'package (own time of its modules)':<36} {'self (s)':>14}")
    for package, self_us in sorted(by_package.items(), key=lambda item: -item[1])[:top]:
        print(f"  {package:<36} {self_us / 1e6:>14.3f}")
    found = sorted({m for m in modules if m.split(".")[0] in HEAVY})
    heavy = ", ".join(HEAVY)
    print(f"  heavy packages imported ({heavy}): {', '.join(found) if found else 'none'}")


def profile(repo: Path, env: dict[str, str], top: int = 15) -> None:
    with inside(repo, env):
        synthgov_main(["check", "--base", "main"])
        profiler = cProfile.Profile()
        profiler.enable()
        synthgov_main(["check", "--base", "main"])
        profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("cumulative").print_stats(r"synthgov|subprocess|yaml", top)
    stats.sort_stats("tottime").print_stats(top)
    print("\ncProfile of main(['check', '--base', 'main']) on the largest repository")
    print("(by cumulative time, synthgov/subprocess/yaml frames; then by own time):")
    print(stream.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="release counts, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per size (default 5)")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest size")
    parser.add_argument("--keep", action="store_true", help="keep the generated repositories")
    parser.add_argument(
        "--instructions", action="store_true", help="count each step's instructions (valgrind)"
    )
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]

    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    source = Path(synthgov.__file__).resolve().parent.parent
    commit = subprocess.run(
        ["git", "-C", str(source), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(
        f"synthgov {synthgov.__version__} ({commit or 'not a checkout'}) · Python {platform.python_version()} · "
        f"{git_version.strip()} · {os.cpu_count()} CPUs · {platform.platform()} · "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="synthgov-check-bench-"))
    env = git_env(tmp / "home")
    (tmp / "home").mkdir()
    # The console script imports the installed synthgov (an editable install may point at
    # another checkout): say which one the subprocesses measure.
    measured = subprocess.run(
        [sys.executable, "-c", "import synthgov; print(synthgov.__file__)"],
        env=env,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"the subprocesses import {Path(measured).parent} (PYTHONPATH decides)")
    if Path(measured).resolve().parent.parent != source:
        print(f"  NOT this process's synthgov ({source}): set PYTHONPATH to measure a checkout")
    header = (
        f"{'releases':>8} {'datasets':>8} {'repo files':>10} {'generate (s)':>12} "
        f"{'wall median (s)':>15} {'wall best (s)':>13} {'CPU best (s)':>12} "
        f"{'in-process median (s)':>21} {'in-process best (s)':>19}"
    )
    built: dict[int, tuple[Path, int, int, float]] = {}
    wall: dict[int, list[float]] = {size: [] for size in sizes}
    cpu: dict[int, list[float]] = {size: [] for size in sizes}
    inproc: dict[int, list[float]] = {size: [] for size in sizes}
    repo = tmp
    try:
        for size in sizes:
            repo = tmp / f"repo-{size}"
            built[size] = (repo, *build(repo, size, env))
            verify(repo, env)  # also the untimed first run: writes the bytecode cache
            time_in_process(repo, env)  # warm-up: the lazy imports of `check`
            print(f"  ... {size} releases generated", file=sys.stderr, flush=True)
        # Round-robin over the sizes, so that load from elsewhere on the machine falls on
        # every size alike instead of on whichever was being timed at the time.
        for _ in range(args.runs):
            for size in sizes:
                seconds, used = time_subprocess(built[size][0], env)
                wall[size].append(seconds)
                cpu[size].append(used)
                inproc[size].append(time_in_process(built[size][0], env))
        print()
        print(header)
        for size in sizes:
            _, datasets, files, seconds = built[size]
            print(
                f"{size:>8} {datasets:>8} {files:>10} {seconds:>12.1f} "
                f"{statistics.median(wall[size]):>15.3f} {min(wall[size]):>13.3f} "
                f"{min(cpu[size]):>12.3f} {statistics.median(inproc[size]):>21.3f} "
                f"{min(inproc[size]):>19.3f}"
            )
        small, large = min(sizes), max(sizes)
        if small != large:
            print(f"\nratio {large}/{small} releases (1.00 = flat):")
            for name, values in (("wall", wall), ("CPU", cpu), ("in-process", inproc)):
                best = min(values[large]) / min(values[small])
                median = statistics.median(values[large]) / statistics.median(values[small])
                print(f"  {name:<11} best {best:.2f}, median {median:.2f}")
        best = min(wall[large])
        verdict = "met" if best <= 0.15 else "NOT met"
        print(
            f"target (BRIEF §7): at most 0.15 s at {large} releases: {verdict} "
            f"({best:.3f} s wall, best of {args.runs})"
        )
        print(f"load average after the timed runs: {os.getloadavg()[0]:.2f}")
        startup_breakdown(repo, env, args.runs)
        if args.instructions:
            instructions(repo, env)
        import_costs(repo, env)
        if args.profile:
            profile(repo, env)
    finally:
        if args.keep:
            print(f"\nrepositories kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
