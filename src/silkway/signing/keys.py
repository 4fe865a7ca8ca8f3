"""Ed25519 keys and their ids, and the vault that keeps private keys encrypted at rest.

A key id is the first 16 bytes of SHA-256 over the raw 32-byte public key, in lower-case hex: short enough
for a QR code, long enough that two keys of the region never share one.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from silkway.signing.errors import KeyUnavailable


def key_id_of(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).digest()[:16].hex()


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A raw Ed25519 public key (32 bytes)."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != 32:
            raise ValueError("an Ed25519 public key has 32 bytes")

    @property
    def key_id(self) -> str:
        return key_id_of(self.raw)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when `signature` is this key's Ed25519 signature over `data`; never raises."""
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An Ed25519 private key. It never leaves the node: it is written only through `KeyVault.seal`."""

    _private: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        """A key from its 32-byte seed (test vectors and unsealing only)."""
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public(self) -> PublicKey:
        return PublicKey(self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    @property
    def key_id(self) -> str:
        return self.public.key_id

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)

    def seed(self) -> bytes:
        return self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


_MAGIC = b"SWK1"
_SEALED_MIN = len(_MAGIC) + 1 + 16 + 12 + 16  # magic, log2(N), salt, nonce, and at least the GCM tag


def sealed_work_factor(sealed: bytes) -> int | None:
    """The scrypt work factor (log2 N) a private key was sealed under by `KeyVault.seal`, or None when `sealed`
    is not a sealed Silkway key at all (a raw or PEM private key stored unencrypted, say). Never raises; it
    says nothing of the passphrase: only `KeyVault.open` tells whether the key opens."""
    if len(sealed) < _SEALED_MIN or not sealed.startswith(_MAGIC):
        return None
    return sealed[len(_MAGIC)]


class KeyVault:
    """Encrypts private keys at rest: AES-256-GCM under a key derived from the node's passphrase with scrypt.

    A sealed key is `SWK1 ‖ log2(N) ‖ salt(16) ‖ nonce(12) ‖ ciphertext`, bound to its key id as associated
    data, so a sealed key cannot be swapped onto another key's row. Derived keys are cached per salt: the
    (deliberately slow) scrypt runs once per process, not once per signature.
    """

    def __init__(self, passphrase: str, *, work_factor: int = 15) -> None:
        if not passphrase:
            raise ValueError("the key passphrase must not be empty")
        self._passphrase = passphrase.encode("utf-8")
        self._work_factor = work_factor
        self._salt = os.urandom(16)
        self._derived: dict[tuple[int, bytes], AESGCM] = {}

    def _cipher(self, work_factor: int, salt: bytes) -> AESGCM:
        cached = self._derived.get((work_factor, salt))
        if cached is None:
            kdf = Scrypt(salt=salt, length=32, n=2**work_factor, r=8, p=1)
            cached = AESGCM(kdf.derive(self._passphrase))
            self._derived[(work_factor, salt)] = cached
        return cached

    def seal(self, key: SigningKey) -> bytes:
        nonce = os.urandom(12)
        sealed = self._cipher(self._work_factor, self._salt).encrypt(nonce, key.seed(), key.key_id.encode())
        return _MAGIC + bytes([self._work_factor]) + self._salt + nonce + sealed

    def open(self, sealed: bytes, key_id: str) -> SigningKey:
        """The private key sealed for `key_id`. On a wrong passphrase or a damaged blob, raises `KeyUnavailable`."""
        if sealed_work_factor(sealed) is None:
            raise KeyUnavailable(f"the stored private key {key_id} is not a sealed Silkway key")
        work_factor, salt, nonce, body = sealed[4], sealed[5:21], sealed[21:33], sealed[33:]
        try:
            seed = self._cipher(work_factor, salt).decrypt(nonce, body, key_id.encode())
        except InvalidTag as exc:
            raise KeyUnavailable(
                f"cannot unseal private key {key_id}: wrong SILKWAY_KEY_PASSPHRASE or a damaged key"
            ) from exc
        key = SigningKey.from_seed(seed)
        if key.key_id != key_id:
            raise KeyUnavailable(f"the sealed key does not match key id {key_id}")
        return key


class Keyring:
    """Unsealed keys, kept in this process's memory only, so each signature does not pay for scrypt."""

    def __init__(self, vault: KeyVault) -> None:
        self.vault = vault
        self._keys: dict[str, SigningKey] = {}

    def unseal(self, key_id: str, sealed: bytes) -> SigningKey:
        key = self._keys.get(key_id)
        if key is None:
            key = self.vault.open(sealed, key_id)
            self._keys[key_id] = key
        return key
