"""Limits checked before execution, so abusive documents cost almost nothing.

Depth, aliases and cost are measured in one pass over the document, in time
linear in its size: each fragment is measured once and its measure reused at
every spread, yet counted as if expanded, so a fragment spread ten times per
level over six levels counts a million fields without visiting them. (The
limiters Strawberry ships walk each spread again wherever it appears: a 558-byte
document of nested spreads cost them seconds.)

A field costs 1, and a list field multiplies what it selects by its size. Which
fields are lists, and by which argument, is read from the schema itself
(`CostModel`): any field with a `first` or `last` argument is paged (costing its
default page when neither is given), and any list argument (`ids`) costs by its
length; so a new connection is costed without anyone listing it here.

Cost is measured twice. Validation (cached per document) measures each variable
at its declared default, or at the smallest size it could take: a lower bound,
so a document that is over budget whatever its variables never runs. Execution
then measures what will really run, with the variables sent: a variable's
default cannot hide the value that comes with the request. Either way a query
over budget is refused before anything runs, with its cost and the limit.
"""

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    BREAK,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_nullable_type,
    is_list_type,
)
from graphql.language import ArgumentNode, ValueNode
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    SchemaExtension,
)

from tidings.feed.paging import MAX_PAGE
from tidings.schema.budget import QueryBudget

DEFAULT_PAGE = 20
PAGE_ARGUMENTS = ("first", "last")


@dataclass(frozen=True, slots=True)
class SizedField:
    """How many items a list field of the schema may return."""

    # Its page-size arguments present in the schema (`first`, `last`).
    page_arguments: tuple[str, ...] = ()
    # Its list arguments (`ids`): the field returns one item per element.
    list_arguments: tuple[str, ...] = ()
    # The page it returns when no size is given.
    default: int = DEFAULT_PAGE


@dataclass
class CostModel:
    """Which fields multiply what they select, by field name, read from a schema.

    Keyed by name alone, since the measure walks documents without type info; a
    name sized in one type and not in another counts as sized (never under)."""

    sized: dict[str, SizedField] = field(default_factory=dict)
    # List fields without size arguments, by name, and the most items each
    # returns (a post's `media`): the schema cannot say it.
    bounded: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, schema: GraphQLSchema) -> "CostModel":
        model = cls()
        model.learn(schema)
        return model

    def learn(self, schema: GraphQLSchema) -> None:
        """Reads the sized fields of `schema` (built after the limits that use this)."""
        sized = self.sized
        for name, bound in self.bounded.items():
            sized[name] = SizedField(default=bound)
        for name, definition in _object_fields(schema):
            pages = tuple(arg for arg in PAGE_ARGUMENTS if arg in definition.args)
            lists = tuple(
                arg_name
                for arg_name, argument in definition.args.items()
                if is_list_type(get_nullable_type(argument.type))
            )
            if not pages and not lists:
                continue
            defaults = [definition.args[arg].default_value for arg in pages]
            given = [value for value in defaults if isinstance(value, int)]
            default = max(given) if given else DEFAULT_PAGE
            known = sized.get(name)
            if known is not None:
                pages = tuple(dict.fromkeys(known.page_arguments + pages))
                lists = tuple(dict.fromkeys(known.list_arguments + lists))
                default = max(default, known.default)
            sized[name] = SizedField(pages, lists, default)


