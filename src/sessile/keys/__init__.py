"""The signing-key rings (DESIGN §4): ES256 keys for tokens and RSA keys for outgoing
bodies, shared by every node through the database."""

from sessile.keys.body_signer import BodyKeyRing, BodySignature, BodySigner
from sessile.keys.ring import KeyRing, PublishedKey

__all__ = ["BodyKeyRing", "BodySignature", "BodySigner", "KeyRing", "PublishedKey"]
