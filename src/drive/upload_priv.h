/* upload_priv: the upload's insides, shared by upload.c (the pipeline) and
 * upload_resume.c (taking a stored prefix to another process). Nothing
 * else includes this. */
#ifndef NETRA_UPLOAD_PRIV_H
#define NETRA_UPLOAD_PRIV_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "drive/mime.h"
#include "drive/store.h"
#include "util/checksum.h"
#include "util/id.h"

struct upload_chunk {
  char locator[BLOB_LOCATOR_MAX];
  char staged_id[ID_LEN + 1];
  char checksum[CHECKSUM_TEXT_MAX];
  uint64_t size;
  bool stored;
  char *hash_state;              /* resumable uploads: the file hash up to here,
                                  * until the stored prefix passes this chunk */
  struct upload_put *put;        /* while in flight (under the lock): for blob_cancel */
};

/* One chunk on its way: hashed (hasher thread), then handed to the store.
 * Owns a reference to its upload. */
struct upload_put {
  struct upload *u;
  size_t idx;
  uint64_t size;
  char checksum[CHECKSUM_TEXT_MAX];
  char hash_state[CHECKSUM_STATE_MAX];  /* resumable uploads only */
  char spool[BLOB_PATH_MAX];
  struct store_op op;
};

struct upload {
  char owner_id[40];
  char folder_id[40];            /* "" = root */
  char name[256];
  char replace_id[ID_LEN + 1];   /* "" = a new file; else the file whose content is swapped */
  int64_t mtime;                 /* the file's updated_at to set; 0 = now */
  struct hasher_stream *hash;    /* the file's SHA-256, fed chunk by chunk */
  uint64_t size;
  uint64_t chunk_size;           /* this upload's: CHUNK_SIZE, or less (balanced) */
  uint64_t chunk_fill;           /* bytes in the current spool file */
  int spool_fd;
  char spool_path[BLOB_PATH_MAX];
  struct upload_chunk *chunks;
  size_t nchunks, capchunks;
  bool finished;
  bool redundant;                /* dedup linked to existing content */
  bool untracked;                /* the caller has its own task */
  bool resumable;                /* keep the stored prefix's hash state */
  size_t kept;                   /* chunks [0, kept) outlive an unfinished upload */
  uint64_t expected;             /* announced size, for the task (0 = unknown) */
  struct task *task;             /* remote stores: what the user watches, or NULL */
  char error[128];               /* why it is given up, for the task */
  /* Shared with store threads, under `lock`: */
  pthread_mutex_t lock;
  int inflight;                  /* puts not yet done */
  bool put_failed;
  bool abandoned;                /* upload_free ran while puts were in flight */
  bool cancelled;                /* the task was cancelled: store nothing more */
  bool waiting;                  /* the request is suspended until wake */
  void (*suspend)(void *);
  void (*wake)(void *);
  void *wake_arg;
  size_t prefix;                 /* chunks [0, prefix) stored, hashed, in order */
  uint64_t prefix_bytes;
  char prefix_state[CHECKSUM_STATE_MAX];  /* the file hash after them */
  char head[MIME_HEAD_MAX];
  size_t head_len;
  char mime[128];                /* sniffed once, while the last chunks land */
  bool sniffed;
};

#endif
