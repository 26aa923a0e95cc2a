"""The error tree, grouped by who has to act, and the location every problem carries.

A failed gate is a finding (data); an error is an exception. Every `SynthgovError`
ends the command with exit code 2 and one line per problem, never a traceback.

    SynthgovError
    ├── InputError        a file or an option is wrong: its author fixes it (file:line:col)
    ├── UsageError        the command line itself is wrong
    ├── GitError          the repository cannot be read as needed
    ├── SignatureError    a signature or a signed commit does not hold: its signer acts
    ├── UnusableKeyError  a public key synthgov refuses: its holder registers another
    ├── MissingExtra      the command needs an extra that is not installed (synthgov.extras)
    └── ExpressionError   a card's row-constraint rule does not parse or fit its columns

Signature and key failures are usually caught where they happen and become a finding
(an approval that does not count) or an `InputError` at the file that holds them; they
reach the command line only when nothing could turn them into either. An
`ExpressionError` knows its offset in the rule, not its file: its callers place it in
the card.

Two refusals stay outside the tree on purpose: `models.common.FieldError` is a
`ValueError` because pydantic records a ValueError raised in a validator as a validation
error (the loader then reports it as an `InputError` at the field), and the YAML and JSON
readers' private refusals never leave `loading`, which turns each into a located
`InputError`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


def printable(text: str) -> str:
    """`text` with control and format characters escaped, so that user-written text (a YAML
    key, a value) can never start a new output line or hide itself with bidi overrides; and
    lone surrogates (bytes of a file name that are not UTF-8), which a strict stdout cannot
    encode."""
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cf", "Cs") else c for c in text
    )


@dataclass(frozen=True)
class Location:
    """Where a problem is: a repository-relative (or user-given) path, 1-based line and column."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input, printed as `file:line:col: message`."""

    location: Location
    message: str

    def __str__(self) -> str:
        return printable(f"{self.location}: {self.message}")


class SynthgovError(Exception):
    """Root of every error synthgov raises on purpose; the CLI maps it to exit code 2."""


class InputError(SynthgovError):
    """A file or an option is malformed, unsafe or invalid; carries every problem found."""

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems = problems if isinstance(problems, list) else [problems]
        if not self.problems:
            raise ValueError("InputError needs at least one problem")
        super().__init__(str(self.problems[0]))

    @classmethod
    def at(
        cls, path: str, message: str, line: int | None = None, column: int | None = None
    ) -> InputError:
        return cls(Problem(Location(path, line, column), message))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class UsageError(SynthgovError):
    """The command line itself is wrong (a missing or contradictory option)."""


class GitError(SynthgovError):
    """The repository cannot be read as needed: not a repository, unknown ref, shallow clone."""


class SignatureError(SynthgovError):
    """A signature that does not verify or cannot be parsed, or a commit whose signed form
    is not one synthgov accepts (unsigned, several signature headers); str(exc) says why,
    in one line. Raised by `sshsig`, `openpgp`, `commits` and `signatures`."""


class VerifierUnavailable(SignatureError):
    """The verifying tool gave no answer (gpg cannot run, or failed without a word): the
    signature is not known to be bad, so it blocks now and is asked again next time."""


class MissingExtra(SynthgovError):
    """A command needs an optional part of synthgov that is not installed. The broad
    fail-closed handlers of the gates let it through, so that the command ends with the one
    line that says what to install (exit 2) instead of a finding about a release."""

    def __init__(self, extra: str, command: str = "synthgov") -> None:
        self.extra = extra
        self.command = command  # the CLI fills in the command path ("synthgov evaluate")
        super().__init__(extra)

    def __str__(self) -> str:
        return f"{self.command} needs the {self.extra} extra: pip install 'synthgov[{self.extra}]'"


class UnusableKeyError(SynthgovError):
    """A public key that cannot be used (weak or unknown algorithm, malformed encoding, a
    point off its curve); the message says why. Raised by `keys`; the registry's model
    reports it at the key's field, a signature's embedded key as a `SignatureError`."""


class ExpressionError(SynthgovError):
    """A row-constraint rule that does not parse, names an unknown column or mixes types;
    `offset` is 0-based in the rule. `synthgov validate` reports it at the card's rule,
    the evaluation as an `InputError` at the card."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
