"""Ranking: a pluggable service may reorder a page; the timeline never depends on it."""

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

import httpx

from tidings.feed.read_model import PostView

log = logging.getLogger(__name__)


class Ranker(Protocol):
    # Pages served chronologically because ranking failed.
    fallbacks: int

    async def rank(self, viewer_id: str, posts: Sequence[PostView]) -> list[PostView]: ...


class Chronological:
    """The default: newest first, as the page already is."""

    fallbacks = 0

    async def rank(self, viewer_id: str, posts: Sequence[PostView]) -> list[PostView]:
        return list(posts)


class RemoteRanker:
    """Asks a ranking service over HTTP JSON; on any failure, serves chronologically.

    Request:  POST {url} {"viewerId": str, "candidates": [{"id", "authorId", "createdAt"}]}
    Response: 200 {"order": [post id, ...]}, a permutation of some of the candidate ids.
    Candidates it leaves out keep their chronological order after the ranked ones.
    """

    def __init__(self, client: httpx.AsyncClient, url: str, timeout_seconds: float) -> None:
        self._client = client
        self._url = url
        self._timeout = timeout_seconds
        self.fallbacks = 0

    async def rank(self, viewer_id: str, posts: Sequence[PostView]) -> list[PostView]:
        if len(posts) < 2:
            return list(posts)
        payload = {
            "viewerId": viewer_id,
            "candidates": [
                {"id": str(p.id), "authorId": p.author_id, "createdAt": p.created_at.isoformat()}
                for p in posts
            ],
        }
        try:
            # A hard bound on the whole exchange, not per connect/read/write phase.
            async with asyncio.timeout(self._timeout):
                response = await self._client.post(self._url, json=payload)
            response.raise_for_status()
            order = response.json()["order"]
            by_id = {str(post.id): post for post in posts}
            ranked = [by_id.pop(str(post_id)) for post_id in order if str(post_id) in by_id]
        except (TimeoutError, httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            self.fallbacks += 1
            log.warning(
                "ranking service failed (%s); serving chronologically", type(error).__name__
            )
            return list(posts)
        return ranked + [post for post in posts if str(post.id) in by_id]
