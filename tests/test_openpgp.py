"""OpenPGP verification through gpg in a throwaway keyring holding only registry keys.

Keys are made once per module by gpg in a temporary GNUPGHOME (ed25519, no passphrase);
the expired subkey is made and used "in 2020" with gpg's `--faked-system-time`, then
checked now. Every signature that must be refused is made by gpg itself or is a gpg
signature with one deliberate edit.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from synthgov.errors import SignatureError, VerifierUnavailable
from synthgov.models import Registry
from synthgov.models.approval import Signature
from synthgov.signing import keys, openpgp
from synthgov.signing.openpgp import Keyring, sign_with_gpg
from synthgov.signing.signatures import Verifier

PAYLOAD = b'{"decision":"approve","release":"claims@1.0.0"}'
PAST = "20200101T000000"


class Signer:
    """A gpg home under tmp, driven as the user's own gpg would be."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {**os.environ, "GNUPGHOME": str(home)}

    def gpg(self, *args: str, stdin: bytes = b"") -> bytes:
        done = subprocess.run(
            ["gpg", "--batch", "--passphrase", "", *args],
            input=stdin,
            capture_output=True,
            env=self.env,
            check=True,
        )
        return done.stdout

    def new_key(self, name: str, usage: str = "sign", *faked: str) -> str:
        self.gpg(
            *faked, "--quick-gen-key", f"{name} <{name}@example.org>", "ed25519", usage, "never"
        )
        listing = self.gpg("--with-colons", "--list-keys", f"{name}@example.org").decode()
        return next(ln.split(":")[9] for ln in listing.splitlines() if ln.startswith("fpr:"))

    def export(self, fingerprint: str) -> str:
        return self.gpg("--armor", "--export", fingerprint).decode()

    def sign(self, fingerprint: str, payload: bytes = PAYLOAD) -> str:
        with pytest.MonkeyPatch.context() as patch:  # sign_with_gpg uses the user's GNUPGHOME
            patch.setenv("GNUPGHOME", str(self.home))
            return sign_with_gpg(fingerprint, payload)


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Signer]:
    home = tmp_path_factory.mktemp("signer-gnupg")
    os.chmod(home, 0o700)
    yield Signer(home)
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


@pytest.fixture(scope="module")
def people(signer: Signer) -> dict[str, dict[str, str]]:
    """Each key: its primary fingerprint, exported public key and a signature over PAYLOAD."""
    made: dict[str, dict[str, str]] = {}
    for name in ("ann", "stranger"):
        fpr = signer.new_key(name)
        made[name] = {"fpr": fpr, "public": signer.export(fpr), "sig": signer.sign(fpr)}
    # a certification-only primary with a signing subkey
    fpr = signer.new_key("sub", "cert")
    signer.gpg("--quick-add-key", fpr, "ed25519", "sign", "never")
    made["sub"] = {"fpr": fpr, "public": signer.export(fpr), "sig": signer.sign(fpr)}
    # a signing subkey valid for one day in 2020, used that day
    fpr = signer.new_key("old", "cert", "--faked-system-time", PAST)
    signer.gpg("--faked-system-time", PAST, "--quick-add-key", fpr, "ed25519", "sign", "1d")
    old = signer.gpg(
        "--faked-system-time",
        "20200101T120000",
        "--armor",
        "--detach-sign",
        "-u",
        fpr,
        stdin=PAYLOAD,
    ).decode()
    made["old"] = {"fpr": fpr, "public": signer.export(fpr), "sig": old}
    # a key that signed, then was revoked with the certificate gpg stored when making it
    fpr = signer.new_key("gone")
    made["gone"] = {"fpr": fpr, "sig": signer.sign(fpr)}
    certificate = (signer.home / "openpgp-revocs.d" / f"{fpr}.rev").read_text()
    signer.gpg("--import", stdin=certificate.replace(":-----BEGIN", "-----BEGIN").encode())
    made["gone"]["public"] = signer.export(fpr)
    # an RSA-2048 signing subkey under a strong primary: the registry only sees the primary
    fpr = signer.new_key("weak", "cert")
    signer.gpg("--quick-add-key", fpr, "rsa2048", "sign", "never")
    made["weak"] = {"fpr": fpr, "public": signer.export(fpr), "sig": signer.sign(fpr)}
    return made


@pytest.fixture(scope="module")
def keyring(people: dict[str, dict[str, str]]) -> Iterator[Keyring]:
    """The registry's keys: everyone but the stranger."""
    with Keyring(people[n]["public"] for n in ("ann", "sub", "old", "gone", "weak")) as ring:
        yield ring


