"""When each shipped release was created, remembered by the content id of its folder.

A new release is dated against its dataset's newest release on the base that is not
revoked (`decision/contexts.py`): a release dated before it would never become current.
A replay (status, the catalog, the audit) decides every merge of a dataset against the
same earlier releases, so each release's date is derived once, from its folder's content
id and path (a Git tree id: the same id, the same manifest and revocation; the path, as
a manifest must name the dataset and version of its folder), and carried to every
later decision, instead of reading and parsing every earlier manifest again (at 10,000
merged releases that was 4.5 manifests per decision, and they no longer stayed in the
parse cache).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from synthgov.decision.sides import Tree
from synthgov.errors import InputError
from synthgov.models import Manifest

#: Release folders remembered by one run (each entry: a path, a folder id and a date, under
#: 400 bytes, so about 40 MB at most): the least recently used are dropped beyond it.
REMEMBERED = 100_000


class ReleaseDates:
    """The `created_at` of the release folders a run reads; its lifetime is one run."""

    def __init__(self) -> None:
        self._by_folder: OrderedDict[tuple[str, str], datetime | None] = OrderedDict()
        #: dates derived from a manifest (not remembered ones): what a test counts
        self.derived = 0

    def created(self, tree: Tree, folder: str) -> datetime | None:
        """`created_at` of the release in `folder` of `tree`; None when it is revoked
        (a revoked release is no one's predecessor) or its manifest does not load (it
        dates nothing).

        Raises:
            InputError: its revocation.yaml cannot be read (a symbolic link, too large).
        """
        found = tree.folder_id(folder) if tree.folder_id is not None else None
        key = (folder, found) if found is not None else None
        if key is not None and key in self._by_folder:
            self._by_folder.move_to_end(key)
            return self._by_folder[key]
        created = self._derive(tree, folder)
        if key is not None:
            self._by_folder[key] = created
            if len(self._by_folder) > REMEMBERED:
                self._by_folder.popitem(last=False)
        return created

    def _derive(self, tree: Tree, folder: str) -> datetime | None:
        self.derived += 1
        if tree.read(f"{folder}/revocation.yaml") is not None:
            return None
        try:
            return tree.load(f"{folder}/manifest.yaml", Manifest).model.created_at
        except InputError:
            return None  # a base manifest that does not load dates nothing
