"""`tidings bench` at its tiny size against a real stack: a complete report, not timings."""

import asyncio
import math
from pathlib import Path

import pytest

from tests.app.processes import api_process, worker_process
from tests.conftest import JWT_SECRET, drop_namespace
from tidings.app.settings import Settings
from tidings_tools.bench import TINY, run_bench


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_the_tiny_bench_produces_a_complete_report(
    settings: Settings, tmp_path: Path
) -> None:
    # Two readers at full speed: far past a person's query budget, as the bench needs.
    settings = settings.model_copy(
        update={"celebrity_threshold": 20, "query_points_per_second": 1_000_000}
    )
    api, base = await api_process(settings, tmp_path / "api.log")
    worker = await worker_process(settings, tmp_path / "worker.log")
    try:
        report = await run_bench(settings, f"{base}/graphql", TINY, JWT_SECRET, tmp_path / "logs")
    finally:
        for process in (api, worker):
            process.terminate()
        await asyncio.gather(api.wait(), worker.wait())
        await drop_namespace(settings)

    read = report["read"]
    for name in (
        "first_page",
        "first_page_social",
        "deep_page",
        "ceiling_a_static_strawberry",
        "ceiling_a_social",
        "ranked_page",
    ):
        assert read[name]["requests"] > 0
        assert read[name]["errors"] == 0
        assert read[name]["p50_ms"] > 0
    assert set(read["strategies_c"]) >= {"pure_push", "pure_pull", "hybrid"}
    if settings.s3_bucket:  # the suite's S3 server runs wherever it can be built
        for name in ("first_page_media", "ceiling_a_media"):
            assert read[name]["requests"] > 0
            assert read[name]["errors"] == 0
        process = report["media"]["process"]
        assert process["ready"] == process["photos"] == 4
        assert process["images_per_s"] > 0
        assert read["first_page_media"]["photos_ready"] == read["first_page_media"]["photos"]
    write = report["write"]
    assert write["lagged_posts_seen"] == write["posts"] > 0
    fanout = report["fanout"]
    assert fanout["1_worker"]["deliveries_per_s"] > 0
    assert fanout["2_worker"]["deliveries_per_s"] > 0
    assert fanout["ceiling_b_raw_zadd"]["zadd_per_s"] > 0
    assert fanout["ceiling_server_zadd"]["zadd_per_s"] > 0
    assert 0 < fanout["ratio_to_server"] <= fanout["ratio_to_b"]
    cluster = fanout["cluster"]
    for rate in ("single_server_per_s", "grouped_by_node_per_s", "one_call_per_reader_per_s"):
        assert cluster[rate] > 0, rate
    two = read["first_page_2_processes"]
    assert two["requests"] > 0
    assert two["errors"] == 0
    assert report["memory"]["bytes_per_entry"] > 0
    assert report["celebrities"]["10x_threshold"]["friends"] == 200
    attack = report["attack"]
    for phase in ("quiet", "under_attack"):
        assert attack[phase]["healthz"]["errors"] == 0
        assert attack[phase]["cheap_query"]["errors"] == 0
    # Every attack was refused, none ran: the anonymous fragment bomb unparsed, the
    # signed-in over-budget query for its cost.
    assert set(attack["attack_answers"]) == {"200 UNAUTHENTICATED", "200 BAD_USER_INPUT"}
    hot = report["interact"]["like_hot_post"]
    assert hot["hot_like_count"] == hot["likers"] == TINY.likers  # exact at the end
    assert hot["hot"]["likes"] == hot["spread"]["likes"] == TINY.likers
    assert hot["ratio_to_spread"] > 0
    notify = report["interact"]["notify_lag"]
    # Every like reached the author's subscription, each counted once.
    assert notify["never_notified"] == 0
    assert notify["notified_likes"] == notify["likes"] == TINY.likers
    assert 0 < notify["notifications"] <= TINY.likers
    # The verdicts judge this run's own figures (their thresholds: test_bench_targets.py).
    values = [target["value"] for target in report["targets"].values()]
    assert values == [
        read["first_page"]["ratio_to_a"],
        fanout["ratio_to_b"],
        write["lag_to_timeline"]["p99_ms"],
        report["memory"]["bytes_per_entry"],
        report["celebrities"]["ratio_10x_to_1x"],
        read["first_page_social"]["ratio_to_a"],
        read["first_page_social"]["p99_ms"],
        hot["ratio_to_spread"],
        notify["p99_ms"],
        read["ranked_page"]["ratio_to_a"],
        read["ranked_session_start"]["p99_ms"],
        *([read["first_page_media"]["ratio_to_a"]] if settings.s3_bucket else []),
        fanout["ratio_to_server"],
        fanout["sustained"]["lag_to_timeline"]["p99_ms"],
    ]
    sustained = fanout["sustained"]
    # Every post of the held rate reached the watched friend's timeline.
    assert sustained["lagged_posts_seen"] == sustained["posts"] > 0
    # At most the first probe's 90 % (both figures are rounded to 0.1).
    assert 0 < sustained["posts_per_s"] <= 0.9 * sustained["drained_posts_per_s"] + 0.1
    assert sustained["backlog_max"] >= sustained["backlog_end"]
    assert "neo4j" not in fanout  # the tiny size starts no Neo4j
    assert read["ranked_session_start"]["sessions"] > 0
    assert all(math.isfinite(value) for value in values)