# --- what counts ---------------------------------------------------------------------------


def test_good_signature_gives_the_primary_fingerprint(
    keyring: Keyring, people: dict[str, dict[str, str]]
) -> None:
    ann = people["ann"]
    assert keyring.verify(ann["sig"], PAYLOAD) == ann["fpr"]
    assert keyring.verify(ann["sig"].encode(), PAYLOAD) == ann["fpr"]
    assert ann["fpr"] == keys.parse_openpgp_public_key(ann["public"]).fingerprint


def test_subkey_signature_gives_the_primary_fingerprint(
    keyring: Keyring, people: dict[str, dict[str, str]], signer: Signer
) -> None:
    """A subkey signs for its primary identity (signing.md §5, attack 12)."""
    sub = people["sub"]
    listing = signer.gpg("--with-colons", "--list-keys", sub["fpr"]).decode().splitlines()
    subkey = next(ln.split(":")[4] for ln in listing if ln.startswith("sub:") and ":s:" in ln)
    assert subkey not in sub["fpr"]
    assert keyring.verify(sub["sig"], PAYLOAD) == sub["fpr"]


# --- what does not count, and why ---------------------------------------------------------------


def test_tampered_payload_rejected(keyring: Keyring, people: dict[str, dict[str, str]]) -> None:
    with pytest.raises(
        SignatureError, match=r"^bad signature: it does not match the signed payload$"
    ):
        keyring.verify(people["ann"]["sig"], PAYLOAD.replace(b"approve", b"approvE"))


