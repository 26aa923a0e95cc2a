"""`synthgov revoke DATASET@VERSION --reason TEXT --class CLASS`: withdraw a release.

Writes datasets/<id>/releases/<v>/revocation.yaml and commits nothing. The revocation is
reviewed like a release: it needs the approvals of the dataset's tier (`synthgov approve
DATASET@VERSION --revocation --role ROLE`). Once merged, `status` and the catalog fall
back to the last known good release and `check` refuses any new release that ships the
revoked artifact again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from synthgov import options
from synthgov.errors import InputError
from synthgov.files import governance
from synthgov.files.layout import Release
from synthgov.files.paths import write_new
from synthgov.files.writing import schema_url, to_yaml
from synthgov.git.history import author_email
from synthgov.models import Manifest, Revocation
from synthgov.models.common import format_timestamp


def run(root: Path, target: str, *, reason: str, incident_class: str) -> int:
    """0 when written, 1 when the release is already revoked, 2 on bad input."""
    release = Release.parse(target)
    dataset, folder = release.dataset, release.folder
    manifest_path = f"{folder}/manifest.yaml"
    if not (root / manifest_path).exists():
        raise InputError.at(manifest_path, f"no such release {target}")
    manifest: Manifest = governance.load(root, manifest_path, Manifest).model
    path = f"{folder}/revocation.yaml"
    if (root / path).exists():
        click.echo(f"refused: {target} is already revoked ({path})", err=True)
        return 1
    if not reason.strip():
        raise InputError.at("--reason", "say why the release is revoked")
    data = {
        "schema_version": 1,
        "release": target,
        "incident_class": incident_class,
        "reason": reason,
        "revoked_at": format_timestamp(datetime.now(UTC).replace(microsecond=0)),
        "author": author_email(root),
        "artifact_sha256": manifest.artifact.sha256,
    }
    model = options.build(Revocation, data, {"reason": "--reason"}, "revoke")
    write_new(root, path, to_yaml(model, schema_url("revocation", path)).encode())
    click.echo(
        f"wrote {path}; commit it and open a pull request: the revocation needs the "
        f"approvals of {dataset}'s tier (synthgov approve {target} --revocation --role ROLE)",
        err=True,
    )
    return 0
