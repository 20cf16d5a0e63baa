/* task_bus: tasks across the nodes that share one PostgreSQL (LISTEN/NOTIFY).
 *
 * Each node tells the others of every change of its tasks (status, progress
 * at most every TASK_BUS_PROGRESS_MS) and hears theirs: a change of another
 * node's task goes to this node's WebSocket subscribers (task_events). A
 * cancel of a task another node runs is sent to it; that node's listener
 * cancels it there. Publishing never blocks: changes wait in a small outbox,
 * coalesced per task, that a sender thread empties with pg_notify on its own
 * connection; a listener thread waits on a LISTEN connection of its own. On
 * SQLite (one node by construction) nothing starts and every call is local. */
#ifndef NETRA_TASK_BUS_H
#define NETRA_TASK_BUS_H
#include <stdbool.h>
#include <stddef.h>
#include "drive/tasks.h"

#define TASK_BUS_PROGRESS_MS 250  /* at most ~4 progress notifications a second per task */

/** Starts the sender and listener threads (PostgreSQL only; a no-op on
 *  SQLite) and hooks into tasks.c. 0, or -1 when a thread cannot start. */
int task_bus_start(void);
/** Stops both threads (before tasks_shutdown). */
void task_bus_stop(void);

/** True when the bus runs (PostgreSQL): a cancel may then wait on another node. */
bool task_bus_on(void);

/** Cancels the user's task wherever it runs: here (tasks_cancel), else, on
 *  PostgreSQL, by asking the node that runs it and waiting for its answer in
 *  the tasks table. A task still running there after TASK_BUS_CANCEL_WAIT_MS
 *  belongs to a node that died: its row is marked cancelled. Same codes as
 *  tasks_cancel. */
int task_bus_cancel(const char *user_id, const char *task_id);

/** Appends to the views of tasks_list the user's queued and running tasks of
 *  other nodes, from the tasks table (progress as of their last status
 *  change; the WebSocket has it live). DRIVE_OK or an error; on SQLite
 *  nothing is added. */
int task_bus_list_others(const char *user_id, struct task_view **v, size_t *n);

#endif
