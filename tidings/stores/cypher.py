"""The Cypher that FalkorDB and Neo4j both understand, shared by their adapters.

Kept to the common dialect: no `COUNT {}`, `EXISTS {}` or `SHOW`; schema setup
lives in each adapter.
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

# CREATE, not MERGE: more than twice as fast, for pairs known to be new.
CREATE_FRIENDSHIPS = """
UNWIND $pairs AS pair
MATCH (a:User {id: pair[0]}), (b:User {id: pair[1]})
CREATE (a)-[:FRIEND]->(b)
"""

REMOVE_FRIENDSHIP = """
OPTIONAL MATCH (:User {id: $a})-[r:FRIEND]-(:User {id: $b})
WITH collect(r) AS edges
FOREACH (edge IN edges | DELETE edge)
RETURN size(edges) AS removed
"""

FRIENDS_PAGE = """
MATCH (:User {id: $id})-[:FRIEND]-(f:User)
WHERE f.id > $after
RETURN DISTINCT f.id AS id
ORDER BY id
LIMIT $limit
"""

# Counts each friend's friends only up to $min_friends (a subquery per friend with
# a LIMIT), so a viewer befriending someone with a million friends costs at most
# $min_friends steps for them, not a million.
FRIENDS_WITH_AT_LEAST = """
MATCH (:User {id: $id})-[:FRIEND]-(f:User)
WITH DISTINCT f
CALL {
  WITH f
  MATCH (f)-[:FRIEND]-(other:User)
  WITH other
  LIMIT $min_friends
  RETURN count(other) AS friends
}
WITH f, friends
WHERE friends >= $min_friends
RETURN f.id AS id
ORDER BY id
"""

# Stops counting at $n, so asking about a user with a million friends costs no
# more than asking about one at the threshold. (No DISTINCT: it would make the
# traversal visit every friend before the LIMIT applies.)
COUNT_FRIENDS_UP_TO = """
OPTIONAL MATCH (:User {id: $id})-[:FRIEND]-(f:User)
WITH f
LIMIT $n
RETURN count(f)
"""

USER_SUMMARIES = """
UNWIND $ids AS id
OPTIONAL MATCH (u:User {id: id})
OPTIONAL MATCH (u)-[:FRIEND]-(f:User)
RETURN id, u IS NOT NULL AS known, count(DISTINCT f) AS friends
"""
