/* upload: the streaming upload pipeline. Bytes arrive in pieces; each piece
 * is hashed (SHA-256 of the whole file and of the current chunk) and appended
 * to the current chunk's spool file; a full chunk goes to the chunk store.
 * Every stored chunk is recorded as 'staged' garbage until the final
 * transaction makes the file visible, so an upload that dies leaves nothing
 * behind that the sweeper does not remove.
 *
 * An upload to a remote store is also a task (drive/tasks.h): it shows
 * progress as chunks are confirmed, and a cancel stops it: no more chunks go
 * out, those in flight are cancelled where the store can, the request is
 * woken to answer DRIVE_CANCELLED, and every stored chunk becomes garbage. */
#ifndef NETRA_UPLOAD_H
#define NETRA_UPLOAD_H
#include <stdbool.h>
#include <stdint.h>
#include "blob/blob.h"
#include "drive/drive.h"
#include "drive/mime.h"
#include "util/checksum.h"
#include "util/id.h"


struct upload;

/** What every upload obeys (set once by drive_init). */
struct upload_options {
  uint64_t max_size;      /* MAX_UPLOAD_SIZE; 0 = no limit */
  bool dedup_reject;      /* DEDUP=reject: a second copy of content is refused */
};
/** Sets the options (kept by copy). */
void upload_init(const struct upload_options *o);
/** MAX_UPLOAD_SIZE (0 = no limit), for checks before an upload starts. */
uint64_t upload_max_size(void);

/** Starts an upload for `owner_id` into `folder_id` (NULL = root). */
struct upload *upload_new(const char *owner_id, const char *folder_id);
/** Backpressure for stores that work in the background. When a call returns
 *  DRIVE_PENDING, `suspend(arg)` has been called (under the upload's lock) and
 *  `wake(arg)` will be called from a store thread once the caller may go on
 *  (for upload_finish: call it again). */
void upload_set_wake(struct upload *u, void (*suspend)(void *), void (*wake)(void *), void *arg);
/** What is known of the file's size before it arrives: between size_min and
 *  size_max (both 0 = unknown). The store chooses the chunk size from it,
 *  and size_max is shown as the task's total. Call before the first
 *  upload_write and before upload_set_name. */
void upload_set_expected(struct upload *u, uint64_t size_min, uint64_t size_max);
/** Names the file (validated); DRIVE_INVALID with a reason in *why. For a
 *  remote store this starts the upload's task. */
int upload_set_name(struct upload *u, const char *filename, const char **why);
/** The caller tracks the work as its own task (an upload from a URL): no
 *  "upload" task is started for a remote store. Call before upload_set_name. */
void upload_set_untracked(struct upload *u);
/** The upload replaces the content of the owner's live file `file_id` (in
 *  its folder; the name stays) instead of making a new file: one commit
 *  swaps the content, so a failed upload leaves the old bytes (WebDAV PUT).
 *  Call before upload_set_name. */
void upload_set_replace(struct upload *u, const char *file_id);
/** The file's modification time (ms since the epoch) to record instead of
 *  the commit's time (a client's X-OC-Mtime); 0 = the commit's. */
void upload_set_mtime(struct upload *u, int64_t mtime_ms);
/** Records why the upload is being given up (the first reason wins); its
 *  task shows it once upload_free runs. */
void upload_set_error(struct upload *u, const char *why);
/** True once the upload's task was cancelled. */
bool upload_cancelled(struct upload *u);
/** Appends bytes (always consumed; DRIVE_PENDING asks to hold the next ones). */
int upload_write(struct upload *u, const char *data, size_t n);
/** Stores the last chunk and makes the file visible in one transaction once
 *  every chunk is stored (DRIVE_PENDING until then). On DRIVE_OK, file_id
 *  (>= 32 bytes) holds the new file's id. DRIVE_CANCELLED (also from
 *  upload_write) when the task was cancelled first. */
int upload_finish(struct upload *u, char *file_id, size_t idsz);
/** Bytes received so far. */
uint64_t upload_size(const struct upload *u);
/** Drops everything stored so far (queued for removal) and releases the
 *  upload; chunks still in flight are cancelled where the store can, else
 *  dropped when they land. An unfinished upload's task fails (with the
 *  reason from upload_set_error). Safe to call after upload_finish (then it
 *  only frees). */
void upload_free(struct upload *u);

/* ---- resuming after a restart (upload_resume.c) ----
 * An upload from a URL can go on in a new process where the old one
 * stopped: the chunks stored so far stay (their staged records held by the
 * caller, see garbage_hold), and the file hash goes on from its saved state. */

/** One stored chunk. */
struct upload_piece {
  char locator[BLOB_LOCATOR_MAX];
  char staged_id[ID_LEN + 1];
  char checksum[CHECKSUM_TEXT_MAX];
  uint64_t size;
};

/** The longest run of chunks from the start that are stored and hashed. */
struct upload_prefix {
  uint64_t chunk_size;
  uint64_t bytes;               /* their total size: where a resume starts */
  size_t count;                 /* chunks in the prefix */
  size_t first;                 /* pieces holds chunks [first, count) */
  struct upload_piece *pieces;  /* malloc'd (upload_prefix_free) */
  char hash_state[CHECKSUM_STATE_MAX];  /* the file's SHA-256 after them */
  char head[MIME_HEAD_MAX];     /* the file's first bytes, for its MIME type */
  size_t head_len;
};

/** Keeps the hash state of the stored prefix as chunks land (call before
 *  the first upload_write). */
void upload_set_resumable(struct upload *u);
/** Copies the stored prefix of a resumable upload, with the pieces from
 *  chunk `first` on (the caller has the earlier ones). DRIVE_OK (count 0:
 *  nothing yet) or DRIVE_INTERNAL (out of memory). */
int upload_stored_prefix(struct upload *u, size_t first, struct upload_prefix *out);
/** A resumable upload that goes on after `p` (all its pieces: first 0):
 *  the next upload_write is byte p->bytes of the file. The pieces are
 *  committed with the file, or released when it is given up (unless kept).
 *  NULL: a bad hash state, or out of memory. */
struct upload *upload_resume(const char *owner_id, const char *folder_id,
                             const struct upload_prefix *p);
/** Chunks [0, n) are not released when the upload is freed unfinished: a
 *  process stopping keeps them for the next one to resume. */
void upload_keep_stored(struct upload *u, size_t n);
/** Frees the pieces. */
void upload_prefix_free(struct upload_prefix *p);

#endif
