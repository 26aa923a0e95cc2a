"""The Git adapter of `check`: changes, blobs and refs read from real repositories' objects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from synthgov.errors import GitError, InputError
from synthgov.files.paths import MAX_FILE_BYTES
from synthgov.git import history
from synthgov.git.history import Change, Repository, load_at
from synthgov.models import Card
from tests.helpers import samples
from tests.helpers.git import git

CARD = "datasets/demo/card.yaml"
MANIFEST = "datasets/demo/releases/1.0/manifest.yaml"


def commit(root: Path, files: dict[str, str | bytes | None], message: str = "change") -> str:
    """Write (or delete, for None) files, commit everything, return the new commit id."""
    for name, content in files.items():
        path = root / name
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(content)
    git(root, "add", "-A")
    git(root, "-c", "commit.gpgsign=false", "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def move(root: Path, old: str, new: str) -> None:
    (root / new).parent.mkdir(parents=True, exist_ok=True)
    git(root, "mv", old, new)


@pytest.fixture
def opened(repo: Path) -> Iterator[Repository]:
    commit(repo, {CARD: "card v1\n", "README.md": "readme\n"}, "base")
    with Repository.open(repo) as repository:
        yield repository


# --- changed ------------------------------------------------------------------------------


def test_changed_reports_governance_adds_edits_deletes_and_renames(repo: Path) -> None:
    base = commit(
        repo,
        {
            CARD: "card\n",
            "policy/policy.yaml": "policy\n",
            "budgets/src.yaml": "ledger\n",
            "datasets/old/card.yaml": "a card long enough to be recognised as renamed\n" * 5,
            "src/code.py": "print(1)\n",
        },
    )
    git(repo, "checkout", "-q", "-b", "pr")
    move(repo, "datasets/old/card.yaml", "datasets/new/card.yaml")
    head = commit(
        repo,
        {
            CARD: "card, edited\n",
            "budgets/src.yaml": None,
            MANIFEST: "manifest\n",
            "src/code.py": "print(2)\n",
            "docs/new.md": "outside\n",
        },
    )
    with Repository.open(repo) as repository:
        assert repository.changed(base, head) == [
            Change("budgets/src.yaml", "D"),
            Change(CARD, "M"),
            Change(MANIFEST, "A"),
            Change("datasets/new/card.yaml", "R", "datasets/old/card.yaml"),
        ]


def test_changed_diffs_from_the_merge_base(repo: Path) -> None:
    commit(repo, {CARD: "card\n"})
    git(repo, "checkout", "-q", "-b", "pr")
    head = commit(repo, {MANIFEST: "manifest\n"})
    git(repo, "checkout", "-q", "main")
    main = commit(repo, {"policy/policy.yaml": "tightened on main after the branch point\n"})
    with Repository.open(repo) as repository:
        assert repository.changed(main, head) == [Change(MANIFEST, "A")]
        assert repository.merge_base(main, head) != main


def test_renames_across_the_governance_edge_are_adds_and_deletes(repo: Path) -> None:
    text = "the same long content, so that git pairs the two paths as a rename\n" * 5
    base = commit(repo, {"docs/card.yaml": text, "datasets/b/card.yaml": text + "b"})
    move(repo, "docs/card.yaml", CARD)
    move(repo, "datasets/b/card.yaml", "docs/b.yaml")
    head = commit(repo, {})
    with Repository.open(repo) as repository:
        assert repository.changed(base, head) == [
            Change("datasets/b/card.yaml", "D"),
            Change(CARD, "A"),
        ]


# --- read ---------------------------------------------------------------------------------


def test_read_returns_committed_bytes_not_the_working_tree(repo: Path, opened: Repository) -> None:
    head = opened.head()
    (repo / CARD).write_text("edited in the working tree, not committed\n")
    (repo / "datasets/demo/extra.yaml").write_text("untracked\n")
    assert opened.read(head, CARD) == b"card v1\n"
    assert opened.read(head, "datasets/demo/extra.yaml") is None
    assert opened.read(head, "datasets/missing/card.yaml") is None
    assert opened.read(head, "README.md/card.yaml") is None


def test_read_ignores_gitattributes_filters(repo: Path) -> None:
    head = commit(repo, {".gitattributes": "*.yaml eol=crlf ident\n", CARD: "a: 1\nid: $Id$\n"})
    with Repository.open(repo) as repository:
        assert repository.read(head, CARD) == b"a: 1\nid: $Id$\n"


def test_read_refuses_a_folder_and_paths_that_are_not_relative(opened: Repository) -> None:
    head = opened.head()
    with pytest.raises(InputError, match="datasets/demo: is a folder"):
        opened.read(head, "datasets/demo")
    for bad in ("", "/etc/passwd", "datasets/../policy/policy.yaml", "datasets//card.yaml"):
        with pytest.raises(InputError, match="not a repository-relative file path"):
            opened.read(head, bad)


def test_read_refuses_symlinks(repo: Path) -> None:
    commit(repo, {"policy/policy.yaml": "policy\n"})
    (repo / "datasets/demo").mkdir(parents=True)
    (repo / CARD).symlink_to("../../policy/policy.yaml")
    (repo / "datasets/linked").symlink_to("../policy")
    head = commit(repo, {})
    with Repository.open(repo) as repository:
        with pytest.raises(InputError, match=f"{CARD}: is a symbolic link"):
            repository.read(head, CARD)
        with pytest.raises(InputError, match="datasets/linked: is a symbolic link"):
            repository.read(head, "datasets/linked/policy.yaml")
        with pytest.raises(InputError, match="datasets/linked: is a symbolic link"):
            repository.list_files(head, "datasets/linked")
        assert repository.list_files(head, "datasets") == [CARD, "datasets/linked"]


def test_read_refuses_gitlinks(repo: Path) -> None:
    first = commit(repo, {CARD: "card\n"})
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{first},datasets/x")
    git(repo, "-c", "commit.gpgsign=false", "commit", "-q", "-m", "gitlink")
    with Repository.open(repo) as repository:
        head = repository.head()
        assert Change("datasets/x", "A") in repository.changed(first, head)
        with pytest.raises(InputError, match="datasets/x: is a submodule"):
            repository.read(head, "datasets/x")
        with pytest.raises(InputError, match="datasets/x: is a submodule"):
            repository.read(head, "datasets/x/card.yaml")


def test_read_refuses_lfs_pointers(repo: Path) -> None:
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{'a' * 64}\nsize 12345\n"
    head = commit(repo, {MANIFEST: pointer})
    with Repository.open(repo) as repository, pytest.raises(InputError, match="LFS pointer"):
        repository.read(head, MANIFEST)


def test_read_refuses_a_large_blob_before_reading_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = b"x: " + b"y" * (2 * 1024 * 1024) + b"\n"
    head = commit(repo, {"datasets/demo/releases/1.0/report.json": big, CARD: "card\n"})
    blob = git(repo, "rev-parse", f"{head}:datasets/demo/releases/1.0/report.json").strip()
    fetched: list[str] = []
    contents = history._CatFile.contents

    def spy(self: history._CatFile, oid: str) -> tuple[str, bytes] | None:
        fetched.append(oid)
        return contents(self, oid)

    monkeypatch.setattr(history._CatFile, "contents", spy)
    with Repository.open(repo) as repository:
        with pytest.raises(InputError, match=r"larger than the 1024 KiB limit \(2097156 bytes\)"):
            repository.read(head, "datasets/demo/releases/1.0/report.json")
        assert blob not in fetched
        assert repository.read(head, CARD) == b"card\n"  # the pipe is still in step
    assert len(big) > MAX_FILE_BYTES


def test_list_files_under_a_folder(repo: Path) -> None:
    approvals = "datasets/demo/releases/1.0/approvals"
    head = commit(
        repo,
        {
            f"{approvals}/data-owner--bob.yaml": "a\n",
            f"{approvals}/privacy-reviewer--alice.yaml": "b\n",
            MANIFEST: "m\n",
        },
    )
    with Repository.open(repo) as repository:
        assert repository.list_files(head, approvals) == [
            f"{approvals}/data-owner--bob.yaml",
            f"{approvals}/privacy-reviewer--alice.yaml",
        ]
        assert repository.list_files(head, "datasets/demo/releases/2.0/approvals") == []
        assert repository.list_files(head, MANIFEST) == []
        assert len(repository.list_files(head, "datasets/")) == 3


# --- refs, HEAD, repositories ---------------------------------------------------------------


def test_resolve_garbage_ref_names_the_ref(opened: Repository) -> None:
    for ref in ("no-such-branch", "--output=/tmp/x", "main\nHEAD", "HEAD:datasets"):
        with pytest.raises(GitError, match="unknown base ref"):
            opened.resolve(ref)
    with pytest.raises(GitError, match="unknown base ref 'no-such-branch'"):
        opened.resolve("no-such-branch")


def test_resolve_and_detached_head(repo: Path) -> None:
    first = commit(repo, {CARD: "v1\n"})
    second = commit(repo, {CARD: "v2\n"})
    git(repo, "checkout", "-q", "--detach", first)
    with Repository.open(repo) as repository:
        assert repository.head() == first
        assert repository.resolve("main") == second
        assert repository.resolve("HEAD") == first
        assert repository.resolve(second[:10]) == second
        assert repository.read(repository.head(), CARD) == b"v1\n"


def test_unborn_head_is_an_error(repo: Path) -> None:
    with Repository.open(repo) as repository, pytest.raises(GitError, match="no commit yet"):
        repository.head()


def test_shallow_clone_is_refused(repo: Path, tmp_path: Path) -> None:
    commit(repo, {CARD: "v1\n"})
    commit(repo, {CARD: "v2\n"})
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    with pytest.raises(GitError, match="shallow"):
        Repository.open(clone)


def test_not_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError, match="not a git repository"):
        Repository.open(plain)
    with pytest.raises(GitError, match="no such folder"):
        Repository.open(tmp_path / "missing")


def test_caller_git_dir_does_not_redirect_reads(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = commit(repo, {CARD: "mine\n"})
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    with Repository.open(repo) as repository:
        assert repository.head() == head


def test_unrelated_histories_have_no_merge_base(repo: Path) -> None:
    main = commit(repo, {CARD: "main\n"})
    git(repo, "checkout", "-q", "--orphan", "other")
    other = commit(repo, {CARD: "other\n"})
    with Repository.open(repo) as repository:
        with pytest.raises(GitError, match="unrelated histories"):
            repository.merge_base(main, other)
        with pytest.raises(GitError, match="unrelated histories"):
            repository.changed(main, other)


def test_grafts_do_not_invent_a_merge_base(repo: Path) -> None:
    main = commit(repo, {CARD: "main\n"})
    git(repo, "checkout", "-q", "--orphan", "other")
    other = commit(repo, {CARD: "other\n"})
    (repo / ".git/info").mkdir(exist_ok=True)
    (repo / ".git/info/grafts").write_text(f"{other} {main}\n")
    assert git(repo, "merge-base", main, other).strip() == main  # git alone obeys the graft
    with Repository.open(repo) as repository, pytest.raises(GitError, match="unrelated"):
        repository.merge_base(main, other)


def test_default_base(repo: Path, tmp_path: Path) -> None:
    commit(repo, {CARD: "v1\n"})
    with Repository.open(repo) as repository:
        assert repository.default_base() == "refs/heads/main"
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", f"file://{repo}", str(clone))
    with Repository.open(clone) as repository:
        assert repository.default_base() == "refs/remotes/origin/HEAD"
        assert repository.resolve(repository.default_base()) == repository.head()
    git(repo, "branch", "-q", "-m", "main", "trunk")
    with Repository.open(repo) as repository, pytest.raises(GitError, match="pass --base"):
        repository.default_base()


def test_default_base_is_the_branch_not_a_tag_named_main(repo: Path) -> None:
    first = commit(repo, {CARD: "v1\n"})
    second = commit(repo, {CARD: "v2\n"})
    git(repo, "tag", "main", first)
    with Repository.open(repo) as repository:
        assert repository.resolve(repository.default_base()) == second
        with pytest.raises(GitError, match="'main' is ambiguous"):
            repository.resolve("main")


def test_sha256_repository(tmp_path: Path) -> None:
    root = tmp_path / "sha256"
    root.mkdir()
    git(root, "init", "-q", "-b", "main", "--object-format=sha256")
    base = commit(root, {CARD: "v1\n"})
    head = commit(root, {CARD: "v2\n", MANIFEST: "m\n"})
    with Repository.open(root) as repository:
        assert len(repository.head()) == 64
        assert repository.read(head, CARD) == b"v2\n"
        assert repository.changed(base, head) == [Change(CARD, "M"), Change(MANIFEST, "A")]


# --- replace refs -------------------------------------------------------------------------------


def test_replaced_blob_and_commit_are_ignored(repo: Path, tmp_path: Path) -> None:
    first = commit(repo, {CARD: "original\n"})
    second = commit(repo, {CARD: "second\n"})
    original = git(repo, "rev-parse", f"{first}:{CARD}").strip()
    (tmp_path / "forged").write_text("forged\n")
    forged = git(repo, "hash-object", "-w", str(tmp_path / "forged")).strip()
    git(repo, "replace", original, forged)
    git(repo, "replace", second, first)
    assert git(repo, "show", f"{first}:{CARD}") == "forged\n"  # git alone obeys replace refs
    assert git(repo, "show", f"{second}:{CARD}") == "forged\n"
    with Repository.open(repo) as repository:
        assert repository.read(first, CARD) == b"original\n"
        assert repository.read(second, CARD) == b"second\n"
        assert repository.changed(first, second) == [Change(CARD, "M")]


# --- case and normalisation collisions --------------------------------------------------------


def test_changed_paths_differing_only_by_case_collide(repo: Path) -> None:
    approvals = "datasets/demo/releases/1.0/approvals"
    base = commit(repo, {CARD: "card\n"})
    head = commit(
        repo,
        {
            f"{approvals}/privacy-reviewer--alice.yaml": "a\n",
            f"{approvals}/Privacy-Reviewer--Alice.yaml": "b\n",
        },
    )
    with Repository.open(repo) as repository, pytest.raises(InputError) as caught:
        repository.changed(base, head)
    message = str(caught.value)
    assert f"{approvals}/Privacy-Reviewer--Alice.yaml" in message
    assert f"{approvals}/privacy-reviewer--alice.yaml" in message
    assert len(caught.value.problems) == 1


def test_nfc_and_nfd_names_collide(repo: Path) -> None:
    base = commit(repo, {CARD: "card\n"})
    head = commit(
        repo, {"datasets/demo/caf\u00e9.yaml": "a\n", "datasets/demo/cafe\u0301.yaml": "b\n"}
    )
    with Repository.open(repo) as repository, pytest.raises(InputError, match="normalisation"):
        repository.changed(base, head)


def test_a_new_folder_colliding_with_an_existing_one(repo: Path) -> None:
    base = commit(repo, {"datasets/demo/releases/1.0-rc1/manifest.yaml": "m\n"})
    head = commit(repo, {"datasets/demo/releases/1.0-RC1/manifest.yaml": "other\n"})
    with Repository.open(repo) as repository, pytest.raises(InputError) as caught:
        repository.changed(base, head)
    assert [str(p.location) for p in caught.value.problems] == ["datasets/demo/releases/1.0-RC1"]
    assert "datasets/demo/releases/1.0-rc1" in str(caught.value)


def test_a_case_variant_of_a_governance_folder_is_refused(repo: Path) -> None:
    base = commit(repo, {"README.md": "r\n"})
    head = commit(repo, {"Datasets/demo/card.yaml": "card\n"})
    with Repository.open(repo) as repository, pytest.raises(InputError, match="datasets"):
        repository.changed(base, head)


def test_a_case_only_rename_is_not_a_collision(repo: Path) -> None:
    base = commit(repo, {"datasets/demo/releases/1.0-rc1/manifest.yaml": "m\n"})
    git(repo, "mv", "datasets/demo/releases/1.0-rc1", "datasets/demo/releases/1.0-RC1")
    head = commit(repo, {})
    with Repository.open(repo) as repository:
        assert repository.changed(base, head) == [
            Change(
                "datasets/demo/releases/1.0-RC1/manifest.yaml",
                "R",
                "datasets/demo/releases/1.0-rc1/manifest.yaml",
            )
        ]


# --- load_at --------------------------------------------------------------------------------


def test_load_at_validates_from_the_commit(repo: Path) -> None:
    head = commit(
        repo, {"datasets/claims/card.yaml": samples.CARD, CARD: samples.CARD, "README.md": "r\n"}
    )
    (repo / "datasets/claims/card.yaml").write_text("broken: [\n")  # working tree: ignored
    with Repository.open(repo) as repository:
        loaded = load_at(repository, head, "datasets/claims/card.yaml")
        assert isinstance(loaded.model, Card) and loaded.model.id == "claims"
        with pytest.raises(InputError, match=r"datasets/demo/card.yaml:\d+:\d+: id: is 'claims'"):
            load_at(repository, head, CARD)
        with pytest.raises(InputError, match="no such file at commit"):
            load_at(repository, head, "datasets/none/card.yaml")
        with pytest.raises(InputError, match="not a governance file"):
            load_at(repository, head, "README.md")


def test_load_at_reports_malformed_yaml_with_its_location(repo: Path) -> None:
    head = commit(repo, {CARD: "id: demo\nid: again\n"})
    with (
        Repository.open(repo) as repository,
        pytest.raises(InputError, match=rf"{CARD}:2:1: duplicate key 'id'"),
    ):
        load_at(repository, head, CARD)


def test_no_cat_file_process_outlives_close(opened: Repository) -> None:
    opened.read(opened.head(), CARD)
    procs = list(opened._cat._procs.values())
    assert procs and all(p.poll() is None for p in procs)
    opened.close()
    assert all(p.poll() is not None for p in procs)
    with pytest.raises(GitError, match="closed"):
        opened.read(opened.head(), CARD)


# --- large folders --------------------------------------------------------------------------


def _large_datasets(repo: Path, count: int = 200) -> str:
    """datasets/ with `count` folders (a tree object over `_LARGE_TREE` bytes), a file
    whose name ends with a folder's name after a space, and a symbolic link."""
    files: dict[str, str | bytes | None] = {
        f"datasets/ds-{i:04d}/card.yaml": f"card {i}\n" for i in range(count)
    }
    files["datasets/1 ds-0042"] = "a file whose name holds ' ds-0042'\n"
    files["datasets/ds-0042x/card.yaml"] = "a longer name\n"
    commit(repo, files, "datasets")
    (repo / "datasets/ds-link").symlink_to("ds-0001")
    return commit(repo, {}, "link")


