"""Which failures are a store's outage, not a bug: those answer UNAVAILABLE."""

from tidings.stores.breaker import OUTAGES, StoreUnavailable


def retry_after_outage(error: BaseException | None) -> int | None:
    """Seconds to wait before retrying, if `error` says a store is down; else None."""
    if isinstance(error, StoreUnavailable):
        return error.retry_after
    if isinstance(error, OUTAGES):
        return 1
    return None
