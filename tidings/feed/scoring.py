"""The built-in score of a ranked session, from cheap signals, with the clock frozen
at the session's start:

    score = (1 + AFFINITY_WEIGHT * ln(1 + affinity))
          * (1 + ENGAGEMENT_WEIGHT * ln(1 + likes + 2 * comments))
          * 0.5 ** (age_hours / HALF_LIFE_HOURS)

`affinity` is what the viewer gave the author over the last 90 days (a like counts
1, a comment 2: feed/affinity.py); likes and comments are the post's own; age is
from the post's creation to the session's start. A close friend's fresh post
outranks a distant friend's older one; a post twice as old as the half-life needs
four times the pull to stay level. Ties go to the newer post.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

AFFINITY_WEIGHT = 1.0
ENGAGEMENT_WEIGHT = 0.5
HALF_LIFE_HOURS = 6.0


@dataclass(frozen=True, slots=True)
class Signals:
    post_id: int
    author_id: str
    created_at: datetime
    affinity: float = 0.0
    likes: int = 0
    comments: int = 0


def score(signals: Signals, now: datetime) -> float:
    age_hours = max(0.0, (now - signals.created_at).total_seconds() / 3600)
    pull = 1 + AFFINITY_WEIGHT * math.log1p(max(0.0, signals.affinity))
    engagement = 1 + ENGAGEMENT_WEIGHT * math.log1p(
        max(0, signals.likes) + 2 * max(0, signals.comments)
    )
    return float(pull * engagement * 0.5 ** (age_hours / HALF_LIFE_HOURS))


def ranked(candidates: Sequence[Signals], now: datetime) -> list[int]:
    """The candidates' ids, best first."""
    return [
        signals.post_id
        for signals in sorted(candidates, key=lambda s: (score(s, now), s.post_id), reverse=True)
    ]
