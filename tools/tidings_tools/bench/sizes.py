"""How much the benchmark does: the default run, and a seconds-long smoke run."""

from dataclasses import dataclass


@dataclass(frozen=True)
class BenchSize:
    readers: int = 40
    authors: int = 200  # every reader's friends
    posts_per_author: int = 5
    read_seconds: float = 8.0
    concurrency: int = 8
    writers: int = 100
    followers: int = 200  # every writer's friends
    write_rate: float = 100.0
    write_seconds: float = 8.0
    fanout_posts: int = 300
    fanout_friends: int = 200
    probe_seconds: float = 12.0  # each rate tried for the sustained rate
    sustain_seconds: float = 60.0  # the sustained rate held
    fanout_on_neo4j: bool = True  # where Java and the launcher are: a Neo4j started for it
    memory_timelines: int = 50
    timeline_cap: int = 800
    zadd_batches: int = 50
    attack_seconds: float = 4.0
    attackers: int = 4  # of each kind: fragment bombs, over-budget queries
    likers: int = 400  # distinct users liking one hot post, then as many spread posts
    spread_posts: int = 50
    notify_posts: int = 10  # one author's posts that likes notify about
    notify_rate: float = 100.0  # likes a second, from distinct users
    media_authors: int = 20  # each posts four photos, for the media page
    process_posts: int = 3  # four photos each, of process_photo's size
    process_photo: tuple[int, int] = (4_000, 3_000)  # 12 megapixels


TINY = BenchSize(
    readers=2,
    authors=5,
    posts_per_author=2,
    read_seconds=0.5,
    concurrency=2,
    writers=3,
    followers=5,
    write_rate=10,
    write_seconds=0.5,
    fanout_posts=5,
    fanout_friends=5,
    probe_seconds=0.5,
    sustain_seconds=1.0,
    fanout_on_neo4j=False,
    memory_timelines=2,
    timeline_cap=50,
    zadd_batches=2,
    attack_seconds=0.5,
    attackers=1,
    likers=6,
    spread_posts=3,
    notify_posts=2,
    notify_rate=20,
    media_authors=2,
    process_posts=1,
    process_photo=(400, 300),
)
