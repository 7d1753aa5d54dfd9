"""Opaque keyset cursors, signed so a tampered or foreign cursor is refused.

One codec signs every cursor; what a cursor holds is a `CursorKind`, owned by the
list or feed order that pages with it (the latest-first timeline, a friends list,
a list of ties, ...). The kind's tag is signed with the value, so a cursor of one
kind is refused where another is expected, and a new order adds a kind, not a
special case here.
"""

import base64
import binascii
import hashlib
import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from tidings.feed.errors import BadUserInput

Position = TypeVar("Position")

_MAC_BYTES = 10
_MAX_CURSOR_CHARS = 200
_INVALID = "The cursor is not valid here; use one this API returned for the same field."


class InvalidCursor(ValueError):
    """Raised by a kind's `unpack` for a payload it cannot read."""


@dataclass(frozen=True, slots=True)
class CursorKind(Generic[Position]):
    """How one kind of position becomes bytes and back, under its own tag."""

    tag: bytes
    pack: Callable[[Position], bytes]
    unpack: Callable[[bytes], Position]
    # Positions whose cursor never changes and recurs on many pages (a post's)
    # are kept once signed; see CursorCodec.
    memoize: bool = False


def _pack_id(value: int) -> bytes:
    return struct.pack(">Q", value)


def _unpack_id(payload: bytes) -> int:
    if len(payload) != 8:
        raise InvalidCursor
    return int(struct.unpack(">Q", payload)[0])


def _pack_text(value: str) -> bytes:
    return value.encode()


def _unpack_text(payload: bytes) -> str:
    try:
        return payload.decode()
    except UnicodeDecodeError:
        raise InvalidCursor from None


def _pack_tie(position: tuple[int, str]) -> bytes:
    return struct.pack(">Q", position[0]) + position[1].encode()


def _unpack_tie(payload: bytes) -> tuple[int, str]:
    if len(payload) < 9:
        raise InvalidCursor
    return _unpack_id(payload[:8]), _unpack_text(payload[8:])


# A post in a newest-first list of posts: its id.
POST_ID = CursorKind(b"p", _pack_id, _unpack_id, memoize=True)
# A user in a list ordered by user id (friends).
USER_ID = CursorKind(b"u", _pack_text, _unpack_text)
# A tie in a newest-first list of ties: when it was made (ms), and with whom.
TIE = CursorKind(b"r", _pack_tie, _unpack_tie)

_MEMOIZED = 65_536


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"tidings cursor v1", hashlib.sha256).digest()
        # Signed once: each post's cursor appears on every page that shows the
        # post. The newest are kept, a bounded dict (about 8 MB at the bound).
        self._memo: dict[tuple[bytes, object], str] = {}

    def _sign(self, tag: bytes, payload: bytes) -> bytes:
        return hmac.new(self._key, tag + payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, kind: CursorKind[Position], position: Position) -> str:
        if kind.memoize:
            cursor = self._memo.get((kind.tag, position))
            if cursor is not None:
                return cursor
        payload = kind.pack(position)
        raw = payload + self._sign(kind.tag, payload)
        cursor = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        if kind.memoize:
            if len(self._memo) >= _MEMOIZED:
                self._memo.clear()  # cheaper than LRU bookkeeping per hit
            self._memo[kind.tag, position] = cursor
        return cursor

    def decode(self, kind: CursorKind[Position], cursor: str) -> Position:
        """The position, or BAD_USER_INPUT for anything this codec did not sign as `kind`."""
        if not cursor.isascii() or len(cursor) > _MAX_CURSOR_CHARS:
            raise BadUserInput(_INVALID)
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise BadUserInput(_INVALID) from None
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, self._sign(kind.tag, payload)):
            raise BadUserInput(_INVALID)
        try:
            return kind.unpack(payload)
        except InvalidCursor:
            raise BadUserInput(_INVALID) from None

    def decode_optional(self, kind: CursorKind[Position], cursor: str | None) -> Position | None:
        return None if cursor is None else self.decode(kind, cursor)
