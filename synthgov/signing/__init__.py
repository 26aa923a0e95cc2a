"""Signatures: verifying SSH and OpenPGP signatures against reviewer keys, signed commits,
the canonical payloads they cover, and making a signature with the user's key (`signer`).
"""
