"""What every resolver of one request shares: who asks, the use-cases, the loaders."""

import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from tidings.feed.comments import Comments
from tidings.feed.cursor import CursorCodec
from tidings.feed.errors import Unauthenticated
from tidings.feed.friends import Friendships
from tidings.feed.home import HomeTimeline
from tidings.feed.likes import Likes
from tidings.feed.live_timeline import LiveTimeline
from tidings.feed.media import MediaLibrary
from tidings.feed.notifications import Notifications
from tidings.feed.people import People
from tidings.feed.posts import PostService
from tidings.feed.ranked import RankedTimeline
from tidings.feed.reading import Reading
from tidings.resolvers.loaders import Loaders, ReadSources, build_loaders

# The id of the request being served, set by the app's middleware: it appears in
# every log line of the request and in INTERNAL errors.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

Key = TypeVar("Key")
Value = TypeVar("Value")


@dataclass(frozen=True)
class Backends:
    """The use-cases resolvers call, built once per API process by `app/api.py`."""

    timeline: HomeTimeline
    ranked: RankedTimeline
    reading: Reading
    live: LiveTimeline
    posting: PostService
    friendships: Friendships
    people: People
    likes: Likes
    comments: Comments
    notifications: Notifications
    media: MediaLibrary
    cursors: CursorCodec
    # Behind the request's core loaders.
    reads: ReadSources


# Makes a feature's loader for one request, from the request's context (its
# use-cases, its viewer, and `cache_loaded`: whether the loader may keep what it
# loaded).
LoaderFactory = Callable[["Context"], DataLoader[Key, Value]]


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
    # A WebSocket context lives as long as the connection: its loaders must batch
    # but not cache, or they would grow and go stale.
    long_lived: bool = False
    _features: dict[object, DataLoader[Any, Any]] = field(default_factory=dict)

    @classmethod
    def for_request(
        cls,
        backends: Backends,
        viewer_id: str | None,
        auth_error: Unauthenticated | None,
        *,
        long_lived: bool = False,
    ) -> "Context":
        loaders = build_loaders(backends.reads, cache=not long_lived)
        return cls(backends, loaders, viewer_id, auth_error, long_lived=long_lived)

    def loader(self, factory: LoaderFactory[Key, Value]) -> DataLoader[Key, Value]:
        """The request's loader made by `factory`, made on first use: a feature's
        module names its loader, and nothing else has to list it."""
        found = self._features.get(factory)
        if found is None:
            found = self._features[factory] = factory(self)
        return found

    @property
    def cache_loaded(self) -> bool:
        """Whether loaders may keep what they load (not on a long-lived socket)."""
        return not self.long_lived

    def forget_loaded(self) -> None:
        """After a mutation: what this request loaded before may be stale."""
        self.loaders.forget()
        for loader in self._features.values():
            loader.clear_all()

    def require_viewer(self) -> str:
        if self.viewer_id is None:
            raise self.auth_error or Unauthenticated("Sign in first.")
        return self.viewer_id
