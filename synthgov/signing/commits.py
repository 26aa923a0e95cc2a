"""Signed commit objects: what a commit signature covers, by git's own rule, strictly.

The payload is the raw commit minus its signature header and every other header starting
with `gpgsig`, each with its continuation lines (`parse_buffer_signed_by_header()` in
git's commit.c; signing.md §1). It is cut from the raw object bytes, never rebuilt from
parsed fields (attack 23). Unlike git, a commit with two signature headers or an extra
`gpgsig*` header is refused: such headers leave the signed bytes alone but change the
commit id, so a signature would vouch for several ids (§4.2, §4.3, attack 22). Pure:
bytes in (`git cat-file commit SHA`), no I/O; verifying the signature is sshsig.verify's
or openpgp.Keyring's job.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from synthgov.errors import SignatureError, printable

_TREE = re.compile(rb"tree ([0-9a-f]{40}|[0-9a-f]{64})")
_FORMATS = {
    b"-----BEGIN SSH SIGNATURE-----": "sshsig",
    b"-----BEGIN PGP SIGNATURE-----": "openpgp",
}


@dataclass(frozen=True)
class SignedCommit:
    payload: bytes  # the commit exactly as before signing (git's parse_signed_commit rule)
    signature: bytes  # the gpgsig header's value with the continuation-space prefixes removed
    format: str  # "sshsig" | "openpgp" (from the armour's BEGIN line)
    author_email: str
    committer_email: str


def _signature_header(raw: bytes) -> bytes:
    """`gpgsig`, or `gpgsig-sha256` in a SHA-256 repository (told by the tree id's length)."""
    first = raw.split(b"\n", 1)[0]
    found = _TREE.fullmatch(first)
    if found is None:
        raise SignatureError("not a commit object: it does not start with a tree line")
    return b"gpgsig-sha256" if len(found.group(1)) == 64 else b"gpgsig"


def _email(line: bytes, field: str) -> str:
    """The address between the first `<` and the next `>`, as git's split_ident_line reads it."""
    start = line.find(b"<")
    end = line.find(b">", start + 1)
    if start < 0 or end < 0:
        raise SignatureError(f"the commit's {field} line has no <email>")
    try:
        return line[start + 1 : end].decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError(f"the commit's {field} email is not UTF-8") from None


def object_id(raw: bytes) -> str:
    """The id git gives a raw commit object: SHA-1, or SHA-256 in a SHA-256 repository
    (told by the tree id's length), of `commit <size>\\0` and the bytes."""
    algorithm = hashlib.sha256 if _signature_header(raw) == b"gpgsig-sha256" else hashlib.sha1
    return algorithm(b"commit %d\0" % len(raw) + raw).hexdigest()


def author_emails(raw: bytes) -> tuple[str, str]:
    """(author email, committer email) of any commit, signed or not.

    Raises:
        SignatureError: not a commit object, or not exactly one author and one committer line.
    """
    _signature_header(raw)
    found: dict[bytes, list[str]] = {b"author": [], b"committer": []}
    for line in raw.split(b"\n\n", 1)[0].split(b"\n"):
        field = line.split(b" ", 1)[0]
        if field in found and b" " in line:
            found[field].append(_email(line, field.decode()))
    if len(found[b"author"]) != 1 or len(found[b"committer"]) != 1:
        raise SignatureError("the commit does not have exactly one author and one committer")
    return found[b"author"][0], found[b"committer"][0]


#: A co-author trailer as GitHub writes it (and its squash merges do, one per author of
#: the squashed commits): `Co-authored-by: Name <email>`, the key in any case.
_COAUTHOR = re.compile(rb"^co-authored-by:[^<\n]*<([^<>\n]+)>[ \t]*$", re.IGNORECASE | re.MULTILINE)


def coauthor_emails(raw: bytes) -> tuple[str, ...]:
    """The addresses of a commit message's `Co-authored-by` trailers: the people a commit
    credits as its authors beside its author line (a squash merge keeps only these)."""
    parts = raw.split(b"\n\n", 1)
    message = parts[1] if len(parts) > 1 else b""
    return tuple(m.decode("utf-8", "replace").strip() for m in _COAUTHOR.findall(message))


def split_signed(raw: bytes) -> SignedCommit:
    """Split a signed commit into the signed payload and its signature, strictly.

    Raises:
        SignatureError: when the commit is unsigned, has more than one gpgsig header, or any
            other header starting with `gpgsig` (gpgsig-sha256, gpgsig-foo) — strict, §4.2/
            §4.3. In a SHA-256 repository (tree id of 64 hex) the header is `gpgsig-sha256`
            and a plain `gpgsig` is the "other" one. Also: not a commit, a signature in
            neither SSH nor OpenPGP armour, malformed author or committer.
    """
    header = _signature_header(raw) + b" "
    payload, signature = bytearray(), bytearray()
    signatures, others = 0, []
    in_signature = other = False
    position = 0
    # The loop of parse_buffer_signed_by_header() in git's commit.c, line for line.
    while position < len(raw):
        newline = raw.find(b"\n", position)
        end = len(raw) if newline < 0 else newline + 1
        line = raw[position:end]
        start = None
        if in_signature and line.startswith(b" "):
            start = position + 1
        elif line.startswith(header):
            start, other = position + len(header), False
            signatures += 1
        elif line.startswith(b"gpgsig"):
            other = True
            others.append(line.split(b" ", 1)[0].rstrip(b"\n"))
        elif other and not line.startswith(b" "):
            other = False
        if start is not None:
            signature += raw[start:end]
            in_signature = True
        else:
            if line.startswith(b"\n"):  # end of the headers: the message follows verbatim
                end = len(raw)
            if not other:
                payload += raw[position:end]
            in_signature = False
        position = end

    name = header.decode().strip()
    if signatures == 0:
        raise SignatureError(f"the commit is not signed (no {name} header)")
    if signatures > 1:
        raise SignatureError(f"the commit has {signatures} {name} headers; a signed commit has one")
    if others:
        extra = printable(others[0].decode("utf-8", "replace"))
        raise SignatureError(
            f"the commit carries another signature header ({extra}) beside {name}; "
            "extra signature headers change the commit id without touching what was signed"
        )
    kind = _FORMATS.get(bytes(signature).split(b"\n", 1)[0])
    if kind is None:
        raise SignatureError(
            "the commit's signature is neither an SSH nor an OpenPGP signature "
            "(X.509 and other formats are not supported)"
        )
    author, committer = author_emails(bytes(payload))
    return SignedCommit(bytes(payload), bytes(signature), kind, author, committer)
