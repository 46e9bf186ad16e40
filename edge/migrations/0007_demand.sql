-- Demand (claims 4 and 6): each node's egress capacity, the load it delivered as the sweep last
-- measured it, whether it runs hot, and standby mirrors — nodes registered to hold nothing and
-- serve nothing until demand nears the capacity of the active nodes. SQLite cannot change a
-- CHECK in place, so the nodes table is rebuilt with its rows (as 0004 did).
CREATE TABLE nodes_v3 (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  region TEXT NOT NULL DEFAULT '',
  grade INTEGER NOT NULL DEFAULT 1,
  weight REAL NOT NULL DEFAULT 1,
  state TEXT NOT NULL DEFAULT 'joining' CHECK (state IN ('standby', 'joining', 'active', 'draining', 'down', 'retired')),
  state_reason TEXT NOT NULL DEFAULT '',
  state_since INTEGER NOT NULL,
  prior_state TEXT,
  capacity INTEGER,
  bytes_held INTEGER NOT NULL DEFAULT 0,
  chunks_held INTEGER NOT NULL DEFAULT 0,
  last_seen_at INTEGER,
  last_check_at INTEGER,
  failures INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  lost_at INTEGER,
  recovered_at INTEGER,
  inventory_cursor TEXT,
  inventory_pass_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  public_key TEXT,
  signed_at INTEGER,
  report_at INTEGER,
  report_capacity INTEGER,
  report_held INTEGER,
  report_chunks INTEGER,
  report_free INTEGER,
  report_served INTEGER,
  report_version TEXT,
  -- a mirror of the standby pool: when awake it takes only demand copies, when demand passes
  -- it is emptied and goes back to standby instead of retiring
  mirror INTEGER NOT NULL DEFAULT 0,
  -- bytes per second it can deliver (null: the network's default, DEMAND_NODE_EGRESS)
  egress INTEGER,
  -- bytes per second it delivered to viewers, smoothed over the sweep's readings, and when read
  load REAL NOT NULL DEFAULT 0,
  load_at INTEGER,
  -- above the high water of its egress (cool again only below the low water)
  hot INTEGER NOT NULL DEFAULT 0
);
INSERT INTO nodes_v3 (id, url, region, grade, weight, state, state_reason, state_since, prior_state, capacity, bytes_held, chunks_held,
    last_seen_at, last_check_at, failures, last_error, lost_at, recovered_at, inventory_cursor, inventory_pass_at, created_at, updated_at,
    public_key, signed_at, report_at, report_capacity, report_held, report_chunks, report_free, report_served, report_version)
  SELECT id, url, region, grade, weight, state, state_reason, state_since, prior_state, capacity, bytes_held, chunks_held,
    last_seen_at, last_check_at, failures, last_error, lost_at, recovered_at, inventory_cursor, inventory_pass_at, created_at, updated_at,
    public_key, signed_at, report_at, report_capacity, report_held, report_chunks, report_free, report_served, report_version FROM nodes;
DROP TABLE nodes;
ALTER TABLE nodes_v3 RENAME TO nodes;

-- What each region's nodes delivered, for waking and resting its mirrors: kept by the sweep.
CREATE TABLE demand_state (
  region TEXT PRIMARY KEY,
  rate REAL NOT NULL DEFAULT 0,
  -- when demand was last above the mirrors' rest line
  high_since INTEGER,
  at INTEGER NOT NULL
);
