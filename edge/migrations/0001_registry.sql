-- The registry (the source document's management-server info DB): which manager holds which
-- content, the distribution nodes, providers and their API tokens, a placement index for
-- "which nodes hold chunk X" (claim 11), and the event log that accounting rolls up.
CREATE TABLE nodes (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  region TEXT NOT NULL DEFAULT '',
  grade INTEGER NOT NULL DEFAULT 1,
  weight REAL NOT NULL DEFAULT 1,
  state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'draining', 'retired')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE providers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- API tokens are stored as SHA-256 digests only.
CREATE TABLE api_tokens (
  token_hash TEXT PRIMARY KEY,
  provider_id TEXT NOT NULL REFERENCES providers(id),
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);

CREATE TABLE contents (
  id TEXT PRIMARY KEY,
  provider_id TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  size INTEGER NOT NULL,
  version INTEGER NOT NULL,
  chunk_count INTEGER NOT NULL,
  replicas INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('uploading', 'committed', 'deleting')),
  created_at INTEGER NOT NULL,
  committed_at INTEGER
);
CREATE INDEX contents_listed ON contents(state, committed_at);

CREATE TABLE placements (
  content_id TEXT NOT NULL,
  hash TEXT NOT NULL,
  node_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'stored', 'deleting')),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (hash, node_id)
);
CREATE INDEX placements_content ON placements(content_id);
CREATE INDEX placements_node ON placements(node_id, state);

CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  content_id TEXT,
  node_id TEXT,
  bytes INTEGER,
  detail TEXT
);
CREATE INDEX events_content ON events(content_id, at);
