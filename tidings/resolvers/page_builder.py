"""Building a page of posts as the query asked for it.

Anything shown beside a post that is not the post itself (its author's friend
count, likes, comments, media) comes from a feature's batch step: given the
page's posts and the viewer, it loads what the page needs in one round trip per
store, whatever the page size, before any field resolves. A step declares the
fields it serves, as paths below a post (`author.friendCount`), and runs only
when the query selects one of them. The builder reads the selection once,
fragments and aliases included; the fields then read plain values from the
page's facts. `schema/post_features.py` registers the steps.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from strawberry.dataloader import DataLoader
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from tidings.feed.read_model import PostView
from tidings.resolvers.context import Context

Key = TypeVar("Key")
Value = TypeVar("Value")

# How far below a post the builder looks: enough for `author.friendCount` and
# `comments.edges.node`, and bounded whatever the document.
_PATH_DEPTH = 4


@dataclass(frozen=True, eq=False)
class BatchStep(Generic[Key, Value]):
    """One feature's contribution to a page: what it loads, for which fields."""

    name: str
    # Paths below a post, as a query spells field names: "author.friendCount".
    fields: frozenset[str]
    # The page's posts (visible to the viewer) -> values keyed as the step likes
    # (by post id, by author id, ...), read back by the step's fields.
    load: Callable[[Context, Sequence[PostView]], Awaitable[Mapping[Key, Value]]]


class PageFacts:
    """What the page's batch steps loaded, for the fields to read."""

    __slots__ = ("_by_step",)

    def __init__(self, by_step: Mapping[BatchStep[Any, Any], Mapping[Any, Any]]) -> None:
        self._by_step = by_step

    def get(self, step: BatchStep[Key, Value], key: Key) -> Value | None:
        """The step's value for `key`, or None when the step did not run for this page."""
        values = self._by_step.get(step)
        return None if values is None else values.get(key)

    def or_load(
        self,
        step: BatchStep[Key, Value],
        key: Key,
        load: Callable[[], Awaitable[Value]],
    ) -> Value:
        """What a field returns: the page's value, plain (nothing to await per post),
        or where no step ran for this object (the viewer, a user of a friends list,
        a post outside a page), the feature's own batched lookup, which graphql-core
        awaits: typed as the value, since that is what the field resolves to."""
        known = self.get(step, key)
        if known is not None:
            return known
        return cast(Value, load())


NO_FACTS = PageFacts({})


class PostValues(Generic[Value]):
    """One value per post that a feature loads in batches (a count, the viewer's
    own like): the page's batch step, and for a post outside a page a loader that
    batches every such post of the request. One load function serves both."""

    def __init__(
        self,
        name: str,
        field: str,
        load: Callable[[Context, Sequence[int]], Awaitable[Mapping[int, Value]]],
    ) -> None:
        self._load = load
        self.step: BatchStep[int, Value] = BatchStep(name, frozenset({field}), self._page)

    def _loader(self, ctx: Context) -> DataLoader[int, Value]:
        async def batch(post_ids: Sequence[int]) -> list[Value]:
            found = await self._load(ctx, post_ids)
            return [found[post_id] for post_id in post_ids]

        return DataLoader(load_fn=batch, cache=ctx.cache_loaded)

    async def _page(self, ctx: Context, posts: Sequence[PostView]) -> dict[int, Value]:
        ids = [post.id for post in posts]
        values = await ctx.loader(self._loader).load_many(ids)
        return dict(zip(ids, values, strict=True))

    def resolve(self, ctx: Context, facts: PageFacts, post_id: int) -> Value:
        """The field's value: the page's, or batched with the request's other posts."""
        return facts.or_load(self.step, post_id, lambda: ctx.loader(self._loader).load(post_id))


def _fields(selections: Iterable[Selection]) -> Iterable[SelectedField]:
    """The fields of a selection set, fragments flattened."""
    for selection in selections:
        if isinstance(selection, FragmentSpread | InlineFragment):
            yield from _fields(selection.selections)
        elif isinstance(selection, SelectedField):
            yield selection


def selected_paths(selections: Iterable[Selection], at: Sequence[str]) -> frozenset[str]:
    """Every path selected below the node reached by following `at` (field names),
    as dotted field names, down to a bounded depth."""
    nodes = list(_fields(selections))
    for name in at:
        nodes = [inner for node in nodes if node.name == name for inner in _fields(node.selections)]
    found: set[str] = set()

    def collect(fields: Iterable[SelectedField], prefix: str, depth: int) -> None:
        for selected in fields:
            path = prefix + selected.name
            found.add(path)
            if depth > 1 and selected.selections:
                collect(_fields(selected.selections), path + ".", depth - 1)

    collect(nodes, "", _PATH_DEPTH)
    return frozenset(found)


class PageBuilder:
    def __init__(self, steps: Sequence[BatchStep[Any, Any]]) -> None:
        self.steps = tuple(steps)

    def wanted(self, paths: frozenset[str]) -> list[BatchStep[Any, Any]]:
        return [step for step in self.steps if not step.fields.isdisjoint(paths)]

    async def facts(
        self,
        ctx: Context,
        selections: Iterable[Selection],
        at: Sequence[str],
        posts: Sequence[PostView],
    ) -> PageFacts:
        """Runs the steps the selection below `at` needs, at once, over the page's posts."""
        if not posts:
            return NO_FACTS
        steps = self.wanted(selected_paths(selections, at))
        if not steps:
            return NO_FACTS
        loaded = await asyncio.gather(*(step.load(ctx, posts) for step in steps))
        return PageFacts(dict(zip(steps, loaded, strict=True)))
