/* db_listen: a thread that hears the notifications of some channels
 * (PostgreSQL LISTEN/NOTIFY between the nodes sharing one database) and
 * hands each payload to a callback. It listens on a connection of its own
 * (db_listen_open), which it reconnects when lost (db_listen_wait), and
 * says when it is back: notifications sent meanwhile were missed. On
 * SQLite (one node by construction) there is nothing to hear: start is a
 * no-op. */
#ifndef NETRA_DB_LISTEN_H
#define NETRA_DB_LISTEN_H
#include <stddef.h>

typedef struct db_listen_thread db_listen_thread_t;

struct db_listen_ops {
  /** One notification's payload (cut to payload_max bytes). */
  void (*on_payload)(const char *payload, void *arg);
  /** The connection is back after a loss (may be NULL). Called before the
   *  next payload. */
  void (*on_back)(void *arg);
};

/** Starts the thread on `listen_sql` ("LISTEN channel", a constant). 0 with
 *  *out set (PostgreSQL) or NULL (SQLite: nothing to do); -1 when it cannot
 *  start (out of memory, no thread). `ops` must outlive the thread. */
int db_listen_start(const char *listen_sql, size_t payload_max, const struct db_listen_ops *ops,
                    void *arg, db_listen_thread_t **out);
/** Stops and joins the thread (within a wait, DB_LISTEN_WAIT_MS), closes its
 *  connection. NULL is fine. */
void db_listen_stop(db_listen_thread_t *t);

#define DB_LISTEN_WAIT_MS 500   /* the thread checks for stop this often */

#endif
