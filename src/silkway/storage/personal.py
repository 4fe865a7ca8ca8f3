"""Personal data at rest: visa records encrypted, passport numbers found by a keyed hash.

One secret, derived once per process from the node's key passphrase with scrypt, yields two keys with
HKDF: one for AES-256-GCM over the stored records, one for HMAC-SHA256 over passport numbers. Each blob is
bound to where it is stored (its associated data), so a blob copied to another row does not open.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from silkway.shared.errors import RecordsAltered

_SALT = b"silkway personal data v1"
_VERSION = b"PD1"
_NONCE = 12


class PersonalData:
    """Encrypts records and hashes passport numbers under keys derived from the node's passphrase."""

    def __init__(self, passphrase: str, *, work_factor: int = 15) -> None:
        secret = Scrypt(salt=_SALT, length=32, n=2**work_factor, r=8, p=1).derive(passphrase.encode())
        self._cipher = AESGCM(_hkdf(secret, b"records"))
        self._lookup_key = _hkdf(secret, b"passport lookup")

    def lookup(self, passport_number: str, nationality: str) -> str:
        """The keyed hash a passport is found by: equal for equal (number, nationality), unguessable without the key."""
        message = f"{nationality.upper()}:{passport_number.upper()}".encode()
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()

    def seal(self, plaintext: bytes, *, bound_to: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._cipher.encrypt(nonce, plaintext, bound_to.encode())

    def open(self, blob: bytes, *, bound_to: str) -> bytes:
        """The plaintext of a sealed blob. On a blob altered, moved or sealed under another key, raises
        `RecordsAltered`."""
        if not blob.startswith(_VERSION) or len(blob) < len(_VERSION) + _NONCE + 16:
            raise RecordsAltered(f"the stored record {bound_to} is not an encrypted record")
        nonce = blob[len(_VERSION) : len(_VERSION) + _NONCE]
        try:
            return self._cipher.decrypt(nonce, blob[len(_VERSION) + _NONCE :], bound_to.encode())
        except InvalidTag as exc:
            raise RecordsAltered(
                f"the stored record {bound_to} does not decrypt: it was altered or sealed under another passphrase"
            ) from exc


def _hkdf(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"silkway " + purpose).derive(secret)
