"""What every resolver of one request shares: who asks, the use-cases, the loaders."""

import contextvars
from dataclasses import dataclass
from typing import Any

from tidings.feed.cursor import CursorCodec
from tidings.feed.errors import Unauthenticated
from tidings.feed.expiring_cache import ExpiringCache
from tidings.feed.friends import Friendships
from tidings.feed.home import HomeTimeline
from tidings.feed.live_timeline import LiveTimeline
from tidings.feed.post_cache import PostCache
from tidings.feed.posts import PostService
from tidings.feed.ties import TieCache
from tidings.resolvers.loaders import Loaders, build_loaders
from tidings.stores.graph import FriendGraph, UserSummary
from tidings.stores.posts import PostStore

# The id of the request being served, set by the app's middleware: it appears in
# every log line of the request and in INTERNAL errors.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


@dataclass(frozen=True)
class Backends:
    """What resolvers reach, built once per API process by `app/api.py`."""

    timeline: HomeTimeline
    live: LiveTimeline
    posting: PostService
    friendships: Friendships
    cursors: CursorCodec
    # Behind the loaders, and the friend lists (a keyset page straight from the graph).
    posts: PostStore
    graph: FriendGraph
    ties: TieCache
    post_cache: PostCache
    # Users' friend counts, kept briefly: a page shows its authors' counts, which
    # change far more rarely than pages are read. Evicted here on any change of
    # ties this process makes; another process's change shows within the TTL.
    summaries: ExpiringCache[str, UserSummary] | None = None


@dataclass
class Context:
    backends: Backends
    loaders: Loaders
    # Exactly one of these is set: who is asking, or why we could not tell.
    viewer_id: str | None
    auth_error: Unauthenticated | None
    # Set from `connection_init` on a WebSocket, before any operation runs.
    connection_params: dict[str, object] | None = None
    # On a WebSocket: the connection itself (for the socket policy to close it), the
    # subscriptions running now, and since when none has (loop time).
    socket: Any = None
    subscriptions: int = 0
    idle_since: float = 0.0

    @classmethod
    def for_request(
        cls,
        backends: Backends,
        viewer_id: str | None,
        auth_error: Unauthenticated | None,
        *,
        long_lived: bool = False,
    ) -> "Context":
        # A WebSocket context lives as long as the connection: its loaders must
        # batch but not cache, or they would grow and go stale.
        loaders = build_loaders(
            backends.posts,
            backends.graph,
            backends.ties,
            backends.post_cache,
            cache=not long_lived,
            summaries=backends.summaries,
        )
        return cls(backends, loaders, viewer_id, auth_error)

    def require_viewer(self) -> str:
        if self.viewer_id is None:
            raise self.auth_error or Unauthenticated("Sign in first.")
        return self.viewer_id
