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
    # The limiters build their rule classes when constructed. Built once here and
    # shared, so the validation cache, which is keyed on the rules, hits.
    rules = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
        PageSizeRule,
    ]
    if not introspection:
        rules += DisableIntrospection().validation_rules
    return [
        # Before the parser cache: the token limit is a parse option.
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: AddValidationRules(rules),
    ]
