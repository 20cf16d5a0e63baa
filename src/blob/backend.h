/* backend: what a chunk store backend implements behind blob.h. Each
 * function mirrors the blob_* function of the same name; `self` is the
 * backend's own state, created by `open`. */
#ifndef NETRA_BLOB_BACKEND_H
#define NETRA_BLOB_BACKEND_H
#include "blob/blob.h"

struct blob_backend {
  const char *name;
  void *(*open)(const struct blob_options *opt, char *err, size_t errlen);
  void (*close)(void *self);
  int (*ping)(void *self);
  int (*put)(void *self, const char *spool_path, uint64_t size, const char *checksum,
             blob_done_fn done, void *arg);
  /* Reader state is the backend's; blob.c wraps it. */
  int (*reader_open)(void *self, const char *locator, uint64_t size, void **out);
  ssize_t (*reader_pread)(void *rd, void *buf, size_t n, uint64_t off);
  void (*reader_set_wake)(void *rd, void (*wake)(void *arg), void *arg);
  void (*reader_close)(void *rd);
  int (*del)(void *self, const char *locator);
  /* Optional: batched del (blob_delete_many loops over del without it). */
  void (*del_many)(void *self, const char *const *locators, int n, int *rcs);
  /* Optional: every stored locator with its age, for gc and fsck. */
  int (*list)(void *self, blob_list_fn fn, void *arg);
  /* Optional: gives up the put started with `put_arg` (see blob_cancel);
   * must not run `done` before returning nor block on the store's thread. */
  int (*cancel)(void *self, void *put_arg);
  /* Optional: see blob_fetch_parallel. */
  int (*fetch_parallel)(const void *self);
  /* Optional: see blob_put_parallel (BLOB_PUT_PARALLEL_DEFAULT without it). */
  int (*put_parallel)(const void *self);
  /* Optional: see blob_chunk_size (the configured chunk size without it). */
  uint64_t (*chunk_size)(const void *self, uint64_t size_min, uint64_t size_max);
  /* Optional, together: see blob_sequence and blob_gap_locator. */
  int (*sequence)(const void *self, const char *locator, char series[BLOB_SERIES_MAX],
                  int64_t *seq);
  int (*gap_locator)(const void *self, const char *series, int64_t seq, char *out,
                     size_t outsz);
};

/** Chunks one upload keeps spooled or in flight when the backend does not
 *  say (see blob_put_parallel). */
#define BLOB_PUT_PARALLEL_DEFAULT 8

extern const struct blob_backend blob_local_backend;
extern const struct blob_backend blob_telegram_backend;

/** Spool files live under DATA_DIR/tmp for every backend (blob.c). */
#endif