@pytest.mark.parametrize("object_format", ["sha1", "sha256"])
def test_a_large_folder_is_read_as_git_resolves_each_path(
    tmp_path: Path, object_format: str
) -> None:
    """A path through a large folder (found by name in the tree's bytes, not parsed whole)
    reads exactly what git has there: a name inside another entry's name is not an entry,
    a symbolic link is still refused, a missing name is missing."""
    repo = tmp_path / object_format
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main", f"--object-format={object_format}")
    head = _large_datasets(repo)
    size = int(git(repo, "cat-file", "-s", f"{head}:datasets").strip())
    assert size >= history._LARGE_TREE
    listed = git(repo, "ls-tree", "-r", "-z", "--name-only", head, "datasets").split("\0")
    with Repository.open(repo) as repository:
        for path in (p for p in listed if p and p != "datasets/ds-link"):
            assert repository.read(head, path) == (repo / path).read_bytes(), path
        assert repository.read(head, "datasets/ds-0042/card.yaml") == b"card 42\n"
        assert repository.read(head, "datasets/ds-9999/card.yaml") is None
        assert repository.read(head, "datasets/ds-004/card.yaml") is None
        with pytest.raises(InputError, match="datasets/ds-link: is a symbolic link"):
            repository.read(head, "datasets/ds-link/card.yaml")
        assert sorted(repository.list_files(head, "datasets")) == sorted(p for p in listed if p)