def test_key_outside_the_registry_rejected_even_if_the_users_gpg_knows_it(
    keyring: Keyring,
    people: dict[str, dict[str, str]],
    signer: Signer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GNUPGHOME", str(signer.home))  # holds the stranger's key
    with pytest.raises(
        SignatureError, match=r"^unknown key: not among the registry's OpenPGP keys$"
    ):
        keyring.verify(people["stranger"]["sig"], PAYLOAD)


def test_expired_subkey_rejected(keyring: Keyring, people: dict[str, dict[str, str]]) -> None:
    """Good in 2020 when it was made; the key is expired now, and gpg says so (EXPKEYSIG)."""
    with pytest.raises(SignatureError, match=r"^made by an expired key or expired subkey$"):
        keyring.verify(people["old"]["sig"], PAYLOAD)


def test_revoked_key_rejected(keyring: Keyring, people: dict[str, dict[str, str]]) -> None:
    with pytest.raises(SignatureError, match=r"^made by a revoked key$"):
        keyring.verify(people["gone"]["sig"], PAYLOAD)


def test_rsa_2048_signing_subkey_rejected(
    keyring: Keyring, people: dict[str, dict[str, str]]
) -> None:
    with pytest.raises(SignatureError, match=r"^the RSA signing key has 2048 bits; 3072 needed$"):
        keyring.verify(people["weak"]["sig"], PAYLOAD)


def test_empty_keyring_knows_no_one(people: dict[str, dict[str, str]]) -> None:
    with Keyring([]) as empty, pytest.raises(SignatureError, match=r"^unknown key"):
        empty.verify(people["ann"]["sig"], PAYLOAD)


# --- only one detached binary signature reaches gpg ----------------------------------------------


def armour(packets: bytes, label: str = "PGP SIGNATURE") -> str:
    text = base64.b64encode(packets).decode()
    crc = base64.b64encode(keys.crc24(packets).to_bytes(3, "big")).decode()
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return (
        "\n".join([f"-----BEGIN {label}-----", "", *lines, f"={crc}", f"-----END {label}-----"])
        + "\n"
    )


def packets(armoured: str) -> bytes:
    body = armoured.strip().split("\n\n", 1)[1].splitlines()[:-1]
    return base64.b64decode("".join(line for line in body if not line.startswith("=")))


@pytest.fixture(scope="module")
def forms(signer: Signer, people: dict[str, dict[str, str]]) -> dict[str, str]:
    """Ann's payload signed in every form that is not one detached binary signature."""
    fpr, good = people["ann"]["fpr"], people["ann"]["sig"]
    inline = signer.gpg("--compress-algo", "none", "--sign", "-u", fpr, stdin=PAYLOAD)
    sha1 = bytearray(packets(good))
    sha1[2 + 3] = 2  # hash algorithm octet of the v4 signature packet -> SHA-1
    return {
        "clearsigned": signer.gpg("--clearsign", "-u", fpr, stdin=PAYLOAD).decode(),
        "signed message": signer.gpg("--armor", "--sign", "-u", fpr, stdin=PAYLOAD).decode(),
        "inline signature relabelled": armour(inline),
        "two signatures": armour(packets(good) + packets(signer.sign(fpr, PAYLOAD))),
        "text mode": signer.gpg(
            "--armor", "--textmode", "--detach-sign", "-u", fpr, stdin=PAYLOAD
        ).decode(),
        "SHA-1": armour(bytes(sha1)),
        "checksum wrong": re.sub(r"\n=[A-Za-z0-9+/]{4}\n", "\n=AAAA\n", good),
        "second armour block": good + good,
        "text after the armour": good + "hello\n",
        "no empty line after the headers": good.replace("-----\n\n", "-----\n", 1),
        "non-ASCII": good.replace("BEGIN", "BEGİN"),
        "public key instead": people["ann"]["public"],
    }


REASONS = {
    "clearsigned": "^the signature holds more than one armour block$",
    "signed message": "^expected one '-----BEGIN PGP SIGNATURE-----' block",
    "inline signature relabelled": "^the armour holds more than one OpenPGP packet$",
    "two signatures": "^the armour holds more than one OpenPGP packet$",
    "text mode": r"^signature type 0x01 is not a binary-document signature \(0x00\)",
    "SHA-1": "^SHA-1 signatures are not accepted$",
    "checksum wrong": "^the signature's armour checksum does not match$",
    "second armour block": "^the signature holds more than one armour block$",
    "text after the armour": "^expected one '-----BEGIN PGP SIGNATURE-----' block",
    "no empty line after the headers": "^the signature's armour lacks the empty line",
    "non-ASCII": "^the signature holds non-ASCII characters$",
    "public key instead": "^expected one '-----BEGIN PGP SIGNATURE-----' block",
}


@pytest.mark.parametrize("form", REASONS)
def test_anything_but_one_detached_binary_signature_rejected(
    keyring: Keyring, forms: dict[str, str], form: str
) -> None:
    with pytest.raises(SignatureError, match=REASONS[form]) as caught:
        keyring.verify(forms[form], PAYLOAD)
    assert "\n" not in str(caught.value)


# --- the keyring's own lifecycle and the signing adapter -------------------------------------------


def test_keyring_is_made_on_first_use_and_removed_on_close(
    people: dict[str, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ring = Keyring([people["ann"]["public"]])
    assert list(tmp_path.iterdir()) == []
    with ring:
        assert ring.verify(people["ann"]["sig"], PAYLOAD) == people["ann"]["fpr"]
        (home,) = tmp_path.iterdir()
        assert home.name.startswith("synthgov-gpg-")
        assert home.stat().st_mode & 0o777 == 0o700
    assert list(tmp_path.iterdir()) == []
    ring.close()  # twice is fine
    assert not (Path(os.environ["HOME"]) / ".gnupg").exists()


def test_sign_with_unknown_key_reports_gpgs_reason(signer: Signer) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GNUPGHOME", str(signer.home))
        with pytest.raises(SignatureError, match=r"^gpg could not sign: gpg: .*nobody@example.org"):
            sign_with_gpg("nobody@example.org", PAYLOAD)


def test_check_detached_passes_gpgs_own_output_through(people: dict[str, dict[str, str]]) -> None:
    assert openpgp.check_detached(people["ann"]["sig"]) == people["ann"]["sig"].encode()


def test_a_gpg_that_cannot_run_is_asked_again_not_remembered(
    people: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A verifier remembers what it verified for a whole audit; a moment without gpg is no
    answer, so it blocks then and the same signature verifies once gpg runs again."""
    ann = people["ann"]
    registry = Registry.model_validate(
        {
            "schema_version": 1,
            "reviewers": [
                {
                    "id": "ann",
                    "name": "Ann",
                    "email": "ann@example.org",
                    "roles": ["privacy-reviewer"],
                    "keys": [
                        {"type": "openpgp", "public_key": ann["public"], "fingerprint": ann["fpr"]}
                    ],
                }
            ],
        }
    )
    signature = Signature(format="openpgp", armored=ann["sig"])
    with Verifier(registry, datetime.now(UTC)) as verifier:
        with monkeypatch.context() as patch:
            patch.setenv("PATH", str(tmp_path))  # no gpg here
            with pytest.raises(VerifierUnavailable, match="cannot run gpg"):
                verifier.embedded(signature, PAYLOAD)
        assert verifier.embedded(signature, PAYLOAD).reviewer == "ann"
