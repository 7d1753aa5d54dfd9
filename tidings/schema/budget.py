"""Each signed-in user's query budget over time, in points of query cost.

GitHub's API charges points per hour for what a query costs; so does this, per
second with a burst: a token bucket per user, counted in the process (no store
round trip per request), charged with the cost the limits measured for what will
run. It is sized so that a person scrolling as fast as they can never meets it
(a timeline page with its authors costs about 220 points), while one token
cannot keep a core busy with expensive documents. Each API process counts on its
own: N processes allow N times the rate, which still bounds a user to a share.
"""

import math
import time
from collections import OrderedDict

from tidings.feed.errors import RateLimited

# Users whose buckets are kept; the least recently active leave first (a user who
# comes back starts with a full bucket, which is the generous error).
_USERS = 100_000


class QueryBudget:
    def __init__(self, points_per_second: float, burst: float) -> None:
        self._rate = points_per_second
        self._burst = burst
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self.refused = 0

    def charge(self, user_id: str, cost: int) -> None:
        """Takes `cost` points from the user's bucket, or RATE_LIMITED with how long
        until the bucket holds them (nothing is taken then)."""
        now = time.monotonic()
        points, then = self._buckets.pop(user_id, (self._burst, now))
        points = min(self._burst, points + (now - then) * self._rate)
        if cost > points:
            self._buckets[user_id] = (points, now)
            self.refused += 1
            wait = (min(cost, self._burst) - points) / self._rate
            raise RateLimited(
                "You are sending more, or costlier, queries than allowed; slow down.",
                retryAfter=max(1, math.ceil(wait)),
            )
        self._buckets[user_id] = (points - cost, now)
        if len(self._buckets) > _USERS:
            self._buckets.popitem(last=False)
