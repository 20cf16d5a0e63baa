-- Access tokens issued before this moment (seconds since the epoch) are no
-- longer accepted: a password reset ends every session at once, not only
-- the refresh tokens.
ALTER TABLE users ADD COLUMN sessions_after BIGINT NOT NULL DEFAULT 0;
