/* tg_fpcache: file_id -> file_path from getFile. The Bot API promises a
 * download link for at least an hour, so a path is reused for a bit less
 * (TG_FPCACHE_TTL_MS) and dropped early when a download says it is stale.
 * A fixed table (a colliding id replaces the older one): bounded memory. The
 * caller serialises access (the Telegram loop thread owns it). */
#ifndef NETRA_TG_FPCACHE_H
#define NETRA_TG_FPCACHE_H
#include <stdint.h>
#include "telegram/tg_locator.h"

#define TG_FPCACHE_TTL_MS (50 * 60 * 1000)
#define TG_FPCACHE_SLOTS 1024

struct tg_fpcache_slot {
  char file_id[TG_FILE_ID_MAX];
  char *path;   /* NULL = empty slot */
  int64_t at;   /* when getFile answered */
};

struct tg_fpcache {
  struct tg_fpcache_slot slots[TG_FPCACHE_SLOTS];
};

/** The cached path for `file_id` while fresh at `now`, else NULL (borrowed
 *  until the next put/drop). */
const char *tg_fpcache_get(struct tg_fpcache *c, const char *file_id, int64_t now);
/** Remembers `path` for `file_id` as of `now`; 0, or -1 when out of memory. */
int tg_fpcache_put(struct tg_fpcache *c, const char *file_id, const char *path, int64_t now);
/** Forgets `file_id` (its download failed: the link may be stale). */
void tg_fpcache_drop(struct tg_fpcache *c, const char *file_id);
/** Frees every path. */
void tg_fpcache_clear(struct tg_fpcache *c);

#endif
