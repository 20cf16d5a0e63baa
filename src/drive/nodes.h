/* nodes: which server processes share the database, and which of them are
 * alive. Each serving process is a node with a fresh random id (a restart
 * is a new node) and a row in the nodes table whose heartbeat it writes
 * every NODE_TIMEOUT/5. A node whose heartbeat is older than NODE_TIMEOUT
 * is dead: any live node removes its row, and what it owned (rows with its
 * id in tasks.node_id, url_jobs.node_id, pending_deletes.node_id; spool
 * files named after it) is taken over or cleaned up by the takeover hook,
 * which runs after every heartbeat. Work of a node that is not in the table
 * (or of no node: NULL, a server from before nodes) is dead work. A node of
 * this host (same host name, boot and pid namespace) whose process exited
 * is dead at once; other nodes are judged by their heartbeat only once this
 * node has beaten without a failure for a whole timeout (after a database
 * outage all heartbeats are old). On SQLite (one server by construction)
 * every other node is dead at start.
 *
 * Clocks: heartbeats are wall-clock milliseconds compared across nodes, so
 * the nodes' clocks must agree to well within NODE_TIMEOUT (NTP). */
#ifndef NETRA_NODES_H
#define NETRA_NODES_H
#include <stdbool.h>
#include <stdint.h>
#include "drive/drive.h"
#include "util/id.h"

/* An SQL condition: the node id in column `col` is not a live node's.
 * Live means listed (nodes_reap removes the dead ones first). */
#define NODES_DEAD_SQL(col) "(" col " IS NULL OR " col " NOT IN (SELECT id FROM nodes))"

/** Sets how long a node may go without a heartbeat before it counts as
 *  dead (NODE_TIMEOUT), for this process's judgement of others. */
void nodes_configure(int64_t timeout_ms);

/** Registers this process as a node (a new id), removes the rows of dead
 *  nodes, and starts the heartbeat thread, which calls `takeover` (may be
 *  NULL) after each heartbeat with the number of nodes it just found dead.
 *  DRIVE_OK or a fault (the database cannot be reached: the caller cannot
 *  serve). */
int nodes_start(void (*takeover)(int64_t reaped));
/** Stops the heartbeat thread (and so the takeover); the row stays. */
void nodes_stop_heartbeat(void);
/** Stops the heartbeat and removes this node's row (its leftovers are then
 *  any live node's to take over). */
void nodes_stop(void);

/** This node's id, or NULL when not registered (tools: gc, fsck). */
const char *nodes_self(void);

/** Removes the rows of nodes that are dead: of this host with their process
 *  gone, or whose heartbeat is older than the timeout (see above; never
 *  this node's). Returns how many, or a DRIVE_* fault (< 0). */
int64_t nodes_reap(db_t *db);
/** True when a node other than this one is alive (after nodes_reap). A
 *  fault counts as true: sweeps then keep their grace. */
bool nodes_peers_alive(db_t *db);
/** True when `id` names a live node (listed). */
bool nodes_is_live(db_t *db, const char *id);

#endif
