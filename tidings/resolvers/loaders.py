"""The request's core DataLoaders: posts by id and by author, the viewer's ties, and
the figures shown beside posts (counts, first comments).

They are the read side's `ReadLookup` for one request. A feature's own lookups
(friend counts, likes, ...) are loaders its module makes, through
`Context.loader`, so none of them is listed here.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from tidings.feed.post_cache import PostCache
from tidings.feed.ties import TieCache
from tidings.stores.counters import PostStats, PostStatsStore
from tidings.stores.graph import FriendGraph, Relation
from tidings.stores.posts import PostDocument, PostStore


@dataclass(frozen=True)
class ReadSources:
    """What the core loaders read, built once per API process."""

    posts: PostStore
    graph: FriendGraph
    ties: TieCache
    # Posts this process holds: behind `by_id`, and what a page falls back on
    # while MongoDB is down.
    post_cache: PostCache
    # Counts and first comments: every feature shown beside a post reads its
    # figure from one batch of these, one query for the page.
    stats: PostStatsStore


@dataclass(frozen=True, slots=True)
class RecentKey:
    """The newest `limit` posts by `authors` (sorted, deduplicated), ids in [since, before)."""

    authors: tuple[str, ...]
    before: int | None
    limit: int
    since: int = 0


@dataclass(frozen=True)
class Loaders:
    """The request's loaders; also the read side's `ReadLookup` for this request."""

    by_id: DataLoader[int, PostDocument | None]
    # The same, asked of MongoDB whatever the process holds (reads by id).
    stored: DataLoader[int, PostDocument | None]
    by_authors: DataLoader[RecentKey, list[PostDocument]]
    # Keyed (viewer, other user). Friends and mutes only, from the tie cache: what
    # every read checks.
    ties: DataLoader[tuple[str, str], Relation]
    # The same keys, the whole relation from the graph (requests, blocks): for
    # the `friendship` field.
    standing: DataLoader[tuple[str, str], Relation]
    stats: DataLoader[int, PostStats]
    # The process's post cache, behind `by_id`.
    cache: PostCache

    async def posts(self, ids: Sequence[int]) -> list[PostDocument | None]:
        # Posts the process holds skip the loader's futures: a warm page is a dict
        # lookup per post; only the rest are batched into one MongoDB query.
        found: dict[int, PostDocument | None] = dict(self.cache.get_many(ids, count_misses=False))
        if missing := [post_id for post_id in ids if post_id not in found]:
            found.update(zip(missing, await self.by_id.load_many(missing), strict=True))
        return [found[post_id] for post_id in ids]

    async def stored_posts(self, ids: Sequence[int]) -> list[PostDocument | None]:
        return await self.stored.load_many(ids)

    async def recent(
        self, authors: Sequence[str], before: int | None, limit: int, *, since_id: int = 0
    ) -> list[PostDocument]:
        key = RecentKey(tuple(sorted(set(authors))), before, limit, since_id)
        found = await self.by_authors.load(key)
        for post in found:
            # Hydrating the page later costs no second query for these.
            self.by_id.prime(post.id, post)
        self.cache.put_many(found)
        return found

    def cached_posts(self, ids: Sequence[int]) -> dict[int, PostDocument]:
        return self.cache.get_many(ids)

    async def relations(self, viewer_id: str, user_ids: Sequence[str]) -> list[Relation]:
        return await self.ties.load_many([(viewer_id, user_id) for user_id in user_ids])

    def forget(self) -> None:
        """After a mutation: whatever this request read before may be stale."""
        for loader in (self.by_id, self.stored, self.by_authors, self.ties, self.standing):
            loader.clear_all()
        self.stats.clear_all()


def build_loaders(sources: ReadSources, *, cache: bool = True) -> Loaders:
    posts, post_cache = sources.posts, sources.post_cache

    async def load_posts(ids: Sequence[int]) -> list[PostDocument | None]:
        found = post_cache.get_many(ids)
        if missing := [post_id for post_id in ids if post_id not in found]:
            fetched = await posts.get_many(missing)
            post_cache.put_many(fetched.values())
            found.update(fetched)
        return [found.get(post_id) for post_id in ids]

    async def load_stored(ids: Sequence[int]) -> list[PostDocument | None]:
        fetched = await posts.get_many(ids)
        post_cache.put_many(fetched.values())
        return [fetched.get(post_id) for post_id in ids]

    async def load_recent(keys: Sequence[RecentKey]) -> list[list[PostDocument]]:
        # One query per distinct key; a timeline page asks for one or two keys.
        return list(
            await asyncio.gather(
                *(
                    posts.recent_by_authors(key.authors, key.before, key.limit, since_id=key.since)
                    for key in keys
                )
            )
        )

    def by_viewer(
        load: Callable[[str, Sequence[str]], Awaitable[list[Relation]]],
    ) -> Callable[[Sequence[tuple[str, str]]], Awaitable[list[Relation]]]:
        async def load_pairs(keys: Sequence[tuple[str, str]]) -> list[Relation]:
            # A request has one viewer; group anyway, so nothing depends on it.
            grouped: dict[str, list[str]] = {}
            for viewer_id, user_id in keys:
                grouped.setdefault(viewer_id, []).append(user_id)
            found: dict[tuple[str, str], Relation] = {}
            for viewer_id, user_ids in grouped.items():
                for user_id, relation in zip(
                    user_ids, await load(viewer_id, user_ids), strict=True
                ):
                    found[viewer_id, user_id] = relation
            return [found[key] for key in keys]

        return load_pairs

    async def load_stats(post_ids: Sequence[int]) -> list[PostStats]:
        found = await sources.stats.of(post_ids)
        return [found[post_id] for post_id in post_ids]

    return Loaders(
        by_id=DataLoader(load_fn=load_posts, cache=cache),
        stored=DataLoader(load_fn=load_stored, cache=cache),
        by_authors=DataLoader(load_fn=load_recent, cache=cache),
        ties=DataLoader(load_fn=by_viewer(sources.ties.ties), cache=cache),
        standing=DataLoader(load_fn=by_viewer(sources.graph.relations), cache=cache),
        stats=DataLoader(load_fn=load_stats, cache=cache),
        cache=post_cache,
    )
