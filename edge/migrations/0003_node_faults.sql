-- Node health for manifests: the manager logs every audit of a reported replica as a
-- `replica-audit` event; manifests count each node's bad replicas of the last day, which
-- needs the events by kind and time.
CREATE INDEX events_kind_at ON events(kind, at);
