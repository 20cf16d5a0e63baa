/* urljob_resume: the saved progress of running URL jobs (tables
 * url_job_resume and url_job_chunks), so a job interrupted by a restart goes
 * on with a byte-range request from the end of its last stored chunk, with
 * the chunks and the file hash's state of what came before, instead of from
 * byte 0. The chunks' staged records are `held` (garbage_hold) while saved. */
#ifndef NETRA_URLJOB_RESUME_H
#define NETRA_URLJOB_RESUME_H
#include <stddef.h>
#include "drive/drive.h"
#include "drive/upload.h"
#include "drive/urljob_db.h"
#include "fetch/fetch.h"

/** Saves the stored prefix `p` of job `job_id`: its pieces (chunks [first,
 *  count), appended to those saved before; first 0 starts the record over)
 *  and where it ends. DRIVE_OK or a fault (logged by the caller). */
int urljob_resume_save(const char *job_id, const struct upload_prefix *p);

/** Loads the saved prefix of a job (pieces from 0). DRIVE_OK,
 *  DRIVE_NOT_FOUND (nothing saved) or a fault. upload_prefix_free it. */
int urljob_resume_load(const char *job_id, struct upload_prefix *out);

/** Forgets the job's saved prefix; with `release`, its chunks become
 *  garbage too (a job that will not resume). Best effort, logged. */
void urljob_resume_drop(const char *job_id, bool release);

/** What If-Range can carry for the source's version: a strong ETag, else
 *  its Last-Modified date; NULL when neither (then no resume). */
const char *urljob_resume_validator(const struct urljob_row *r);

/** About once a second while a job downloads: saves the chunks of `up`
 *  stored in order beyond the *saved first ones, when the source could
 *  serve the rest after a restart (ranges and a validator); *saved grows. */
void urljob_resume_checkpoint(const struct urljob_row *r, struct upload *up, size_t *saved);

/** At start: the saved chunks of a job left running, when it can resume
 *  after them (malloc'd: urljob_resume_free). NULL, with any
 *  record dropped and its chunks released, when not. */
struct upload_prefix *urljob_resume_take(const struct urljob_row *r);

/** Frees what urljob_resume_take returned (NULL is fine). */
void urljob_resume_free(struct upload_prefix *p);

/** What to do with the answer to a request for the bytes from `from` on:
 *  go on (a 206 from that byte, of the same version), start over with it
 *  (a 200 is the whole file: the source ignores ranges, or its version
 *  changed and it honoured If-Range), or ask again for all of it (a part
 *  that does not fit). */
enum { URLJOB_GO_ON, URLJOB_START_OVER, URLJOB_ASK_AGAIN };
int urljob_resume_judge(const struct urljob_row *r, uint64_t from, const struct fetch_head *h);

#endif
