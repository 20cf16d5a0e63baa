/* davlocks: WebDAV write locks (table dav_locks), on paths of a user's
 * tree, so every node sees them. Expired locks are skipped when read and
 * deleted when the user takes a new one. */
#ifndef NETRA_DAVLOCKS_H
#define NETRA_DAVLOCKS_H
#include <stdbool.h>
#include <stddef.h>
#include "drive/drive.h"

#define DAVLOCK_TOKEN_MAX 64
#define DAVLOCK_PATH_MAX 4096
#define DAVLOCK_OWNER_MAX 1024

struct davlock {
  char token[DAVLOCK_TOKEN_MAX];
  char path[DAVLOCK_PATH_MAX];
  bool infinity, exclusive;
  char owner_xml[DAVLOCK_OWNER_MAX];
  int64_t timeout_s, expires_at;
};

/** The user's live locks (malloc'ed array in *out, free it). */
int davlock_list(const char *owner_id, struct davlock **out, size_t *n);
/** Stores a new lock. */
int davlock_add(const char *owner_id, const struct davlock *l);
/** Extends a lock by timeout_s from now. DRIVE_NOT_FOUND when not live. */
int davlock_refresh(const char *owner_id, const char *token, int64_t timeout_s);
/** Removes a lock; DRIVE_NOT_FOUND when the user has none with the token. */
int davlock_remove(const char *owner_id, const char *token);
/** Removes the locks on `path` and below it (the item was deleted or moved). */
int davlock_remove_tree(const char *owner_id, const char *path);

#endif
