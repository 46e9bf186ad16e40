-- Security (issue 5): a content is public or private, may carry a publish/expire window, and
-- asks for a minimum node security grade. The manager owns the truth; these columns let the
-- catalog hide what a caller may not see without asking every manager.
ALTER TABLE contents ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'private'));
ALTER TABLE contents ADD COLUMN min_grade INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contents ADD COLUMN publish_at INTEGER;
ALTER TABLE contents ADD COLUMN expire_at INTEGER;
CREATE INDEX contents_provider ON contents(provider_id, state);
