"""Every error leaves with an `extensions.code`, and nothing internal leaves at all."""

import logging
import uuid
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from tidings.feed.errors import TidingsError

log = logging.getLogger(__name__)

INTERNAL_MESSAGE = "Something went wrong on our side."


def coded_error(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, TidingsError):
        extensions = {**original.extensions, "code": original.code}
        message = original.message
    elif original is None:
        # Syntax, validation and variable-coercion errors: the request was wrong,
        # and graphql-core's message says how without revealing anything of ours.
        extensions = {"code": "BAD_USER_INPUT"}
        message = error.message
    else:
        request_id = uuid.uuid4().hex
        log.error(
            "unexpected error, request id %s, path %s",
            request_id,
            error.path,
            exc_info=(type(original), original, original.__traceback__),
        )
        extensions = {"code": "INTERNAL", "requestId": request_id}
        message = INTERNAL_MESSAGE
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [coded_error(error) for error in result.errors]
