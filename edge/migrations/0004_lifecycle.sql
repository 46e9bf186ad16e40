-- Node lifecycle (joining, active, draining, down, retired), health as the sweep sees it, each
-- node's share of the work the managers still have to do, the sweep's fan-out tasks, and the
-- orphans found by reading nodes' inventories. SQLite cannot change a CHECK in place, so the
-- nodes table is rebuilt with its rows.
CREATE TABLE nodes_v2 (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  region TEXT NOT NULL DEFAULT '',
  grade INTEGER NOT NULL DEFAULT 1,
  weight REAL NOT NULL DEFAULT 1,
  state TEXT NOT NULL DEFAULT 'joining' CHECK (state IN ('joining', 'active', 'draining', 'down', 'retired')),
  -- why the node is in its state, for the operator (and the event log)
  state_reason TEXT NOT NULL DEFAULT '',
  state_since INTEGER NOT NULL,
  -- a node that goes down returns to the state it had (a draining node keeps draining)
  prior_state TEXT,
  -- bytes the node may hold (null: no limit); bytes_held is refreshed by the sweep
  capacity INTEGER,
  bytes_held INTEGER NOT NULL DEFAULT 0,
  chunks_held INTEGER NOT NULL DEFAULT 0,
  last_seen_at INTEGER,
  last_check_at INTEGER,
  failures INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  -- the copies of a down node are treated as lost once, when its grace period ends
  lost_at INTEGER,
  -- when the node last came back from down: copies verified before then are checked again
  recovered_at INTEGER,
  -- where the inventory reconciliation stands on this node (null: no pass under way)
  inventory_cursor TEXT,
  inventory_pass_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
INSERT INTO nodes_v2 (id, url, region, grade, weight, state, state_since, created_at, updated_at)
  SELECT id, url, region, grade, weight, state, updated_at, created_at, updated_at FROM nodes;
DROP TABLE nodes;
ALTER TABLE nodes_v2 RENAME TO nodes;

-- Sealed bytes per replica, so that bytes held per node add up from the index.
ALTER TABLE placements ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
-- Slices of contents by node (drain, failure, a node back from down) and holders of a chunk.
CREATE INDEX placements_node_content ON placements(node_id, content_id);

-- What each manager still has to do, per node: copies to it, copies from it, deletes, checks.
-- A row exists only while there is work; the sweep sums them into each node's backlog.
CREATE TABLE node_work (
  content_id TEXT NOT NULL,
  node_id TEXT NOT NULL,
  copies_in INTEGER NOT NULL DEFAULT 0,
  copies_out INTEGER NOT NULL DEFAULT 0,
  deletes INTEGER NOT NULL DEFAULT 0,
  checks INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (content_id, node_id)
);
CREATE INDEX node_work_node ON node_work(node_id);

-- The sweep's fan-out: a task walks contents in slices (all of them, or those with copies on
-- one node) and wakes each content's manager, or walks one node's inventory page by page
-- (orphans; a registry rebuilt from the nodes and the managers).
CREATE TABLE sweep_tasks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('all', 'node', 'inventory')),
  node_id TEXT,
  reason TEXT NOT NULL,
  cursor TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  done_at INTEGER
);
CREATE INDEX sweep_tasks_open ON sweep_tasks(done_at, id);

-- Chunks a node holds that no placement names: deleted after a grace period if still unwanted.
CREATE TABLE orphans (
  node_id TEXT NOT NULL,
  hash TEXT NOT NULL,
  content_id TEXT,
  size INTEGER NOT NULL DEFAULT 0,
  first_seen INTEGER NOT NULL,
  PRIMARY KEY (node_id, hash)
);

CREATE INDEX events_node_at ON events(node_id, at);

-- When the sweep last asked a content's manager to reconcile, and when a pass that started
-- after that finished: a node is done joining only when no content is still behind.
ALTER TABLE contents ADD COLUMN reconcile_asked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contents ADD COLUMN reconciled_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX contents_behind ON contents(id) WHERE reconcile_asked > reconciled_at;
