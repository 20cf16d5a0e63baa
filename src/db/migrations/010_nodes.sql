-- Server nodes sharing the database (drive/nodes.c): one row per running
-- server process, its heartbeat written every few seconds. A node whose
-- heartbeat is older than NODE_TIMEOUT is dead: its row is removed and what
-- it owned (tasks, URL jobs, staged chunks, spool files) is taken over or
-- cleaned up by a live node. A graceful stop removes the row itself; a node
-- of the same host whose process is gone is dead at once.
CREATE TABLE nodes (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,                     -- hostname|boot id|pid namespace: where pid is meaningful
  pid BIGINT NOT NULL,
  started_at BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL
);
-- The node that runs a task, a URL job, or an upload whose chunk is staged
-- (NULL = a server from before nodes: dead by now).
ALTER TABLE tasks ADD COLUMN node_id TEXT;
ALTER TABLE url_jobs ADD COLUMN node_id TEXT;
ALTER TABLE pending_deletes ADD COLUMN node_id TEXT;
CREATE INDEX tasks_status ON tasks(status);
-- Failed logins per key (drive/throttle_db.c), counted in the database so
-- every node sharing it sees the failures made through the others: the
-- failures of the current window and when that window began.
CREATE TABLE login_failures (
  key TEXT PRIMARY KEY,
  failures BIGINT NOT NULL,
  window_start BIGINT NOT NULL
);
