-- A chunk's integrity checksum is SHA-256 (Telegram chunks) or XXH3-128
-- (local chunks, "xxh128:" + hex; see util/checksum.h): the column is named
-- for what it holds. Existing values are SHA-256 hex and stay valid.
ALTER TABLE chunks RENAME COLUMN sha256 TO checksum;
