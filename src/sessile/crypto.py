"""Secrets at rest: AES-256-GCM under keys derived (HKDF-SHA256) from the server secret;
and the one way a high-entropy secret (a token, a key) is stored: its SHA-256.

Each use gets its own derived key (``purpose``), and the caller's associated
data binds a ciphertext to its row, so one row's ciphertext can't be pasted
into another.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sessile.config import ConfigError
from sessile.config.validators import MIN_SECRET_KEY_BYTES

__all__ = ["DecryptionError", "SecretBox", "load_or_create_secret", "secret_hash"]

_NONCE_BYTES = 12


def secret_hash(secret: str) -> str:
    """How a random secret is kept and looked up: its SHA-256, in hex. Only for secrets
    with enough entropy that no guessing helps (passwords use argon2id instead)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class DecryptionError(Exception):
    """The ciphertext was not made with this server secret (or was altered)."""


class SecretBox:
    def __init__(self, server_secret: bytes, purpose: str) -> None:
        if len(server_secret) < 32:
            raise ValueError("the server secret must be at least 32 bytes")
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"sessile/" + purpose.encode()
        ).derive(server_secret)
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, associated_data)
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str, associated_data: bytes) -> bytes:
        raw = base64.urlsafe_b64decode(token.encode())
        try:
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], associated_data)
        except InvalidTag as exc:
            raise DecryptionError(
                "cannot decrypt a stored secret: SESSILE_SECRET_KEY is not the one it was made with"
            ) from exc


def load_or_create_secret(configured: str | None, data_dir: Path) -> bytes:
    """The server secret: the configured value, else ``<data_dir>/secret.key``, made once.

    Raises :class:`~sessile.config.ConfigError` when the file can't serve: unreadable,
    not UTF-8, or shorter than ``SESSILE_SECRET_KEY`` may be."""
    if configured:
        return configured.encode()
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return _read_secret_file(path)


def _read_secret_file(path: Path) -> bytes:
    # The same rule as SESSILE_SECRET_KEY (config.validators), told the same way.
    where = f"{path} (the server secret, read when SESSILE_SECRET_KEY is unset)"
    fix = (
        "restore it from a backup; on a new install, delete it and sessile makes a new one,"
        " or set SESSILE_SECRET_KEY (make one with"
        " `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
    )
    try:
        secret = path.read_bytes().decode("utf-8").strip().encode()
    except UnicodeDecodeError:
        raise ConfigError(f"invalid configuration:\n  {where}: is not UTF-8 text; {fix}") from None
    except OSError as exc:
        raise ConfigError(f"invalid configuration:\n  {where}: {exc.strerror}") from None
    if len(secret) < MIN_SECRET_KEY_BYTES:
        raise ConfigError(
            f"invalid configuration:\n  {where}: must be at least {MIN_SECRET_KEY_BYTES} bytes;"
            f" {fix}"
        )
    return secret
