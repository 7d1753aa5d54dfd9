"""A local Redis Cluster for tests and benchmarks, from the same redis-server binary."""

import os
from collections.abc import Sequence
from pathlib import Path

from tidings_tools.devstack import ChildProcess, accepts_connections, free_ports, redis_argv


def start_redis_cluster(data_dir: Path, ports: Sequence[int], log_dir: Path) -> list[ChildProcess]:
    """A Redis Cluster of len(ports) primaries (no replicas) on loopback, for tests.

    Built with CLUSTER ADDSLOTSRANGE and MEET, since the wheel ships no redis-cli.
    Each node's bus port is chosen free, as the default (port + 10000) may not be.
    """
    import redis  # the synchronous client: this runs before any event loop

    nodes = []
    bus_ports = dict(zip(ports, free_ports(len(ports), besides=ports), strict=True))
    for port in ports:
        node_dir = data_dir / str(port)
        node_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            *redis_argv(port, node_dir),
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-port", str(bus_ports[port]),
            "--appendonly", "no",
        ]  # fmt: skip
        node = ChildProcess(
            f"redis-cluster-{port}", argv, log_dir / f"{port}.log", dict(os.environ)
        )
        node.wait_until(accepts_connections(port, b"PING\r\n", b"+PONG"), timeout=60)
        nodes.append(node)
    slots = 16384
    share = slots // len(ports)
    for index, port in enumerate(ports):
        last = slots - 1 if index == len(ports) - 1 else (index + 1) * share - 1
        with redis.Redis(port=port) as client:
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", index * share, last)
    with redis.Redis(port=ports[0]) as first:
        for port in ports[1:]:
            first.execute_command("CLUSTER", "MEET", "127.0.0.1", port, bus_ports[port])

    def converged() -> bool:
        for port in ports:
            with redis.Redis(port=port) as client:
                info = client.execute_command("CLUSTER", "INFO")
                text = info.decode() if isinstance(info, bytes) else str(info)
                if (
                    "cluster_state:ok" not in text
                    or f"cluster_known_nodes:{len(ports)}" not in text
                ):
                    return False
        return True

    nodes[0].wait_until(converged, timeout=60)
    return nodes
