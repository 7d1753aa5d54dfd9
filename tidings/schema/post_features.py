"""Every feature that shows something beside a post on a page, registered once.

Each is a batch step (`resolvers/page_builder.py`): it loads what a page of posts
needs in one round trip per store, and only when the query selects one of its
fields. A new feature adds its module (store calls, use-case, loader, step,
schema fields) and its step to this tuple.
"""

from typing import Any

from tidings.resolvers.comments import COMMENT_COUNTS, FIRST_COMMENTS
from tidings.resolvers.friend_counts import AUTHOR_FRIEND_COUNTS
from tidings.resolvers.likes import LIKE_COUNTS, VIEWER_LIKES
from tidings.resolvers.media import MEDIA
from tidings.resolvers.page_builder import BatchStep

POST_STEPS: tuple[BatchStep[Any, Any], ...] = (
    AUTHOR_FRIEND_COUNTS,
    LIKE_COUNTS.step,
    VIEWER_LIKES.step,
    COMMENT_COUNTS.step,
    FIRST_COMMENTS,
    MEDIA,
)
