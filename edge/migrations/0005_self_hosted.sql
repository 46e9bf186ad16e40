-- Self-hosted nodes: anyone's machine joins with a one-time invitation, holds its own Ed25519
-- key pair, and reports what it holds, signed with that key. Invitation tokens are kept as
-- SHA-256 digests only; a node's public key and its latest report sit on its row.
CREATE TABLE node_invites (
  token_hash TEXT PRIMARY KEY,
  region TEXT NOT NULL DEFAULT '',
  grade INTEGER NOT NULL DEFAULT 1,
  -- the most the joining node may hold (null: what it offers)
  capacity INTEGER,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  -- set once, when a node joins with it: an invitation is good for one node
  used_at INTEGER,
  node_id TEXT
);

-- raw Ed25519 public key (base64url) of a self-hosted node; null for Worker nodes
ALTER TABLE nodes ADD COLUMN public_key TEXT;
-- time (ms, the node's clock) of the newest signed message accepted: an older or equal one is a replay
ALTER TABLE nodes ADD COLUMN signed_at INTEGER;
-- the latest report: when it arrived (the portal's clock) and what the node said
ALTER TABLE nodes ADD COLUMN report_at INTEGER;
ALTER TABLE nodes ADD COLUMN report_capacity INTEGER;
ALTER TABLE nodes ADD COLUMN report_held INTEGER;
ALTER TABLE nodes ADD COLUMN report_chunks INTEGER;
ALTER TABLE nodes ADD COLUMN report_free INTEGER;
ALTER TABLE nodes ADD COLUMN report_served INTEGER;
ALTER TABLE nodes ADD COLUMN report_version TEXT;
