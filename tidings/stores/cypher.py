"""The Cypher that FalkorDB and Neo4j both understand, shared by their adapters.

Kept to the common dialect: no `COUNT {}`, `EXISTS {}` or `SHOW`; schema setup
lives in each adapter, and so does one expression, a node's degree (`{degree}`
below), which the two spell differently and both answer in constant time.
"""

ENSURE_USER = "MERGE (:User {id: $id})"

ADD_FRIENDSHIP = """
MERGE (a:User {id: $a})
MERGE (b:User {id: $b})
WITH a, b
OPTIONAL MATCH (a)-[old:FRIEND]-(b)
WITH a, b, count(old) AS before
MERGE (a)-[:FRIEND]-(b)
RETURN before
"""

BEFRIEND_MANY = """
MERGE (a:User {id: $id})
WITH a
UNWIND $friends AS friend_id
MERGE (f:User {id: friend_id})
MERGE (a)-[:FRIEND]-(f)
RETURN count(*)
"""

# Bulk loading (seeding): endpoints by id, many pairs per round trip.
ENSURE_USERS = """
UNWIND $ids AS id
MERGE (:User {id: id})
"""

# CREATE, not MERGE: more than twice as fast, for pairs known to be new. Each
# user is looked up once for all of its new friends: a third faster than pairs.
CREATE_FRIENDSHIPS = """
UNWIND $groups AS grp
MATCH (a:User {id: grp[0]})
UNWIND grp[1] AS friend_id
MATCH (b:User {id: friend_id})
CREATE (a)-[:FRIEND]->(b)
"""

# One atomic step of two-sided consent. Refused if either side blocked the other;
# accepts (friends at once) if the other side had asked; else records the request,
# unless $cap requests are pending already. Returns what happened. The first SET
# takes both nodes' write locks in Neo4j, so two people asking each other at once
# end as friends, not as two crossed requests.
REQUEST_FRIENDSHIP = """
MERGE (a:User {id: $a})
MERGE (b:User {id: $b})
SET a.id = $a, b.id = $b
WITH a, b
OPTIONAL MATCH (a)-[blk:BLOCKED]-(b)
WITH a, b, count(blk) AS blocks
OPTIONAL MATCH (a)-[fr:FRIEND]-(b)
WITH a, b, blocks, count(fr) AS friends
OPTIONAL MATCH (b)-[theirs:REQUESTED]->(a)
WITH a, b, blocks, friends, count(theirs) AS incoming
OPTIONAL MATCH (a)-[mine:REQUESTED]->(b)
WITH a, b, blocks, friends, incoming, count(mine) AS outgoing
CALL {
  WITH a
  MATCH (a)-[p:REQUESTED]->(:User)
  WITH p
  LIMIT $cap
  RETURN count(p) AS pending
}
WITH a, b, CASE
  WHEN blocks > 0 THEN 'blocked'
  WHEN friends > 0 THEN 'friends'
  WHEN incoming > 0 THEN 'accepted'
  WHEN outgoing > 0 THEN 'pending'
  WHEN pending >= $cap THEN 'too_many'
  ELSE 'sent'
END AS outcome
FOREACH (_ IN CASE WHEN outcome = 'accepted' THEN [1] ELSE [] END |
  CREATE (a)-[:FRIEND]->(b)
)
FOREACH (_ IN CASE WHEN outcome = 'sent' THEN [1] ELSE [] END |
  CREATE (a)-[:REQUESTED {at: $now}]->(b)
)
WITH a, b, outcome
OPTIONAL MATCH (b)-[r:REQUESTED]->(a)
WITH outcome, collect(r) AS answered
FOREACH (edge IN CASE WHEN outcome = 'accepted' THEN answered ELSE [] END | DELETE edge)
RETURN outcome
"""

# Ends a friendship, withdraws a sent request and declines a received one: every
# tie but blocks and mutes. Returns how many friendship edges there were.
REMOVE_FRIENDSHIP = """
OPTIONAL MATCH (:User {id: $a})-[f:FRIEND]-(:User {id: $b})
WITH collect(f) AS friendships
OPTIONAL MATCH (:User {id: $a})-[q:REQUESTED]-(:User {id: $b})
WITH friendships, collect(q) AS requests
FOREACH (edge IN friendships + requests | DELETE edge)
RETURN size(friendships) AS removed
"""

