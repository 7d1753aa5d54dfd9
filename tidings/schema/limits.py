"""Limits checked before execution, so abusive documents cost almost nothing.

Depth, aliases and cost are measured in one pass over the document, in time
linear in its size: each fragment is measured once and its measure reused at
every spread, yet counted as if expanded, so a fragment spread ten times per
level over six levels counts a million fields without visiting them. (The
limiters Strawberry ships walk each spread again wherever it appears: a 558-byte
document of nested spreads cost them seconds.)

Cost is static: a field costs 1, and a list field multiplies what it selects by
its size, the literal `first` (or the size of a literal `ids` list), else the
variable's default, else the largest page allowed. A query over budget is
refused before anything runs, with its cost and the limit in the error.
"""

from collections.abc import Callable
from dataclasses import dataclass

from graphql import (
    BREAK,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
)
from graphql.language import ArgumentNode, ValueNode
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    SchemaExtension,
)

from tidings.feed.paging import MAX_PAGE

DEFAULT_PAGE = 20


@dataclass(frozen=True, slots=True)
class Measure:
    """Of a selection set, with every fragment spread counted as expanded."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0
    # Introspection is measured on its own scale: explorers send a query 14 deep
    # (type references nest `ofType`), bounded instead by its lists' nesting.
    lists: int = 0  # introspection's list fields nested on one path, where counted
    schema_depth: int = 0
    schema_lists: int = 0


class DocumentMeasurer:
    """Measures operations of one document; remembers each fragment's measure."""

    def __init__(self, document: DocumentNode) -> None:
        self._fragments = {
            node.name.value: node
            for node in document.definitions
            if isinstance(node, FragmentDefinitionNode)
        }
        self._defaults: dict[str, ValueNode | None] = {}
        self._measured: dict[str, Measure] = {}
        self._in_progress: set[str] = set()
        # Selections looked at, for tests of the linear bound.
        self.visited = 0

    def operation(self, operation: OperationDefinitionNode) -> Measure:
        self._defaults = {
            definition.variable.name.value: definition.default_value
            for definition in operation.variable_definitions or ()
        }
        # Fragments may read the operation's variable defaults: measured per operation.
        self._measured.clear()
        return self._selection_set(operation.selection_set)

    def _selection_set(self, selection_set: SelectionSetNode | None) -> Measure:
        if selection_set is None:
            return Measure()
        depth = aliases = cost = lists = schema_depth = schema_lists = 0
        for selection in selection_set.selections:
            self.visited += 1
            if isinstance(selection, FieldNode):
                inner = self._selection_set(selection.selection_set)
                nested = 1 + inner.depth if selection.selection_set else 0
                lists = max(lists, inner.lists + (selection.name.value in _SCHEMA_LISTS))
                if selection.name.value in _INTROSPECTION_ROOTS:
                    schema_depth = max(schema_depth, nested)
                    schema_lists = max(schema_lists, inner.lists)
                    nested = 1
                depth = max(depth, nested)
                aliases += inner.aliases + (selection.alias is not None)
                cost += 1 + self._size(selection) * inner.cost
            else:
                if isinstance(selection, InlineFragmentNode):
                    inner = self._selection_set(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    inner = self._fragment(selection.name.value)
                else:  # pragma: no cover  (the language has no other selection)
                    continue
                depth = max(depth, inner.depth)
                aliases += inner.aliases
                cost += inner.cost
                lists = max(lists, inner.lists)
                schema_depth = max(schema_depth, inner.schema_depth)
                schema_lists = max(schema_lists, inner.schema_lists)
        return Measure(depth, aliases, cost, lists, schema_depth, schema_lists)

    def _fragment(self, name: str) -> Measure:
        if name in self._measured:
            return self._measured[name]
        fragment = self._fragments.get(name)
        if fragment is None or name in self._in_progress:
            # Unknown or cyclic: graphql-core's own rules report it.
            return Measure()
        self._in_progress.add(name)
        measure = self._selection_set(fragment.selection_set)
        self._in_progress.discard(name)
        self._measured[name] = measure
        return measure

    def _size(self, field: FieldNode) -> int:
        """How many items a list field may return: what multiplies its selections."""
        arguments = {argument.name.value: argument for argument in field.arguments or ()}
        if "first" in arguments:
            return self._count(arguments["first"])
        if "ids" in arguments:
            value = self._value(arguments["ids"])
            return len(value.values) if isinstance(value, ListValueNode) else MAX_PAGE
        return DEFAULT_PAGE if field.name.value in _PAGED_FIELDS else 1

    def _count(self, argument: ArgumentNode) -> int:
        value = self._value(argument)
        if isinstance(value, IntValueNode):
            return max(0, min(int(value.value), MAX_PAGE))
        return MAX_PAGE

    def _value(self, argument: ArgumentNode) -> ValueNode:
        value: ValueNode = argument.value
        if isinstance(value, VariableNode):
            # Its default if declared; else the variable, which counts as the largest.
            return self._defaults.get(value.name.value) or value
        return value


_INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})
# Introspection's list fields. The explorers' query nests three (types, their
# fields, their arguments); nesting more (a field's type's fields...) walks the
# schema again at every level, so it is refused.
_SCHEMA_LISTS = frozenset(
    {
        "types",
        "fields",
        "args",
        "inputFields",
        "interfaces",
        "possibleTypes",
        "enumValues",
        "directives",
    }
)
MAX_SCHEMA_LISTS = 3
MAX_SCHEMA_DEPTH = 24

