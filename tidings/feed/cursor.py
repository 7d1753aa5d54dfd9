"""Opaque keyset cursors, signed so a tampered or foreign cursor is refused."""

import base64
import binascii
import hashlib
import hmac
import struct

from tidings.feed.errors import BadUserInput

_MAC_BYTES = 10
_POST_CURSORS = 65_536
_INVALID = "The cursor is not valid here; use one this API returned for the same field."


class CursorCodec:
    """Encodes a position (a post id, or a user id) under a kind tag.

    The kind is signed with the value, so a timeline cursor is refused by the
    friends list and the other way round.
    """

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"tidings cursor v1", hashlib.sha256).digest()
        # A post's cursor never changes, and each is signed on every page that shows
        # the post: the newest are kept, a bounded dict (about 8 MB at the bound).
        self._post_cursors: dict[int, str] = {}

    def _sign(self, kind: bytes, payload: bytes) -> bytes:
        return hmac.new(self._key, kind + payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def _encode(self, kind: bytes, payload: bytes) -> str:
        raw = payload + self._sign(kind, payload)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def _decode(self, kind: bytes, cursor: str) -> bytes:
        if not cursor.isascii() or len(cursor) > 200:
            raise BadUserInput(_INVALID)
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise BadUserInput(_INVALID) from None
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, self._sign(kind, payload)):
            raise BadUserInput(_INVALID)
        return payload

    def encode_post(self, post_id: int) -> str:
        cursor = self._post_cursors.get(post_id)
        if cursor is None:
            cursor = self._encode(b"p", struct.pack(">Q", post_id))
            if len(self._post_cursors) >= _POST_CURSORS:
                self._post_cursors.clear()  # cheaper than LRU bookkeeping per hit
            self._post_cursors[post_id] = cursor
        return cursor

    def decode_post(self, cursor: str) -> int:
        payload = self._decode(b"p", cursor)
        if len(payload) != 8:
            raise BadUserInput(_INVALID)
        (post_id,) = struct.unpack(">Q", payload)
        return int(post_id)

    def encode_user(self, user_id: str) -> str:
        return self._encode(b"u", user_id.encode())

    def decode_user(self, cursor: str) -> str:
        return self._decode(b"u", cursor).decode()

    def encode_tie(self, at_ms: int, user_id: str) -> str:
        """A position in a newest-first list of ties: when, and with whom."""
        return self._encode(b"r", struct.pack(">Q", at_ms) + user_id.encode())

    def decode_tie(self, cursor: str) -> tuple[int, str]:
        payload = self._decode(b"r", cursor)
        if len(payload) < 9:
            raise BadUserInput(_INVALID)
        (at_ms,) = struct.unpack(">Q", payload[:8])
        return int(at_ms), payload[8:].decode()
