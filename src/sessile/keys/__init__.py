"""The signing-key ring (DESIGN §4): ES256 keys shared by every node through the database."""

from sessile.keys.ring import KeyRing, PublishedKey

__all__ = ["KeyRing", "PublishedKey"]
