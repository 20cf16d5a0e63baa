/* dav_lock: LOCK/UNLOCK and the checks every write makes: the locks that
 * cover a path, and the request's If: header (RFC 4918 §10.4). */
#ifndef NETRA_DAV_LOCK_H
#define NETRA_DAV_LOCK_H
#include <stdbool.h>
#include "dav/dav_priv.h"

/** True when the request may change `path` (and, with `tree`, what is
 *  below it; with `member`, the membership of its collection: it is made,
 *  removed or moved, so a lock of any depth on the parent is in the way):
 *  its If: header holds (else 412 is answered) and every lock in the way is
 *  named in it (else 423). Replies itself when false. */
bool dav_lock_allows(struct http_req *r, struct dav_ctx *c, const char *path, bool tree,
                     bool member);
struct davlock;
/** Appends the <D:activelock> elements of those of `locks` that cover `path`. */
void dav_lock_discovery(const struct davlock *locks, size_t n, const char *path, buf_t *b);
/** The item at `path` now exists (a lock-null resource became real). */
void dav_lock_nullify(const char *user_id, const char *path);
/** Drops the locks on `path` and below (deleted, or moved away). */
void dav_lock_drop_tree(const char *user_id, const char *path);

#endif
