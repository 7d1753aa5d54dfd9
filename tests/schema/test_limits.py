"""Document limits: measured in one linear pass, spreads counted as expanded."""

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    Visitor,
    parse,
    visit,
)
from strawberry.extensions import AddValidationRules

from tidings.schema.limits import DocumentMeasurer, Measure, PageSizeRule, limit_extensions
from tidings_tools.bench import fragment_bomb


def measure(query: str) -> tuple[Measure, int]:
    document = parse(query)
    measurer = DocumentMeasurer(document)
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


def test_variables_count_as_their_default_or_as_the_largest_page() -> None:
    defaulted, _ = measure(
        "query($n: Int = 5) { viewer { friends(first: $n) { edges { node { id } } } } }"
    )
    unbounded, _ = measure(
        "query($n: Int) { viewer { friends(first: $n) { edges { node { id } } } } }"
    )
    assert defaulted.cost < unbounded.cost
    ids, _ = measure('{ posts(ids: ["1", "2"]) { id } }')
    any_ids, _ = measure("query($ids: [ID!]!) { posts(ids: $ids) { id } }")
    assert ids.cost == 1 + 2 * 1
    assert any_ids.cost == 1 + 100 * 1


def test_cyclic_fragments_do_not_loop() -> None:
    cyclic, _ = measure(
        "{ viewer { ...A } } fragment A on User { ...B } fragment B on User { ...A }"
    )
    assert cyclic == Measure(depth=1, aliases=0, cost=1)


def test_validation_rules_are_the_same_objects_on_every_request() -> None:
    # Strawberry's validation cache is keyed on the rules: new rule classes per
    # request would make every request miss it (seen: a quarter of API time).
    factories = limit_extensions(
        max_depth=5, max_aliases=5, max_tokens=100, max_cost=100, introspection=False
    )
    first = [factory() for factory in factories]
    second = [factory() for factory in factories]
    rules_first = [e.validation_rules for e in first if isinstance(e, AddValidationRules)]
    rules_second = [e.validation_rules for e in second if isinstance(e, AddValidationRules)]
    assert rules_first
    assert [tuple(r) for r in rules_first] == [tuple(r) for r in rules_second]
    assert PageSizeRule in rules_first[0]
    assert len(rules_first[0]) == 3  # document limits, page size, no introspection
