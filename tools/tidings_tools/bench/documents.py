"""The documents the benchmark sends: pages, posts, and attacks once seen."""

PAGE = """query($after: String) { timeline(first: 20, after: $after) {
  edges { cursor node { id body createdAt client author { id friendCount } } }
  pageInfo { hasNextPage endCursor } } }"""
# The same page of a ranked reading session.
RANKED_PAGE = PAGE.replace(
    "timeline(first: 20, after: $after)", "timeline(first: 20, after: $after, order: RANKED)"
)
# What a client shows under each post: counts, the viewer's like, two comments.
SOCIAL_PAGE = """query($after: String) { timeline(first: 20, after: $after) {
  edges { cursor node { id body createdAt client author { id friendCount }
    likeCount viewerHasLiked commentCount
    comments(first: 2) { edges { cursor node { id body createdAt author { id } } }
      pageInfo { hasNextPage endCursor } } } }
  pageInfo { hasNextPage endCursor } } }"""
# Four photos under each post, with both of their URLs.
MEDIA_PAGE = """query($after: String) { timeline(first: 20, after: $after) {
  edges { cursor node { id body createdAt client author { id friendCount }
    media { id status contentType width height placeholder alt
      thumbnail: url(size: THUMBNAIL) large: url } } }
  pageInfo { hasNextPage endCursor } } }"""
CREATE = 'mutation { createPost(input: {body: "benchmark post"}) { post { id } } }'
CHEAP = "{ viewer { id friendCount } }"


def fragment_bomb(per_level: int = 10, levels: int = 6) -> str:
    """The 558-byte document that once cost the API seconds of CPU: spreads of spreads,
    per_level**levels fields once expanded."""
    fragments = ["fragment F0 on User { id }"]
    for level in range(1, levels + 1):
        spreads = " ".join(
            f"a{i}: friends {{ edges {{ node {{ ...F{level - 1} }} }} }}" for i in range(per_level)
        )
        fragments.append(f"fragment F{level} on User {{ {spreads} }}")
    return f"{{ viewer {{ ...F{levels} }} }} " + " ".join(fragments)


def costly_query() -> str:
    """Ten aliases of friends of friends of friends, 100 at a time: refused on cost."""
    nested = "id"
    for _ in range(3):
        nested = f"friends(first: 100) {{ edges {{ node {{ {nested} }} }} }}"
    return "{ " + " ".join(f"v{i}: viewer {{ {nested} }}" for i in range(10)) + " }"
