-- Why a draft cannot be published, found when it was saved (JSON array of problems; '[]' when
-- it passed). NULL for layers saved before drafts were checked: publishing checks them anyway.
ALTER TABLE layers ADD COLUMN problems TEXT;
