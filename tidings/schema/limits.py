"""Limits checked before execution, so abusive documents cost almost nothing."""

from collections.abc import Callable

from graphql import GraphQLError, IntValueNode, ValidationRule
from graphql.language import ArgumentNode
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from tidings.feed.home import MAX_PAGE


class PageSizeRule(ValidationRule):
    """Rejects a literal `first` outside 1..MAX_PAGE at validation time.

    Values passed as variables are checked by the resolvers.
    """

    def enter_argument(self, node: ArgumentNode, *_args: object) -> None:
        value = node.value
        if node.name.value != "first" or not isinstance(value, IntValueNode):
            return
        if not 1 <= int(value.value) <= MAX_PAGE:
            self.report_error(GraphQLError(f"`first` must be between 1 and {MAX_PAGE}.", node))


def limit_extensions(
    *, max_depth: int, max_aliases: int, max_tokens: int, introspection: bool
) -> list[Callable[[], SchemaExtension]]:
    extensions: list[Callable[[], SchemaExtension]] = [
        # Before the parser cache: the token limit is a parse option.
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: MaxAliasesLimiter(max_alias_count=max_aliases),
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: AddValidationRules([PageSizeRule]),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return extensions
