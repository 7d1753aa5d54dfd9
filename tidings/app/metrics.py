"""Prometheus metrics, one registry per process (no module-global state).

The domain keeps plain counters as attributes (`feed/` knows nothing of
Prometheus); a collector reads them at scrape time. Latencies are histograms fed
through small hooks.
"""

from collections.abc import Callable, Iterable, Sequence

from prometheus_client import (
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from tidings.stores.breaker import Breaker, BreakerState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
_LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class AttributeCounters(Collector):
    """Counters whose values live in the objects that count them."""

    def __init__(self, counters: Iterable[tuple[str, str, Callable[[], float]]]) -> None:
        self._counters = list(counters)

    def collect(self) -> Iterable[CounterMetricFamily]:
        for name, help_text, value in self._counters:
            yield CounterMetricFamily(name, help_text, value=value())


class BreakerStates(Collector):
    """Each store's breaker: open or not, how often it opened, calls it refused."""

    def __init__(self, breakers: Sequence[Breaker]) -> None:
        self._breakers = list(breakers)

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        state = GaugeMetricFamily(
            "tidings_store_breaker_open",
            "1 while a store's breaker fails calls at once",
            labels=["store"],
        )
        trips = CounterMetricFamily(
            "tidings_store_breaker_trips", "Times a store's breaker opened", labels=["store"]
        )
        rejected = CounterMetricFamily(
            "tidings_store_calls_refused",
            "Store calls failed at once, UNAVAILABLE, while the breaker was open",
            labels=["store"],
        )
        for breaker in self._breakers:
            state.add_metric([breaker.store], float(breaker.state is not BreakerState.CLOSED))
            trips.add_metric([breaker.store], breaker.trips)
            rejected.add_metric([breaker.store], breaker.rejected)
        yield from (state, trips, rejected)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()

    def counters(self, counters: Iterable[tuple[str, str, Callable[[], float]]]) -> None:
        self.registry.register(AttributeCounters(counters))

    def breakers(self, breakers: Sequence[Breaker]) -> None:
        self.registry.register(BreakerStates(breakers))

    def latency(self, name: str, help_text: str) -> Histogram:
        return Histogram(name, help_text, buckets=_LATENCY_BUCKETS, registry=self.registry)

    def lag(self, name: str, help_text: str) -> Histogram:
        return Histogram(name, help_text, buckets=_LAG_BUCKETS, registry=self.registry)

    def gauge(self, name: str, help_text: str) -> Gauge:
        return Gauge(name, help_text, registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def serve(self, host: str, port: int, candidates: int = 1) -> Callable[[], None]:
        """Serves /metrics on a port of its own, off the public listener; returns a stop.

        With several processes of one role on a host (`tidings api --workers N`),
        each takes the first free port of `port` .. `port + candidates - 1`.
        """
        for offset in range(candidates):
            try:
                server, _thread = start_http_server(
                    port + offset, addr=host, registry=self.registry
                )
                break
            except OSError:
                if offset == candidates - 1:
                    raise

        def stop() -> None:
            server.shutdown()
            server.server_close()

        return stop
