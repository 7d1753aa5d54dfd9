"""Photos on a page: one batch step reads every post's media in one query, and
uploads for the viewer's next post."""

from collections.abc import Awaitable, Sequence
from typing import cast

from strawberry.dataloader import DataLoader

from tidings.feed.media import MediaLibrary, MediaSize, MediaView, UploadTicket
from tidings.feed.read_model import PostView
from tidings.resolvers.context import Context
from tidings.resolvers.page_builder import BatchStep, PageFacts


def _media_loader(ctx: Context) -> DataLoader[str, MediaView | None]:
    library: MediaLibrary = ctx.backends.media

    async def batch(media_ids: Sequence[str]) -> list[MediaView | None]:
        found = await library.views(media_ids)
        return [found.get(media_id) for media_id in media_ids]

    return DataLoader(load_fn=batch, cache=ctx.cache_loaded)


async def _page(ctx: Context, posts: Sequence[PostView]) -> dict[int, list[MediaView]]:
    """Every post's media in one round trip; a record already swept is left out."""
    ids = [media_id for post in posts for media_id in post.media]
    found = {view.id: view for view in await _in_order(ctx, tuple(ids))}
    return {post.id: [found[i] for i in post.media if i in found] for post in posts}


MEDIA = BatchStep("media", frozenset({"media"}), _page)


def media_of(
    ctx: Context, facts: PageFacts, post_id: int, media_ids: tuple[str, ...]
) -> list[MediaView] | Awaitable[list[MediaView]]:
    """The post's media as the page loaded them, or batched with the request's
    other posts outside a page; a post without photos costs nothing."""
    if not media_ids:
        return []
    known = facts.get(MEDIA, post_id)
    if known is not None:
        return known
    return _in_order(ctx, media_ids)


async def _in_order(ctx: Context, media_ids: tuple[str, ...]) -> list[MediaView]:
    found = await ctx.loader(_media_loader).load_many(media_ids)
    return [view for view in found if view is not None]


def url(library: MediaLibrary, media: MediaView, size: MediaSize) -> str | None:
    """Only reachable through a post the viewer may see (Post.media). A URL the
    process signed a moment ago is a plain value; a new one is awaited by
    graphql-core, so it is typed as the value (see PageFacts.or_load)."""
    return cast(str | None, library.url(media, size))


async def create_upload(ctx: Context, content_type: str, byte_size: int) -> UploadTicket:
    viewer_id = ctx.require_viewer()
    return await ctx.backends.media.create_upload(viewer_id, content_type, byte_size)