def test_replaying_merges_does_not_parse_a_large_folder_whole_each_time(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every merge makes a new version of datasets/ (one entry per dataset): parsing each
    whole made status's replay quadratic in the history. Reading through it finds the one
    entry a path needs."""
    _large_datasets(repo)
    for i in range(5):
        commit(repo, {f"datasets/ds-{i:04d}/card.yaml": f"card {i}, edited\n"}, f"edit {i}")
    parsed: list[int] = []
    parse = history._parse_tree

    def counted(data: bytes, oid_bytes: int) -> history.TreeEntries:
        parsed.append(len(data))
        return parse(data, oid_bytes)

    monkeypatch.setattr(history, "_parse_tree", counted)
    with Repository.open(repo) as repository:
        commits = repository.first_parent("HEAD")[-5:]
        for i, each in enumerate(commits):
            repository.prefetch(each.objects)
            card = f"datasets/ds-{i:04d}/card.yaml"
            assert repository.read(each.sha, card) == f"card {i}, edited\n".encode()
    assert parsed and max(parsed) < history._LARGE_TREE, parsed


def _tree_with_a_duplicate(repo: Path, tmp_path: Path, filler: int) -> str:
    """A commit whose datasets/demo/ holds `card.yaml` twice (first "judged", then
    "shipped") after `filler` other files, built byte by byte as git fsck would refuse it
    (`duplicateEntries`) but a server that does not check objects on push keeps it."""

    def blob(text: str) -> bytes:
        (tmp_path / "blob").write_text(text)
        return bytes.fromhex(git(repo, "hash-object", "-w", str(tmp_path / "blob")).strip())

    def tree(data: bytes) -> str:
        (tmp_path / "tree").write_bytes(data)
        args = ("hash-object", "-t", "tree", "-w", "--literally", str(tmp_path / "tree"))
        return git(repo, *args).strip()

    entries = b"".join(b"100644 a-%04d.yaml\0" % i + blob(f"filler {i}\n") for i in range(filler))
    entries += b"100644 card.yaml\0" + blob("judged\n") + b"100644 card.yaml\0" + blob("shipped\n")
    demo = tree(entries)
    datasets = tree(b"40000 demo\0" + bytes.fromhex(demo))
    root = tree(b"40000 datasets\0" + bytes.fromhex(datasets))
    env = ("-c", "commit.gpgsign=false", "commit-tree", root, "-m", "duplicate entries")
    return git(repo, *env).strip()


@pytest.mark.parametrize("filler", [0, 200], ids=["small folder", "large folder"])
def test_a_tree_with_a_duplicate_entry_name_is_refused_not_read_one_way(
    repo: Path, tmp_path: Path, filler: int
) -> None:
    """Git itself reads such a tree two ways: `git show` finds the first entry, a
    checkout writes the last. The gate read the last in a small folder and the first in
    a large one, so what it judged could differ from what a checkout ships; fail closed."""
    head = _tree_with_a_duplicate(repo, tmp_path, filler)
    if filler:
        size = int(git(repo, "cat-file", "-s", f"{head}:datasets/demo").strip())
        assert size >= history._LARGE_TREE
    with Repository.open(repo) as repository, pytest.raises(GitError, match="corrupt tree"):
        repository.read(head, CARD)
