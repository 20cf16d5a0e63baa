/* urljob_db: the url_jobs table (see migration 009), for drive/urljob.c. */
#ifndef NETRA_URLJOB_DB_H
#define NETRA_URLJOB_DB_H
#include <stdbool.h>
#include <stdint.h>
#include "drive/drive.h"
#include "util/id.h"

#define URLJOB_VALIDATOR_MAX 256   /* longest ETag / Last-Modified kept for a resume */

/** One job as stored. */
struct urljob_row {
  char id[ID_LEN + 1];
  char user_id[40];
  char folder_id[ID_LEN + 1];      /* "" = root */
  char name[256];                  /* asked for; "" = from the source */
  char status[16];
  char file_id[ID_LEN + 1];
  char error[320];
  char etag[URLJOB_VALIDATOR_MAX], last_modified[URLJOB_VALIDATOR_MAX];
  bool ranges;
  char *url;                       /* malloc'd */
  uint64_t transferred;
  int64_t total;                   /* -1 = unknown */
  int64_t created_at;
  char node_id[ID_LEN + 1];        /* the node running it; "" = none */
};

/** Inserts a new row. DRIVE_OK or a fault. */
int urljob_db_insert(const struct urljob_row *r);
/** Writes the row's status and what is known; a finished row never
 *  changes again. Logs a failure. DRIVE_OK or a fault. */
int urljob_db_update(const struct urljob_row *r);
/** Calls fn for rows still pending, downloading or processing whose node
 *  is dead (nodes.h), oldest first, up to a batch (the next call takes
 *  more), after the query is over: fn may write (the row's url is freed
 *  after fn returns unless fn took it: set it NULL). */
int urljob_db_unfinished(void (*fn)(struct urljob_row *r, void *arg), void *arg);
/** Makes this node the job's runner if it still has the runner r->node_id
 *  had when read and is unfinished: true for exactly one of several nodes
 *  claiming it at once. Sets r->node_id. */
bool urljob_db_claim(struct urljob_row *r);

/** Gives a job this node claimed but could neither start nor fail back
 *  to no node (dead work: the next pass of any node tries again). Clears
 *  r->node_id. Logs a failure. */
void urljob_db_release(struct urljob_row *r);

/** The user's job; r->url is malloc'd. DRIVE_OK, DRIVE_NOT_FOUND or a fault. */
int urljob_db_get(const char *user_id, const char *job_id, struct urljob_row *r, int64_t *updated);

#endif
