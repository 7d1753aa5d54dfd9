"""Every error leaves with an `extensions.code`, and nothing internal leaves at all."""

import logging
import uuid

from graphql import GraphQLError

from tidings.feed.errors import TidingsError
from tidings.resolvers.context import request_id as current_request_id
from tidings.resolvers.failures import retry_after_outage

log = logging.getLogger(__name__)

INTERNAL_MESSAGE = "Something went wrong on our side."


def assign_code(error: GraphQLError) -> None:
    """Gives `error` its contract code, in place, masking anything unexpected."""
    original = error.original_error
    if isinstance(original, TidingsError):
        error.message = original.message
        error.extensions = {**original.extensions, "code": original.code}
    elif (retry_after := retry_after_outage(original)) is not None:
        # A store is down, slow or restarting: the request was fine, retry it soon.
        log.warning("store unavailable, path %s: %r", error.path, original)
        error.message = "A store behind this field is unavailable; retry shortly."
        error.extensions = {"code": "UNAVAILABLE", "retryAfter": retry_after}
        error.original_error = None
    elif original is None or isinstance(original, GraphQLError):
        # Syntax, validation and variable-coercion errors: the request was wrong,
        # and graphql-core's message says how without revealing anything of ours.
        error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
    else:
        request_id = current_request_id.get() or uuid.uuid4().hex
        log.error(
            "unexpected error, request id %s, path %s",
            request_id,
            error.path,
            exc_info=(type(original), original, original.__traceback__),
        )
        error.message = INTERNAL_MESSAGE
        error.extensions = {"code": "INTERNAL", "requestId": request_id}
        error.original_error = None
