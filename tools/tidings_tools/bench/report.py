"""The verdicts against the targets, and the report as a person reads it."""

from typing import Any

from tidings_tools.bench.measure import ratio


def targets(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    read, fan, write, memory = report["read"], report["fanout"], report["write"], report["memory"]
    social, interact = read["first_page_social"], report["interact"]
    hot, notify = interact["like_hot_post"], interact["notify_lag"]
    return {
        "first page >= 60% of ceiling (a)": {
            "value": read["first_page"]["ratio_to_a"],
            "met": read["first_page"]["ratio_to_a"] >= 0.6,
        },
        "fan-out per worker >= 50% of ceiling (b)": {
            "value": fan["ratio_to_b"],
            "met": fan["ratio_to_b"] >= 0.5,
        },
        "lag p99 < 0.5 s at the write rate": {
            "value": write["lag_to_timeline"]["p99_ms"],
            "met": write["lag_to_timeline"]["p99_ms"] < 500,
        },
        "<= 25 bytes per timeline entry at the cap": {
            "value": memory["bytes_per_entry"],
            "met": memory["bytes_per_entry"] <= 25,
        },
        "celebrity post cost flat in friend count (10x / 1x <= 1.5)": {
            "value": report["celebrities"]["ratio_10x_to_1x"],
            "met": report["celebrities"]["ratio_10x_to_1x"] <= 1.5,
        },
        "social first page >= 60% of its ceiling (a)": {
            "value": social["ratio_to_a"],
            "met": social["ratio_to_a"] >= 0.6,
        },
        "social first page p99 < 50 ms": {
            "value": social["p99_ms"],
            "met": social["p99_ms"] < 50,
        },
        "likes on a hot post >= 80% of as many spread, count exact": {
            "value": hot["ratio_to_spread"],
            "met": hot["ratio_to_spread"] >= 0.8 and hot["hot_like_count"] == hot["likers"],
        },
        "like-to-notification p99 < 0.5 s, none missed": {
            "value": notify["p99_ms"],
            "met": notify["p99_ms"] < 500 and notify["never_notified"] == 0,
        },
        "ranked next page >= 60% of ceiling (a)": {
            "value": read["ranked_page"]["ratio_to_a"],
            "met": read["ranked_page"]["ratio_to_a"] >= 0.6,
        },
        "ranked session start p99 < 50 ms": {
            "value": read["ranked_session_start"]["p99_ms"],
            "met": read["ranked_session_start"]["p99_ms"] < 50,
        },
        **_media_targets(read),
        "fan-out per worker >= 25% of ZADD as Redis takes it": {
            "value": fan["ratio_to_server"],
            "met": fan["ratio_to_server"] >= 0.25,
        },
        **_neo4j_targets(fan.get("neo4j", {})),
        **_sustained_targets(fan.get("sustained", {})),
    }


def _sustained_targets(sustained: dict[str, Any]) -> dict[str, dict[str, Any]]:
    lag = sustained.get("lag_to_timeline", {})
    if "p99_ms" not in lag:
        return {}
    return {
        "lag p99 < 0.5 s at the highest rate one worker sustains, backlog flat": {
            "value": lag["p99_ms"],
            "met": lag["p99_ms"] < 500 and sustained["backlog_flat"],
        }
    }


def _neo4j_targets(neo4j: dict[str, Any]) -> dict[str, dict[str, Any]]:
    if "ratio_to_falkordb" not in neo4j:
        return {}  # not asked for (--tiny), or no Java here: the report says why
    ratio = neo4j["ratio_to_falkordb"]
    return {"fan-out on Neo4j >= 50% of on FalkorDB": {"value": ratio, "met": ratio >= 0.5}}


def _media_targets(read: dict[str, Any]) -> dict[str, dict[str, Any]]:
    if "first_page_media" not in read:
        return {}  # no bucket: the report says why under "media"
    ratio = read["first_page_media"]["ratio_to_a"]
    return {"media first page >= 60% of its ceiling (a)": {"value": ratio, "met": ratio >= 0.6}}


def render(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    read, write, fan = report["read"], report["write"], report["fanout"]
    ceiling = read["ceiling_a_static_strawberry"]
    table = Table(title="Reads through the API (1 API process; 2 via --workers 2)")
    for column in ("query", "req/s", "p50 ms", "p95 ms", "p99 ms", "ratio to (a)"):
        table.add_column(column)
    for name in ("first_page", "first_page_social", "deep_page", "ranked_page"):
        row = read[name]
        table.add_row(
            name, str(row["rps"]), str(row["p50_ms"]), str(row["p95_ms"]), str(row["p99_ms"]),
            str(row["ratio_to_a"]),
        )  # fmt: skip
    two = read["first_page_2_processes"]
    table.add_row(
        "first_page, 2 processes", str(two["rps"]), str(two["p50_ms"]), str(two["p95_ms"]),
        str(two["p99_ms"]), f"{ratio(two['rps'], ceiling['rps'])} ({two['ratio_to_1']}x of 1)",
    )  # fmt: skip
    table.add_row(
        "(a) static Strawberry", str(ceiling["rps"]), str(ceiling["p50_ms"]),
        str(ceiling["p95_ms"]), str(ceiling["p99_ms"]), "1",
    )  # fmt: skip
    social = read["ceiling_a_social"]
    table.add_row(
        "(a) static Strawberry, social page", str(social["rps"]), str(social["p50_ms"]),
        str(social["p95_ms"]), str(social["p99_ms"]), "1 (for first_page_social)",
    )  # fmt: skip
    console.print(table)
    start = read["ranked_session_start"]
    console.print(
        f"Ranked session start ({start['candidates']} candidates, one at a time): "
        f"p50 {start['p50_ms']} ms, p99 {start['p99_ms']} ms over {start['sessions']} sessions"
    )

    media = report.get("media", {})
    if "process" in media:
        made, page, static = media["process"], read["first_page_media"], read["ceiling_a_media"]
        console.print(
            f"Media: {made['images_per_s']} photos/s of {made['megapixels']} MP through one "
            f"worker ({made['ready']}/{made['photos']} READY), post to READY p50 "
            f"{made['p50_ms']} ms, p99 {made['p99_ms']} ms; first page with 4 photos a post "
            f"{page['rps']} req/s (p99 {page['p99_ms']} ms), ratio {page['ratio_to_a']} to "
            f"its ceiling ({static['rps']} req/s)"
        )
    elif media:
        console.print(f"Media: skipped, {media['skipped']}")

    strategies = read["strategies_c"]
    table = Table(title="(c) One first page three ways, in-process")
    for column in ("strategy", "p50 ms", "p99 ms", "timeline writes per post"):
        table.add_column(column)
    for name in ("pure_push", "pure_pull", "hybrid"):
        row = strategies[name]
        writes = str(strategies["writes_per_post"][name])
        table.add_row(name, str(row["p50_ms"]), str(row["p99_ms"]), writes)
    console.print(table)

    table = Table(title="Writes")
    for column in ("figure", "value"):
        table.add_column(column)
    table.add_row("target rate (posts/s)", str(write["target_posts_per_s"]))
    table.add_row("achieved rate (posts/s)", str(write["achieved_posts_per_s"]))
    table.add_row("friends per author", str(write["friends_per_author"]))
    table.add_row(
        "createPost p50 / p99 ms", f"{write['create']['p50_ms']} / {write['create']['p99_ms']}"
    )
    lag = write["lag_to_timeline"]
    table.add_row("post-to-timeline lag p50 / p99 ms", f"{lag['p50_ms']} / {lag['p99_ms']}")
    console.print(table)

    table = Table(title="Fan-out")
    for column in ("workers", "deliveries/s", "per worker/s", "ratio to (b)"):
        table.add_column(column)
    zadd = fan["ceiling_b_raw_zadd"]["zadd_per_s"]
    for workers in (1, 2):
        row = fan[f"{workers}_worker"]
        table.add_row(
            str(workers), str(row["deliveries_per_s"]), str(row["per_worker_per_s"]),
            str(ratio(row["per_worker_per_s"], zadd)),
        )  # fmt: skip
    on_neo4j = fan.get("neo4j", {})
    if "1_worker" in on_neo4j:
        row = on_neo4j["1_worker"]
        table.add_row(
            "1, graph on Neo4j", str(row["deliveries_per_s"]), str(row["per_worker_per_s"]),
            f"{ratio(row['per_worker_per_s'], zadd)} ({on_neo4j['ratio_to_falkordb']}x FalkorDB)",
        )  # fmt: skip
    if sustained := fan.get("sustained"):
        lag = sustained.get("lag_to_timeline", {})
        table.add_row(
            f"1, held {sustained['seconds']:.0f}s at {sustained['posts_per_s']} posts/s",
            str(sustained["deliveries_per_s"]), str(sustained["deliveries_per_s"]),
            f"lag p50 / p99 {lag.get('p50_ms')} / {lag.get('p99_ms')} ms, backlog "
            f"{sustained['backlog_start']} -> {sustained['backlog_end']} "
            f"(max {sustained['backlog_max']})",
        )  # fmt: skip
    table.add_row("(b) raw pipelined ZADD", str(zadd), str(zadd), "1")
    server = fan["ceiling_server_zadd"]["zadd_per_s"]
    table.add_row(
        "ZADD as Redis sees it (raw socket)", str(server), str(server),
        f"{ratio(zadd, server)} (worker: {fan['ratio_to_server']})",
    )  # fmt: skip
    console.print(table)
    cluster = fan["cluster"]
    console.print(
        f"Fan-out in-process, {cluster['readers']} readers a post: one server "
        f"{cluster['single_server_per_s']}/s; {cluster['primaries']}-primary cluster "
        f"{cluster['grouped_by_node_per_s']}/s grouped by node, "
        f"{cluster['one_call_per_reader_per_s']}/s one call per reader "
        f"({cluster['grouped_to_per_reader']}x)"
    )

    memory, celebrities = report["memory"], report["celebrities"]
    console.print(
        f"Memory: {memory['bytes_per_entry']} bytes per entry at a cap of {memory['cap']} "
        f"({memory['encoding']}, zset-max-listpack-entries {memory['zset_max_listpack_entries']})"
    )
    console.print(
        "Celebrity post, worker cost p50: "
        f"{celebrities['1x_threshold']['worker_ms_per_post_p50']} ms at 1x the threshold, "
        f"{celebrities['10x_threshold']['worker_ms_per_post_p50']} ms at 10x"
    )
    hot = report["interact"]["like_hot_post"]
    console.print(
        f"Likes, {hot['likers']} distinct users: {hot['hot']['likes_per_s']}/s on one post "
        f"(p99 {hot['hot']['p99_ms']} ms), {hot['spread']['likes_per_s']}/s spread over "
        f"many ({hot['ratio_to_spread']}x); the hot post's count at the end: "
        f"{hot['hot_like_count']}"
    )
    notify = report["interact"]["notify_lag"]
    console.print(
        f"Like to live notification, {notify['likes']} likes at {notify['likes_per_s']}/s on "
        f"{notify['posts']} posts: p50 {notify['p50_ms']} ms, p99 {notify['p99_ms']} ms; "
        f"{notify['notifications']} notifications sent, {notify['never_notified']} likes "
        "never notified"
    )
    attack = report["attack"]
    table = Table(title=f"Under attack ({attack['attackers']} attackers)")
    for column in ("figure", "quiet", "under attack", "ratio"):
        table.add_column(column)
    quiet, attacked = attack["quiet"], attack["under_attack"]
    table.add_row(
        "/healthz p99 ms", str(quiet["healthz"]["p99_ms"]),
        str(attacked["healthz"]["p99_ms"]), str(attack["healthz_p99_ratio"]),
    )  # fmt: skip
    table.add_row(
        "cheap query req/s", str(quiet["cheap_query"]["rps"]),
        str(attacked["cheap_query"]["rps"]), str(attack["cheap_rps_ratio"]),
    )  # fmt: skip
    console.print(table)
    console.print(f"Attack answers: {attack['attack_answers']}")

    table = Table(title="Targets")
    for column in ("target", "value", "met"):
        table.add_column(column)
    for name, target in report["targets"].items():
        table.add_row(name, str(target["value"]), "yes" if target["met"] else "NO")
    console.print(table)