def _object_fields(schema: GraphQLSchema) -> Iterator[tuple[str, Any]]:
    """(name, definition) of every field of the schema's own object types."""
    for type_name, named in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(named, GraphQLObjectType):
            continue
        yield from named.fields.items()


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
    """Measures operations of one document; remembers each fragment's measure.

    Without `variables` (validation), a variable counts as its declared default or
    the smallest size it could take; with them (execution), as the value sent.
    """

    def __init__(
        self,
        document: DocumentNode,
        model: CostModel,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        self._model = model
        self._variables = variables
        self._document = document
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
        sized = self._model.sized.get(field.name.value)
        if sized is None:
            return 1
        arguments = {argument.name.value: argument.value for argument in field.arguments or ()}
        for name in sized.list_arguments:
            if name in arguments:
                found = self._value(arguments[name])
                return len(found) if isinstance(found, list) else 1
        for name in sized.page_arguments:
            if name in arguments:
                found = self._value(arguments[name])
                if found is None:
                    return sized.default  # null: the field's own default page
                return max(0, min(found, MAX_PAGE)) if isinstance(found, int) else 1
        return sized.default

    def _value(self, value: ValueNode) -> Any:
        """A literal's value; a variable's as sent, else its default, else None (the
        field's default applies) when measuring for execution, or 1 item (the least
        it can be) when measuring without variables."""
        if isinstance(value, VariableNode):
            name = value.name.value
            if self._variables is not None and name in self._variables:
                return self._variables[name]
            default = self._defaults.get(name)
            if default is not None:
                return self._value(default)
            return None if self._variables is not None else 1
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, ListValueNode):
            return list(value.values)
        return None

    def measure(self, operation_name: str | None) -> Measure | None:
        """The measure of the operation a request runs; None if there is no such one
        (graphql-core's own checks report that)."""
        operations = [
            definition
            for definition in self._document.definitions
            if isinstance(definition, OperationDefinitionNode)
        ]
        for operation in operations:
            name = operation.name.value if operation.name else None
            if (operation_name is None and len(operations) == 1) or name == operation_name:
                return self.operation(operation)
        return None


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


def over_budget(cost: int, max_cost: int, node: Any = None) -> GraphQLError:
    return GraphQLError(
        f"The query costs {cost}; the limit is {max_cost}. "
        "Ask for smaller pages or fewer nested lists.",
        node,
        extensions={"cost": cost, "maxCost": max_cost},
    )


def document_limits_rule(
    *, max_depth: int, max_aliases: int, max_cost: int, model: CostModel
) -> type[ValidationRule]:
    """A validation rule that refuses operations over any of the three limits
    (cost at its lower bound: see the module's docstring)."""

    class DocumentLimits(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: object) -> object:
            measurer = DocumentMeasurer(node, model)
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
                    self.report_error(over_budget(measure.cost, max_cost, definition))
            return BREAK  # measured whole: nothing left for this rule to visit

    return DocumentLimits


class PageSizeRule(ValidationRule):
    """Rejects a literal `first` or `last` outside 1..MAX_PAGE at validation time.

    Values passed as variables are checked by the resolvers.
    """

    def enter_argument(self, node: ArgumentNode, *_args: object) -> None:
        value, name = node.value, node.name.value
        if name not in PAGE_ARGUMENTS or not isinstance(value, IntValueNode):
            return
        if not 1 <= int(value.value) <= MAX_PAGE:
            self.report_error(GraphQLError(f"`{name}` must be between 1 and {MAX_PAGE}.", node))


class CostLimit(SchemaExtension):
    """Refuses, before it runs, an operation whose cost with the variables sent is
    over budget (validation measured it at its lower bound), then charges that
    cost to the viewer's budget over time."""

    def __init__(self, *, max_cost: int, model: CostModel, budget: QueryBudget | None) -> None:
        self._max_cost = max_cost
        self._model = model
        self._budget = budget

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            measurer = DocumentMeasurer(document, self._model, context.variables or {})
            measure = measurer.measure(context.operation_name)
            if measure is not None and measure.cost > self._max_cost:
                raise over_budget(measure.cost, self._max_cost)
            viewer_id = getattr(context.context, "viewer_id", None)
            if measure is not None and self._budget is not None and viewer_id is not None:
                self._budget.charge(viewer_id, measure.cost)
        yield


def limit_extensions(
    *,
    max_depth: int,
    max_aliases: int,
    max_tokens: int,
    max_cost: int,
    introspection: bool,
    model: CostModel,
    budget: QueryBudget | None = None,
) -> list[Callable[[], SchemaExtension]]:
    # Rule classes built once here and shared, so the validation cache, which is
    # keyed on the rules, hits.
    rules = [
        document_limits_rule(
            max_depth=max_depth, max_aliases=max_aliases, max_cost=max_cost, model=model
        ),
        PageSizeRule,
    ]
    if not introspection:
        rules += DisableIntrospection().validation_rules
    return [
        # Before the parser cache: the token limit is a parse option, linear in size.
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: AddValidationRules(rules),
        lambda: CostLimit(max_cost=max_cost, model=model, budget=budget),
    ]
