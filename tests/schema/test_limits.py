"""Document limits: measured in one linear pass, spreads counted as expanded."""

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    Visitor,
    get_named_type,
    get_nullable_type,
    is_list_type,
    parse,
    visit,
)
from strawberry.extensions import AddValidationRules

from tidings.schema.limits import (
    DEFAULT_PAGE,
    CostModel,
    DocumentMeasurer,
    Measure,
    PageSizeRule,
    limit_extensions,
)
from tidings.schema.schema import build_schema
from tidings_tools.bench import fragment_bomb

SCHEMA = build_schema()
MODEL = SCHEMA.cost_model


def measure(query: str, variables: dict[str, Any] | None = None) -> tuple[Measure, int]:
    document = parse(query)
    measurer = DocumentMeasurer(document, MODEL, variables)
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return measurer.operation(operation), measurer.visited


def test_a_page_of_the_timeline_costs_its_fields_times_its_size() -> None:
    page, _ = measure(
        "{ timeline(first: 20) { edges { cursor node { id body author { id friendCount } } } "
        "pageInfo { hasNextPage endCursor } } }"
    )
    # 1 for timeline, and its 11 fields below counted for each of 20 posts (pageInfo
    # included: conservative, never under).
    assert page == Measure(depth=4, aliases=0, cost=1 + 20 * 11)


def test_nested_connections_multiply() -> None:
    one, _ = measure("{ viewer { friends(first: 100) { edges { node { id } } } } }")
    two, _ = measure(
        "{ viewer { friends(first: 100) { edges { node { "
        "friends(first: 100) { edges { node { id } } } } } } } }"
    )
    assert two.cost > 50 * one.cost


def test_a_fragment_bomb_is_counted_expanded_in_linear_time() -> None:
    query = fragment_bomb(per_level=10, levels=6)
    bomb, visited = measure(query)
    assert bomb.cost > 10**6  # a million leaves, as if expanded
    assert bomb.aliases >= 10**6 // 10  # every spread's aliases count again
    assert bomb.depth > 6 * 3
    # Yet each selection of the document was looked at once.
    selections = 0

    class Count(Visitor):
        def enter(self, node: Node, *_args: object) -> None:
            nonlocal selections
            selections += isinstance(node, FieldNode | FragmentSpreadNode | InlineFragmentNode)

    visit(parse(query), Count())
    assert visited == selections


FRIENDS = (
    "query($n: Int{default}) {{ viewer {{ friends(first: $n) {{ edges {{ node {{ id }} }} }} }} }}"
)


def test_without_variables_a_variable_counts_as_its_default_or_its_least() -> None:
    # Validation's lower bound: a document over budget whatever its variables.
    defaulted, _ = measure(FRIENDS.format(default=" = 5"))
    least, _ = measure(FRIENDS.format(default=""))
    assert defaulted.cost == 1 + 1 + 5 * 3
    assert least.cost == 1 + 1 + 1 * 3
    ids, _ = measure('{ posts(ids: ["1", "2"]) { id } }')
    any_ids, _ = measure("query($ids: [ID!]!) { posts(ids: $ids) { id } }")
    assert ids.cost == 1 + 2 * 1
    assert any_ids.cost == 1 + 1 * 1


def test_with_the_variables_sent_a_variable_counts_as_sent() -> None:
    # A declared default cannot hide the value the request brings.
    sent, _ = measure(FRIENDS.format(default=" = 1"), {"n": 100})
    assert sent.cost == 1 + 1 + 100 * 3
    # Not sent, no default: the field's own default page.
    absent, _ = measure(FRIENDS.format(default=""), {})
    assert absent.cost == 1 + 1 + DEFAULT_PAGE * 3
    ids, _ = measure("query($ids: [ID!]!) { posts(ids: $ids) { id } }", {"ids": ["1"] * 7})
    assert ids.cost == 1 + 7 * 1


def test_every_list_field_of_the_schema_is_costed() -> None:
    """Read from the schema: a new connection or list is costed without a list here."""
    schema = SCHEMA._schema
    for type_name, named in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(named, GraphQLObjectType):
            continue
        for name, field in named.fields.items():
            returned = get_named_type(field.type)
            paged = returned.name.endswith("Connection") or any(
                argument in field.args for argument in ("first", "last")
            )
            lists_objects = is_list_type(get_nullable_type(field.type)) and isinstance(
                returned, GraphQLObjectType
            )
            if name == "edges":
                continue  # sized by the connection it belongs to
            if paged or lists_objects:
                assert name in MODEL.sized, f"{type_name}.{name} is not costed"
                selection = (
                    " ".join(sorted(returned.fields)[:1]) if hasattr(returned, "fields") else ""
                )
                cost, _ = measure(f"{{ x: {name} {{ {selection} }} }}")
                assert cost.cost > 1 or name in {"posts"}, f"{type_name}.{name}"


def test_a_model_read_from_a_schema_sizes_connections_by_their_default() -> None:
    model = CostModel.of(SCHEMA._schema)
    assert model.sized["friends"].default == DEFAULT_PAGE
    assert model.sized["suggestedFriends"].default == 10
    assert model.sized["posts"].list_arguments == ("ids",)


def test_cyclic_fragments_do_not_loop() -> None:
    cyclic, _ = measure(
        "{ viewer { ...A } } fragment A on User { ...B } fragment B on User { ...A }"
    )
    assert cyclic == Measure(depth=1, aliases=0, cost=1)


def test_validation_rules_are_the_same_objects_on_every_request() -> None:
    # Strawberry's validation cache is keyed on the rules: new rule classes per
    # request would make every request miss it (seen: a quarter of API time).
    factories = limit_extensions(
        max_depth=5,
        max_aliases=5,
        max_tokens=100,
        max_cost=100,
        introspection=False,
        model=MODEL,
    )
    first = [factory() for factory in factories]
    second = [factory() for factory in factories]
    rules_first = [e.validation_rules for e in first if isinstance(e, AddValidationRules)]
    rules_second = [e.validation_rules for e in second if isinstance(e, AddValidationRules)]
    assert rules_first
    assert [tuple(r) for r in rules_first] == [tuple(r) for r in rules_second]
    assert PageSizeRule in rules_first[0]
    assert len(rules_first[0]) == 3  # document limits, page size, no introspection
