"""Post ids: unique across processes, ordered by creation time, below 2**53.

Layout, high bits to low: 41 bits of milliseconds since EPOCH (until 2095),
7 bits of node number, 5 bits of sequence within the millisecond. An id is
exact as a Redis sorted-set score (a double) and as a JavaScript number.
"""

import time
from datetime import UTC, datetime, timedelta

from tidings.feed.errors import BadUserInput

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_EPOCH_MS = int(EPOCH.timestamp() * 1000)
NODE_BITS = 7
SEQUENCE_BITS = 5
NODES = 1 << NODE_BITS
_SEQUENCES = 1 << SEQUENCE_BITS
_LOW_BITS = NODE_BITS + SEQUENCE_BITS
MAX_POST_ID = (1 << 53) - 1


def post_id_time(post_id: int) -> datetime:
    return EPOCH + timedelta(milliseconds=post_id >> _LOW_BITS)


def smallest_post_id_at(moment: datetime) -> int:
    """The lowest id a post created at `moment` can have: a keyset bound for time ranges."""
    ms = int(moment.timestamp() * 1000) - _EPOCH_MS
    return max(ms, 0) << _LOW_BITS


def post_id_or_none(value: str) -> int | None:
    """The id a decimal string spells, or None if it spells no possible post id."""
    if not value.isascii() or not value.isdigit() or len(value) > 16:
        return None
    post_id = int(value)
    return post_id if post_id <= MAX_POST_ID else None


def parse_post_id(value: str) -> int:
    """An id as a client sends it (a decimal string), or BAD_USER_INPUT."""
    post_id = post_id_or_none(value)
    if post_id is None:
        raise BadUserInput("A post id is a decimal number.")
    return post_id


class PostIdGenerator:
    """Hands out ids for one process; `node` must differ between live processes."""

    def __init__(self, node: int) -> None:
        if not 0 <= node < NODES:
            raise ValueError(f"node must be in [0, {NODES})")
        self._node = node
        self._last_ms = -1
        self._sequence = 0

    def next_id(self) -> int:
        now_ms = int(time.time() * 1000) - _EPOCH_MS
        if now_ms > self._last_ms:
            self._last_ms, self._sequence = now_ms, 0
        elif self._sequence + 1 < _SEQUENCES:
            self._sequence += 1
        else:
            # This millisecond is used up (or the wall clock stepped back): borrow
            # the next one, so ids stay unique and increasing without waiting.
            self._last_ms, self._sequence = self._last_ms + 1, 0
        return (self._last_ms << _LOW_BITS) | (self._node << SEQUENCE_BITS) | self._sequence
