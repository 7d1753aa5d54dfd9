"""What a query selects below a field, fragments included: so a resolver that
builds a page can fetch, in one batched step, what the fields below will show."""

from collections.abc import Sequence

from strawberry.types.nodes import FragmentSpread, InlineFragment, Selection


def selects(selections: Sequence[Selection], path: Sequence[str]) -> bool:
    """Whether some selection follows `path` (field names, as the query spells them)."""
    if not path:
        return True
    head, rest = path[0], path[1:]
    for selection in selections:
        if isinstance(selection, FragmentSpread | InlineFragment):
            found = selects(selection.selections, path)
        else:
            found = selection.name == head and selects(selection.selections, rest)
        if found:
            return True
    return False
