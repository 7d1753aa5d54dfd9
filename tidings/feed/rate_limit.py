"""Per-user rate limits: a sliding window of events in one Redis sorted set."""

import time
import uuid

from redis.asyncio import Redis

from tidings.feed.errors import RateLimited
from tidings.feed.keys import Keys

# KEYS: the user's window. ARGV: now (ms), window (ms), limit, a unique member.
# Returns 0 if the event is allowed (and counted), else milliseconds until it would be.
_TAKE = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""


class RateLimiter:
    def __init__(self, redis: "Redis", keys: Keys, family: str, limit: int, window_s: int):
        """`family` names what is limited, in keys and in the error: "posts", say."""
        self._keys = keys
        self._family = family
        self._limit = limit
        self._window_ms = window_s * 1000
        self._take = redis.register_script(_TAKE)

    async def take(self, user_id: str) -> None:
        """Counts one event for the user, or raises RATE_LIMITED without counting it."""
        args: list[str | int] = [
            int(time.time() * 1000),
            self._window_ms,
            self._limit,
            uuid.uuid4().hex,
        ]
        wait_ms = int(await self._take([self._keys.rate(self._family, user_id)], args))
        if wait_ms:
            retry_after = max(1, -(-wait_ms // 1000))
            window_s = self._window_ms // 1000
            raise RateLimited(
                f"Too many {self._family}: at most {self._limit} per {window_s} seconds.",
                retryAfter=retry_after,
            )
