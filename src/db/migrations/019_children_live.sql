-- PostgreSQL's walks down the folder tree (the tree's cursor, folder_ops'
-- batches) probe each folder's children by parent_id alone, the owner test
-- kept out of every index (folder_sql.h PG_CHILD_OWNER): with statistics
-- taken before an owner's folders existed, an owner-led probe went through
-- an owner-only index and read all of that owner's folders for each folder
-- walked (a 10,000-wide tree or restore: 12-22 s). A bin or restore batch
-- also needs the children in one state (live, or binned) without reading
-- the others: so the parent_id index gains is_deleted. It replaces
-- folders_children (parent_id), which every other use reads the same way.
DROP INDEX folders_children;
CREATE INDEX folders_children ON folders(parent_id, is_deleted);
