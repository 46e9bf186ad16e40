-- Managers that move (claim 7): which Durable Object is in charge of a content, and the
-- location hint it was placed with. NULL manager: the object named by the content id itself
-- (every content made before managers could move); NULL region: placed without a hint.
ALTER TABLE contents ADD COLUMN manager TEXT;
ALTER TABLE contents ADD COLUMN manager_region TEXT;
