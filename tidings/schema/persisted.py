"""Automatic persisted queries (Apollo's APQ protocol): a client sends a query's
SHA-256 instead of its text, and the text only when the server does not know it.

A known hash costs no upload of the query, and the text it maps to is the same
string every time, so Strawberry's parser and validation caches answer for it.
Each API process keeps its own bounded map; a process that has not seen a hash
answers PERSISTED_QUERY_NOT_FOUND, and the client sends the text once more.
"""

import hashlib
from collections import OrderedDict
from typing import Any

from tidings.feed.errors import BadUserInput, TidingsError

# Longer queries still run; they are just not remembered (memory stays bounded).
MAX_REMEMBERED_LENGTH = 16_384


class PersistedQueryNotFound(TidingsError):
    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        # Apollo's clients look for this exact message, then send the query.
        super().__init__("PersistedQueryNotFound")


class PersistedQueries:
    def __init__(self, capacity: int = 1_000) -> None:
        self._capacity = capacity
        self._queries: OrderedDict[str, str] = OrderedDict()

    def resolve(
        self, query: str | None, extensions: dict[str, Any] | None, *, may_register: bool = True
    ) -> str | None:
        """The query to run: the one sent, or the one its hash names. Only a signed-in
        user may register one (`may_register`): nobody else can evict the cache."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            return query
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise BadUserInput("Only version 1 of persisted queries is supported.")
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or len(digest) != 64:
            raise BadUserInput("persistedQuery.sha256Hash must be 64 hex digits.")
        digest = digest.lower()
        if query is None:
            known = self._queries.get(digest)
            if known is None:
                raise PersistedQueryNotFound
            self._queries.move_to_end(digest)
            return known
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise BadUserInput("provided sha does not match query")
        if may_register and len(query) <= MAX_REMEMBERED_LENGTH:
            self._queries[digest] = query
            self._queries.move_to_end(digest)
            while len(self._queries) > self._capacity:
                self._queries.popitem(last=False)
        return query
