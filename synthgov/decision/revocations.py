"""Revoked artifacts: a revoked table never ships again, under another version or dataset.

Every revocation in a tree, with the content its manifest records, so that the gate can
refuse the same table re-shipped under another name (docs/security.md). The lookup is
remembered per run, by the datasets folder's content id when the tree has one: an audit
decides a thousand commits whose datasets/ rarely changes between them.
"""

from __future__ import annotations

from synthgov.content import RevokedTable, Table
from synthgov.decision.sides import Tree, kind_of
from synthgov.gates.policy import artifact_table
from synthgov.models import Manifest

#: Folder ids remembered by one run before it starts afresh.
REMEMBERED = 64


class Revocations:
    """The revoked artifacts of each tree a run reads; its lifetime is one run."""

    def __init__(self) -> None:
        self._by_folder: dict[str, tuple[RevokedTable, ...]] = {}

    def of(self, tree: Tree) -> tuple[RevokedTable, ...]:
        """Every revoked release's artifact in `tree`, with the content its manifest records.

        Raises:
            InputError: a revocation or its manifest does not load.
        """
        key = tree.folder_id("datasets") if tree.folder_id is not None else None
        if key is not None and key in self._by_folder:
            return self._by_folder[key]
        found = []
        for path in tree.find("datasets", "revocation.yaml"):
            if kind_of(path) != "revocation":
                continue
            from synthgov.models import Revocation  # built only when a release is revoked

            revocation: Revocation = tree.load(path, Revocation).model
            table = Table(revocation.artifact_sha256)
            manifest_path = path.rsplit("/", 1)[0] + "/manifest.yaml"
            if tree.read(manifest_path) is not None:
                manifest: Manifest = tree.load(manifest_path, Manifest).model
                if manifest.artifact.sha256 == revocation.artifact_sha256:  # bound by it
                    table = artifact_table(manifest)
            found.append(RevokedTable(revocation.release, table))
        result = tuple(found)
        if key is not None:
            if len(self._by_folder) > REMEMBERED:
                self._by_folder.clear()
            self._by_folder[key] = result
        return result

    def revoked(self, head: Tree, base: Tree | None) -> tuple[RevokedTable, ...]:
        """Artifacts revoked on the base or in the pull request itself, in any dataset."""
        return self.of(head) + (self.of(base) if base is not None else ())
