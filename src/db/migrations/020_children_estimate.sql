-- PostgreSQL plans each walk down the folder tree (the tree's cursor, the
-- bin's and restore's batches) with its estimate of how many children one
-- folder has: rows / n_distinct(parent_id). Statistics taken while most
-- folders shared one parent (a user making 10,000 folders in one, as
-- autovacuum happened to look) say thousands, and then reading all of an
-- index that leads with the owner (index-only, no heap) looks cheaper than
-- the (parent_id, is_deleted) probe: per folder walked, so a restore of
-- 10,000 siblings took 36-52 s. A tree's shape is known well enough to
-- fix the figure: about one folder in four has children (ANALYZE stores
-- this instead of its sample's count), and the probe is then two orders of
-- magnitude cheaper than any whole-index read, whatever the sample saw.
-- @postgres
ALTER TABLE folders ALTER COLUMN parent_id SET (n_distinct = -0.25);
ANALYZE folders;
-- @end
