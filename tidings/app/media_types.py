"""Which JSON media type a GraphQL-over-HTTP response is sent as.

The spec's own type, `application/graphql-response+json`, lets a client tell a
request the server refused (4xx, no `data`) from an executed one; plain
`application/json` keeps every GraphQL answer at 200 for clients that predate it.
"""

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def response_media_type(accept: str | None) -> str:
    """The client's preferred of the two; `application/json` when it states none.

    A missing Accept, `*/*` alone or a tie keeps `application/json`, which every
    client before the spec understands.
    """
    best: dict[str, float] = {}
    for item in (accept or "").split(","):
        media_range, *parameters = item.split(";")
        media_range = media_range.strip().lower()
        quality = _quality(parameters)
        for candidate in (GRAPHQL_RESPONSE, JSON):
            if media_range in (candidate, "*/*", "application/*"):
                # An exact name outranks a wildcard whatever its order.
                exact = media_range == candidate
                score = quality + (0.0001 if exact else 0.0)
                best[candidate] = max(best.get(candidate, -1.0), score)
    graphql_response = best.get(GRAPHQL_RESPONSE, 0.0)
    json = best.get(JSON, 0.0)
    if graphql_response > json and graphql_response > 0.0001:
        return GRAPHQL_RESPONSE
    return JSON