# Block: every friendship and request between the two ends, both ways, and the
# blocker's mute of them (the block supersedes it). Returns the friendships ended.
BLOCK = """
MERGE (a:User {id: $a})
MERGE (b:User {id: $b})
WITH a, b
OPTIONAL MATCH (a)-[f:FRIEND]-(b)
WITH a, b, collect(f) AS friendships
OPTIONAL MATCH (a)-[q:REQUESTED]-(b)
WITH a, b, friendships, collect(q) AS requests
OPTIONAL MATCH (a)-[m:MUTED]->(b)
WITH a, b, friendships, requests, collect(m) AS mutes
FOREACH (edge IN friendships + requests + mutes | DELETE edge)
MERGE (a)-[blocked:BLOCKED]->(b)
ON CREATE SET blocked.at = $now
RETURN size(friendships) AS ended
"""

# Takes back one directed tie: a template, as relationship types cannot be parameters.
_UNTIE = """
OPTIONAL MATCH (:User {{id: $a}})-[r:{tie}]->(:User {{id: $b}})
WITH collect(r) AS edges
FOREACH (edge IN edges | DELETE edge)
RETURN size(edges)
"""
UNBLOCK = _UNTIE.format(tie="BLOCKED")

MUTE = """
MERGE (a:User {id: $a})
MERGE (b:User {id: $b})
MERGE (a)-[muted:MUTED]->(b)
ON CREATE SET muted.at = $now
RETURN 1
"""

UNMUTE = _UNTIE.format(tie="MUTED")

# How the viewer stands with each of these users, as the viewer may know it: a
# block by the other side is not reported.
RELATIONS = """
UNWIND $ids AS id
OPTIONAL MATCH (v:User {id: $viewer})
OPTIONAL MATCH (o:User {id: id})
OPTIONAL MATCH (v)-[f:FRIEND]-(o)
WITH id, v, o, count(f) AS friends
OPTIONAL MATCH (v)-[m:MUTED]->(o)
WITH id, v, o, friends, count(m) AS muted
OPTIONAL MATCH (v)-[b:BLOCKED]->(o)
WITH id, v, o, friends, muted, count(b) AS blocked
OPTIONAL MATCH (v)-[s:REQUESTED]->(o)
WITH id, v, o, friends, muted, blocked, count(s) AS sent
OPTIONAL MATCH (o)-[r:REQUESTED]->(v)
RETURN id, friends, muted, blocked, sent, count(r) AS received
"""

# Either direction: what keeps two people's comments apart.
BLOCKED_EITHER_WAY = """
UNWIND $ids AS id
MATCH (v:User {id: $viewer})-[:BLOCKED]-(o:User {id: id})
RETURN DISTINCT o.id
"""

# Newest first, keyset on (at, id): one template per list, as relationship types
# cannot be parameters.
_RELATION_PAGE = """
MATCH {pattern}
WHERE r.at < $at OR (r.at = $at AND o.id > $after)
RETURN r.at AS at, o.id AS id
ORDER BY at DESC, id
LIMIT $limit
"""
INCOMING_REQUESTS_PAGE = _RELATION_PAGE.format(pattern="(o:User)-[r:REQUESTED]->(:User {id: $id})")
OUTGOING_REQUESTS_PAGE = _RELATION_PAGE.format(pattern="(:User {id: $id})-[r:REQUESTED]->(o:User)")
BLOCKED_PAGE = _RELATION_PAGE.format(pattern="(:User {id: $id})-[r:BLOCKED]->(o:User)")
MUTED_PAGE = _RELATION_PAGE.format(pattern="(:User {id: $id})-[r:MUTED]->(o:User)")

# Who muted the author, so fan-out can skip them: one query per post, cheaper than
# a predicate on every friend of every chunk.
MUTERS = """
MATCH (m:User)-[:MUTED]->(:User {id: $id})
RETURN m.id
LIMIT $limit
"""

