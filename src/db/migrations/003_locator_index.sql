-- gc and fsck look chunks and pending deletions up by locator.
CREATE INDEX chunks_locator ON chunks(locator);
CREATE INDEX pending_deletes_locator ON pending_deletes(locator);