# Fields that answer a page of DEFAULT_PAGE when asked without `first`.
_PAGED_FIELDS = frozenset(
    {
        "timeline",
        "friends",
        "friendRequests",
        "sentFriendRequests",
        "blocked",
        "muted",
        "suggestedFriends",
    }
)


def document_limits_rule(
    *, max_depth: int, max_aliases: int, max_cost: int
) -> type[ValidationRule]:
    """A validation rule that refuses operations over any of the three limits."""

    class DocumentLimits(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: object) -> object:
            measurer = DocumentMeasurer(node)
            for definition in node.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                measure = measurer.operation(definition)
                if measure.depth > max_depth:
                    self.report_error(
                        GraphQLError(
                            f"The query's depth is {measure.depth}; the limit is {max_depth}.",
                            definition,
                        )
                    )
                if (
                    measure.schema_depth > MAX_SCHEMA_DEPTH
                    or measure.schema_lists > MAX_SCHEMA_LISTS
                ):
                    self.report_error(
                        GraphQLError(
                            f"The introspection query nests {measure.schema_lists} lists "
                            f"{measure.schema_depth} deep; the limits are {MAX_SCHEMA_LISTS} "
                            f"lists and depth {MAX_SCHEMA_DEPTH}.",
                            definition,
                        )
                    )
                if measure.aliases > max_aliases:
                    self.report_error(
                        GraphQLError(
                            f"The query uses {measure.aliases} aliases; "
                            f"the limit is {max_aliases}.",
                            definition,
                        )
                    )
                if measure.cost > max_cost:
                    self.report_error(
                        GraphQLError(
                            f"The query costs {measure.cost}; the limit is {max_cost}. "
                            "Ask for smaller pages or fewer nested lists.",
                            definition,
                            extensions={"cost": measure.cost, "maxCost": max_cost},
                        )
                    )
            return BREAK  # measured whole: nothing left for this rule to visit

    return DocumentLimits


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
    *, max_depth: int, max_aliases: int, max_tokens: int, max_cost: int, introspection: bool
) -> list[Callable[[], SchemaExtension]]:
    # Rule classes built once here and shared, so the validation cache, which is
    # keyed on the rules, hits.
    rules = [
        document_limits_rule(max_depth=max_depth, max_aliases=max_aliases, max_cost=max_cost),
        PageSizeRule,
    ]
    if not introspection:
        rules += DisableIntrospection().validation_rules
    return [
        # Before the parser cache: the token limit is a parse option, linear in size.
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: AddValidationRules(rules),
    ]