# Fan-out of a batch of posts: for each author, the mark, who muted them, and, for
# an author with at most $limit friends who is no celebrity, their friends. The
# degree, {degree}, decides before any friend is walked. Muters come apart (the
# caller leaves them out): a `NOT (f)-[:MUTED]->(u)` test on every friend cost
# FalkorDB 14 ms for 2,000 friends where the graph had no mute at all, 1.9 ms so.
AUDIENCES = """
UNWIND $ids AS id
MATCH (u:User {id: id})
WITH id, u, coalesce(u.celebrity, false) AS celebrity, {degree} AS friends
OPTIONAL MATCH (m:User)-[:MUTED]->(u)
WITH id, u, celebrity, friends, collect(m.id) AS muters
OPTIONAL MATCH (u)-[:FRIEND]-(f:User)
WHERE NOT celebrity AND friends <= $limit
RETURN id, celebrity, friends, muters, collect(f.id) AS readers
"""

FRIENDS_PAGE = """
MATCH (:User {id: $id})-[:FRIEND]-(f:User)
WHERE f.id > $after
RETURN DISTINCT f.id AS id
ORDER BY id
LIMIT $limit
"""

# The viewer's unmuted friends marked as celebrities.
CELEBRITY_FRIENDS = """
MATCH (viewer:User {id: $id})-[:FRIEND]-(f:User)
WHERE f.celebrity = true AND NOT (viewer)-[:MUTED]->(f)
RETURN DISTINCT f.id AS id
ORDER BY id
"""

# People you may know: friends of friends ranked by how many friends they share
# with the viewer. The walk is capped twice, so its cost is bounded whoever is in
# it: at most $friends_walked of the viewer's friends, and at most $per_friend
# friends of each (a friend with 50,000 friends contributes a sample). Then the
# candidates, ranked, are checked in order until $limit pass: the viewer, friends,
# requests either way and blocks either way are left out. (Checking every
# candidate before ranking cost FalkorDB 300 ms for a well-connected viewer; a
# candidate goes through the collected list by id, as FalkorDB cannot unwind nodes.)
SUGGESTIONS = """
MATCH (v:User {id: $id})-[:FRIEND]-(f:User)
WITH v, f
LIMIT $friends_walked
CALL {
  WITH f
  MATCH (f)-[:FRIEND]-(s:User)
  WITH s
  LIMIT $per_friend
  RETURN s
}
WITH v, s.id AS candidate, count(*) AS mutual
ORDER BY mutual DESC, candidate
WITH v, collect([candidate, mutual]) AS ranked
UNWIND ranked AS pair
MATCH (s:User {id: pair[0]})
WHERE s <> v AND NOT (v)-[:FRIEND|REQUESTED|BLOCKED]-(s)
RETURN s.id AS id, pair[1] AS mutual
LIMIT $limit
"""

IS_CELEBRITY = """
OPTIONAL MATCH (u:User {id: $id})
RETURN coalesce(u.celebrity, false)
"""

# Re-decides one user's celebrity mark, with hysteresis: marked on reaching
# $promote_at friends, unmarked only below $demote_below, so a friendship toggled
# at the boundary changes nothing. Reads the user's degree, {degree}, which each
# adapter spells in its own dialect (the one place they disagree): constant time
# whatever the friend count. Writes only when the mark changes (it runs on every
# friendship change). Returns the mark before and after.
UPDATE_CELEBRITY = """
MATCH (u:User {id: $id})
WITH u, {degree} AS friends, coalesce(u.celebrity, false) AS was
WITH u, was, CASE
  WHEN NOT was AND friends >= $promote_at THEN true
  WHEN was AND friends < $demote_below THEN false
  ELSE was
END AS now
FOREACH (_ IN CASE WHEN now <> was THEN [1] ELSE [] END | SET u.celebrity = now)
RETURN was, now
"""

# Tools only, after bulk loading: marks these users as celebrities.
MARK_CELEBRITIES = """
UNWIND $ids AS id
MATCH (u:User {id: id})
SET u.celebrity = true
"""


# Friend counts by degree, {degree} (see UPDATE_CELEBRITY): a celebrity author on
# a page costs what anyone costs. In the order asked, an id asked twice included.
USER_SUMMARIES = """
UNWIND range(0, size($ids) - 1) AS position
WITH position, $ids[position] AS id
OPTIONAL MATCH (u:User {id: id})
RETURN position, id, u IS NOT NULL AS known,
  CASE WHEN u IS NULL THEN 0 ELSE {degree} END AS friends
"""


def with_degree(query: str, degree: str) -> str:
    """A query with the adapter's expression for `u`'s number of FRIEND edges."""
    return query.replace("{degree}", degree)
