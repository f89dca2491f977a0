"""RSA key pairs made the way ``docs/encrypted-fields.md`` tells customers to (openssl)."""

import subprocess
from pathlib import Path

from cryptography.hazmat.primitives import serialization


def openssl_key_pair(directory: Path, bits: int = 2048) -> tuple[Path, str]:
    """Writes ``private.pem`` into ``directory``; returns its path and the public key's PEM."""
    private = directory / "private.pem"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}",
         "-out", str(private)],
        check=True, capture_output=True,
    )  # fmt: skip
    public = subprocess.run(
        ["openssl", "pkey", "-in", str(private), "-pubout"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return private, public


def load_private(path: Path):
    return serialization.load_pem_private_key(path.read_bytes(), password=None)
