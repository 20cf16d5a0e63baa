-- How far drive/orphans.c has looked for chunks that landed in storage but
-- were never recorded (Telegram: message ids of a chat), per backend and
-- series (a chat). Every number up to `mark` has been dealt with; `ceiling`
-- is the highest recorded number seen at `ceiling_at`, dealt with once a
-- grace period has passed (a put landing then has long been recorded).
CREATE TABLE orphan_marks (
  backend TEXT NOT NULL,
  series TEXT NOT NULL,
  mark BIGINT NOT NULL,
  ceiling BIGINT NOT NULL,
  ceiling_at BIGINT NOT NULL,
  PRIMARY KEY (backend, series)
);
