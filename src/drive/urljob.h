/* urljob: uploads from a URL (API §9). A job downloads on the fetch thread
 * (fetch/fetch.h) straight into the upload pipeline (drive/upload.h): no
 * temp copy of the file, and when the pipeline has enough chunks on the way
 * the transfer pauses until the store catches up. Each job is a row of
 * url_jobs (its status, for GET /upload/status) and a task of type
 * "url_upload" with the same id (GET /tasks, cancel). */
#ifndef NETRA_URLJOB_H
#define NETRA_URLJOB_H
#include <stdbool.h>
#include <stdint.h>
#include "drive/drive.h"
#include "util/cidr.h"
#include "util/id.h"

struct urljob_options {
  bool allow_private;        /* ALLOW_PRIVATE_URLS */
  const struct cidr_list *allowed; /* URL_ALLOWED_NETWORKS (kept by pointer; NULL: none) */
  int max_per_user;          /* MAX_URL_JOBS_PER_USER: running jobs per user */
  int max_total;             /* MAX_URL_JOBS: running jobs in all */
  long connect_timeout_s;    /* URL_CONNECT_TIMEOUT */
  long idle_timeout_s;       /* URL_IDLE_TIMEOUT */
  uint64_t max_size;         /* MAX_UPLOAD_SIZE, 0 = none */
};

/** Starts the fetch thread and picks up the jobs a previous process left
 *  running: resumed when their source has a validator and ranges, else
 *  failed. Call after tasks_init. 0 or -1. */
int urljobs_init(const struct urljob_options *o);
/** Claims the jobs of nodes that stopped (nodes.h) and resumes or fails
 *  them, as urljobs_init does at start. Any thread; after urljobs_init. */
void urljobs_take_over(void);
/** Stops every transfer and the fetch thread. */
void urljobs_shutdown(void);

/** A retry hint for DRIVE_THROTTLED from urljob_submit, in seconds. */
#define URLJOB_RETRY_AFTER 10

/** Queues a job. `name` NULL or "" = from the source. The folder must be
 *  checked by the caller first. DRIVE_OK with the id in job_id, DRIVE_INVALID
 *  with a reason in `why` (bad URL, refused by its literal address, bad
 *  name), DRIVE_THROTTLED (a cap), or a fault. */
int urljob_submit(const char *user_id, const char *folder_id, const char *url, const char *name,
                  char job_id[ID_LEN + 1], char *why, size_t whysz);

#endif
