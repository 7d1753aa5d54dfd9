from strawberry.extensions import AddValidationRules

from tidings.schema.limits import PageSizeRule, limit_extensions


def test_validation_rules_are_the_same_objects_on_every_request() -> None:
    # Strawberry's validation cache is keyed on the rules: new rule classes per
    # request would make every request miss it (seen: a quarter of API time).
    factories = limit_extensions(max_depth=5, max_aliases=5, max_tokens=100, introspection=False)
    first = [factory() for factory in factories]
    second = [factory() for factory in factories]
    rules_first = [e.validation_rules for e in first if isinstance(e, AddValidationRules)]
    rules_second = [e.validation_rules for e in second if isinstance(e, AddValidationRules)]
    assert rules_first
    assert [tuple(r) for r in rules_first] == [tuple(r) for r in rules_second]
    assert PageSizeRule in rules_first[0]
    assert len(rules_first[0]) == 4  # depth, aliases, page size, no introspection
