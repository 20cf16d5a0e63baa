/* domain: the domain layer starts and stops here, in one place: tokens,
 * accounts, mail, the chunk store and its threads (hashers, completions,
 * sweeper), tasks and the janitor. main fills the options from the
 * configuration; nothing below knows the whole configuration. */
#ifndef NETRA_DOMAIN_H
#define NETRA_DOMAIN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "blob/blob.h"
#include "drive/drive.h"
#include "drive/urljob.h"

/** What /readyz reports: can the domain reach its dependencies? */
struct drive_health {
  bool database;
  bool storage;
};
/** Pings the database (this thread's connection) and the chunk store. */
void drive_health(struct drive_health *out);

/** Everything the domain needs to start (set up by main from the config). */
struct drive_options {
  struct blob_options store;       /* the chunk store */
  const char *secret_key;          /* token signing key (kept by pointer) */
  int64_t access_ttl_s, refresh_ttl_s;
  int login_max_failures;          /* per account and per client address ... */
  int login_window_s;              /* ... within this many seconds */
  int addr_max_requests;           /* signups and forgot-passwords per address ... */
  int addr_window_s;               /* ... within this many seconds */
  const char *public_url;          /* base of links in mails (kept by pointer) */
  bool require_verification;       /* new accounts must verify their email */
  const char *smtp_url, *smtp_from;/* smtp_url NULL: no mail */
  uint64_t max_upload_size;        /* 0 = no limit */
  bool dedup_reject;
  int bin_retention_days;          /* 0 = keep binned items */
  int bin_batch_folders;           /* folder rows per bin/restore batch at most (folder_ops.h) */
  int bin_batch_ms;                /* a batch's time budget */
  int bin_batch_pause_ms;          /* a pause between two batches (tests) */
  int64_t node_timeout_ms;         /* NODE_TIMEOUT: a node silent this long is dead */
  struct urljob_options urljobs;   /* uploads from a URL */
  bool background;                 /* the server: sweeper, janitor, mail; false for tools */
};

/** Starts the domain: tokens, accounts, mail, the chunk store and its
 *  threads (hashers, completions, sweeper), tasks and the janitor. Items a
 *  previous process left half-done (staged chunks, running tasks) are
 *  reclaimed. 0, or -1 with one line in err (nothing left running). */
int drive_init(const struct drive_options *o, char *err, size_t errlen);
/** Stops what drive_init started, in reverse order. Call after the HTTP
 *  layer stopped (no request may be running). */
void drive_shutdown(void);

#endif
