/* urljob: see urljob.h.
 *
 * A job's work runs on the fetch thread: its start (posted at submit), the
 * fetch callbacks (head, body bytes into upload_write, the end) and the
 * commit (upload_finish, which may wait for chunks still landing). Other
 * threads only flip flags under job->lock and post a "kick": the upload's
 * wake (a store thread: the pipeline has room again, or the last chunk
 * landed) and a cancel request (the tasks registry). Lock order: registry,
 * then job->lock; upload lock, then job->lock; job->lock is a leaf.
 *
 * Backpressure: when upload_write says DRIVE_PENDING the bytes were taken;
 * the next body bytes get CURL_WRITEFUNC_PAUSE (fetch asks libcurl) until
 * the wake's kick resumes the transfer on the fetch thread. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/folders.h"
#include "drive/nodes.h"
#include "drive/tasks.h"
#include "drive/upload.h"
#include "drive/urljob.h"
#include "drive/urljob_db.h"
#include "drive/urljob_resume.h"
#include "drive/urlname.h"
#include "fetch/fetch.h"
#include "util/disposition.h"
#include "util/log.h"
#include "util/names.h"
#include "util/timefmt.h"

#define URLJOB_PERSIST_MS 1000   /* bytes so far are written this often */
#define URLJOB_RESTART_ERROR "Interrupted by a server restart"
#define URLJOB_TAKEOVER_ERROR "Interrupted: the server node running it stopped"

enum urljob_state { J_PENDING, J_DOWNLOADING, J_PROCESSING, J_DONE };

struct urljob {
  struct urljob *next;           /* urljobs_active, under urljobs_lock */
  struct urljob_row row;         /* fetch thread (after submit) */
  struct task *task;
  struct upload *up;
  struct fetch *fetch;
  enum urljob_state state;
  bool resume;                   /* picked up after a restart */
  struct upload_prefix *saved;   /* picked up with stored chunks: resume after them */
  uint64_t range_from;           /* the request asks from this byte on (0: all) */
  size_t saved_chunks;           /* chunks of the upload in url_job_chunks */
  bool refetch;                  /* the ranged answer did not fit: ask for it all */
  char why[320];                 /* why we aborted the transfer ourselves */
  int64_t persisted_ms;
  /* Under lock: */
  pthread_mutex_t lock;
  int refs;                      /* the fetch thread's, and one per posted kick */
  bool suspended;                /* the pipeline is full: hold the bytes */
  bool cancelled;
  bool kick_posted;
};

static struct urljob_options urljobs_opt;
static pthread_mutex_t urljobs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct urljob *urljobs_active;
static atomic_bool urljobs_started, urljobs_stopping;

static void urljob_unref(struct urljob *j)
{
  pthread_mutex_lock(&j->lock);
  bool last = --j->refs == 0;
  pthread_mutex_unlock(&j->lock);
  if(!last)
    return;
  pthread_mutex_destroy(&j->lock);
  free(j->row.url);
  free(j);
}

static void urljob_kick(void *arg);

/* Any thread: have the fetch thread look at the job again. */
static void urljob_post_kick(struct urljob *j)
{
  bool post = false;
  pthread_mutex_lock(&j->lock);
  if(!j->kick_posted) {
    j->kick_posted = true;
    j->refs++;
    post = true;
  }
  pthread_mutex_unlock(&j->lock);
  if(post && fetch_post(urljob_kick, j) != 0) {
    pthread_mutex_lock(&j->lock);
    j->kick_posted = false;
    j->refs--;   /* never the last: the fetch thread still holds its own */
    pthread_mutex_unlock(&j->lock);
  }
}

/* The upload's backpressure hooks (called under the upload's lock). */
static void urljob_suspend(void *arg)
{
  struct urljob *j = arg;
  pthread_mutex_lock(&j->lock);
  j->suspended = true;
  pthread_mutex_unlock(&j->lock);
}

static void urljob_wake(void *arg)
{
  struct urljob *j = arg;
  pthread_mutex_lock(&j->lock);
  j->suspended = false;
  pthread_mutex_unlock(&j->lock);
  urljob_post_kick(j);
}

/* The task's cancel hook (registry locked): flag it, let the fetch thread stop it. */
static void urljob_cancel(void *arg)
{
  struct urljob *j = arg;
  pthread_mutex_lock(&j->lock);
  j->cancelled = true;
  pthread_mutex_unlock(&j->lock);
  urljob_post_kick(j);
}

static bool urljob_is_cancelled(struct urljob *j)
{
  pthread_mutex_lock(&j->lock);
  bool c = j->cancelled;
  pthread_mutex_unlock(&j->lock);
  return c;
}

static void urljob_unlist(struct urljob *j)
{
  pthread_mutex_lock(&urljobs_lock);
  for(struct urljob **pp = &urljobs_active; *pp; pp = &(*pp)->next)
    if(*pp == j) {
      *pp = j->next;
      break;
    }
  pthread_mutex_unlock(&urljobs_lock);
}

static void urljob_set_status(struct urljob *j, const char *status)
{
  /* A finished job frees its slot before anyone can read that it finished. */
  if(!strcmp(status, "completed") || !strcmp(status, "failed") || !strcmp(status, "cancelled"))
    urljob_unlist(j);
  snprintf(j->row.status, sizeof(j->row.status), "%s", status);
  j->persisted_ms = time_mono_ms();
  if(!urljobs_stopping)   /* a stopping server leaves it to be picked up again */
    urljob_db_update(&j->row);
}

/* Fetch thread: the job is over; drop everything it holds. */
static void urljob_end(struct urljob *j)
{
  j->state = J_DONE;
  /* A stopping server keeps the saved chunks for the next start to resume
   * with; otherwise they are committed (or released just below). */
  if(j->up && urljobs_stopping)
    upload_keep_stored(j->up, j->saved_chunks);
  else if(j->saved_chunks && !urljobs_stopping)
    urljob_resume_drop(j->row.id, false);
  if(j->saved && !urljobs_stopping)   /* ended before it began */
    urljob_resume_drop(j->row.id, true);
  urljob_resume_free(j->saved);
  j->saved = NULL;
  upload_free(j->up);   /* unfinished: what was stored becomes garbage now */
  j->up = NULL;
  task_release(j->task);   /* after this the cancel hook never runs again */
  j->task = NULL;
  urljob_unlist(j);
  urljob_unref(j);
}

static void urljob_fail(struct urljob *j, const char *error)
{
  char shown[512];
  fetch_redact(j->row.url, shown, sizeof(shown));
  log_info("url job %s (%s) failed: %s", j->row.id, shown, error);
  if(!urljobs_stopping)
    task_fail(j->task, error);
  snprintf(j->row.error, sizeof(j->row.error), "%s", error);
  urljob_set_status(j, "failed");
  urljob_end(j);
}

static void urljob_end_cancelled(struct urljob *j)
{
  j->row.error[0] = '\0';
  urljob_set_status(j, "cancelled");
  urljob_end(j);
}

/* Commits once every chunk landed; DRIVE_PENDING waits for the wake. */
static void urljob_finish_step(struct urljob *j)
{
  char file_id[ID_LEN + 1];
  int rc = upload_finish(j->up, file_id, sizeof(file_id));
  if(rc == DRIVE_PENDING)
    return;
  if(rc == DRIVE_OK) {
    uint64_t size = upload_size(j->up);
    task_complete(j->task, file_id, size);
    snprintf(j->row.file_id, sizeof(j->row.file_id), "%s", file_id);
    j->row.transferred = size;
    j->row.total = (int64_t)size;
    urljob_set_status(j, "completed");
    urljob_end(j);
    return;
  }
  urljob_fail(j, rc == DRIVE_NOT_FOUND    ? "The folder no longer exists"
                 : rc == DRIVE_DUPLICATE ? "This file already exists in your storage (same content)."
                 : rc == DRIVE_TOO_BIG   ? "File exceeds the maximum upload size"
                 : rc == DRIVE_STORAGE   ? "Storage unavailable"
                                         : "Database error");
}

/* ---- resuming with a byte range (fetch thread) ---------------------------- */

static const struct fetch_ops urljob_fetch_ops;

/* The job's upload: going on after the saved chunks, else from byte 0. */
static int urljob_new_upload(struct urljob *j)
{
  const char *folder = j->row.folder_id[0] ? j->row.folder_id : NULL;
  j->up = NULL;
  j->range_from = 0;
  j->saved_chunks = 0;
  if(j->saved) {
    if((j->up = upload_resume(j->row.user_id, folder, j->saved)) != NULL) {
      j->range_from = j->saved->bytes;
      j->saved_chunks = j->saved->count;
    }
    else
      urljob_resume_drop(j->row.id, true);
    urljob_resume_free(j->saved);
    j->saved = NULL;
  }
  if(!j->up && !(j->up = upload_new(j->row.user_id, folder)))
    return -1;
  upload_set_untracked(j->up);
  upload_set_resumable(j->up);
  upload_set_wake(j->up, urljob_suspend, urljob_wake, j);
  return 0;
}

/* The source cannot go on after the saved chunks: they become garbage and
 * the file starts over from byte 0. 0 or -1 (out of memory). */
static int urljob_start_over(struct urljob *j)
{
  log_info("url job %s: the source cannot go on at byte %llu; starting over", j->row.id,
           (unsigned long long)j->range_from);
  upload_free(j->up);   /* releases its chunks */
  if(j->saved_chunks)
    urljob_resume_drop(j->row.id, false);
  j->row.transferred = 0;
  return urljob_new_upload(j);
}

/* Starts the transfer: the whole file, or the rest after the saved chunks. */
static void urljob_fetch(struct urljob *j)
{
  const char *err = NULL;
  struct fetch_request rq = {
    .url = j->row.url, .allow_private = urljobs_opt.allow_private,
    .allowed = urljobs_opt.allowed,
    .connect_timeout_s = urljobs_opt.connect_timeout_s,
    .idle_timeout_s = urljobs_opt.idle_timeout_s, .max_redirects = 5,
    .max_size = urljobs_opt.max_size,
    .range_from = j->range_from, .if_range = urljob_resume_validator(&j->row),
  };
  j->fetch = fetch_begin(&rq, &urljob_fetch_ops, j, &err);
  if(!j->fetch)
    urljob_fail(j, err);
}

/* The answer to a resumed request (urljob_resume_judge). 0 or -1 (stop). */
static int urljob_resume_head(struct urljob *j, const struct fetch_head *h)
{
  int v = urljob_resume_judge(&j->row, j->range_from, h);
  if(v == URLJOB_GO_ON) {
    log_info("url job %s: resumed at byte %llu", j->row.id, (unsigned long long)j->range_from);
    j->row.transferred = j->range_from;
    task_progress(j->task, j->range_from);
    return 0;
  }
  if(v == URLJOB_START_OVER && urljob_start_over(j) == 0)
    return 0;
  j->refetch = v == URLJOB_ASK_AGAIN;
  snprintf(j->why, sizeof(j->why), "Out of memory");
  return -1;
}

/* ---- fetch callbacks (fetch thread) ---------------------------------------- */

static int urljob_on_head(void *arg, const struct fetch_head *h)
{
  struct urljob *j = arg;
  if(j->range_from) {
    int rc = urljob_resume_head(j, h);
    if(rc)
      return rc;
  }
  snprintf(j->row.etag, sizeof(j->row.etag), "%s", h->etag);
  snprintf(j->row.last_modified, sizeof(j->row.last_modified), "%s", h->last_modified);
  j->row.ranges = h->accept_ranges || j->range_from;
  /* A part's length counts from where it starts. */
  j->row.total = h->content_length >= 0 ? h->content_length + (int64_t)j->range_from : -1;
  if(j->row.total >= 0) {
    upload_set_expected(j->up, (uint64_t)j->row.total, (uint64_t)j->row.total);
    task_set_total(j->task, (uint64_t)j->row.total);
  }
  urlname_choose(j->up, j->task, j->row.name, h->disposition, j->row.url);
  urljob_set_status(j, "downloading");
  return 0;
}

static int urljob_on_data(void *arg, const char *p, size_t n)
{
  struct urljob *j = arg;
  pthread_mutex_lock(&j->lock);
  bool cancelled = j->cancelled, suspended = j->suspended;
  pthread_mutex_unlock(&j->lock);
  if(cancelled)
    return FETCH_DATA_ABORT;
  if(suspended)
    return FETCH_DATA_PAUSE;   /* resumed by the wake's kick */
  int rc = upload_write(j->up, p, n);
  if(rc != DRIVE_OK && rc != DRIVE_PENDING) {
    snprintf(j->why, sizeof(j->why), "%s",
             rc == DRIVE_TOO_BIG ? "File exceeds the maximum upload size" : "Storage unavailable");
    return FETCH_DATA_ABORT;
  }
  j->row.transferred += n;
  task_progress(j->task, n);
  if(time_mono_ms() - j->persisted_ms >= URLJOB_PERSIST_MS) {
    urljob_resume_checkpoint(&j->row, j->up, &j->saved_chunks);
    urljob_set_status(j, "downloading");
  }
  return FETCH_DATA_OK;
}

static void urljob_on_done(void *arg, int rc, const char *error)
{
  struct urljob *j = arg;
  j->fetch = NULL;
  if(urljob_is_cancelled(j))
    return urljob_end_cancelled(j);
  if(rc == FETCH_ERR_ABORTED && j->refetch && !urljobs_stopping) {
    j->refetch = false;
    return urljob_start_over(j) == 0 ? urljob_fetch(j) : urljob_fail(j, "Out of memory");
  }
  if(rc == FETCH_ERR_ABORTED)
    return urljob_fail(j, j->why[0] ? j->why : "Stopped");
  if(rc != FETCH_OK)
    return urljob_fail(j, error ? error : "Download failed");
  /* Downloaded: the rest is the pipeline's; past this a cancel is refused. */
  if(task_commit_begin(j->task) != DRIVE_OK)
    return urljob_end_cancelled(j);
  j->state = J_PROCESSING;
  urljob_set_status(j, "processing");
  urljob_finish_step(j);
}

static const struct fetch_ops urljob_fetch_ops = {urljob_on_head, urljob_on_data, urljob_on_done};

/* ---- the job's start and kicks (fetch thread) ------------------------------ */

static void urljob_begin(void *arg)
{
  struct urljob *j = arg;
  if(urljobs_stopping)
    return urljob_end(j);   /* the row stays pending: the next start takes it */
  if(urljob_is_cancelled(j))
    return urljob_end_cancelled(j);
  if(urljob_new_upload(j) != 0)
    return urljob_fail(j, "Out of memory");
  j->state = J_DOWNLOADING;
  task_set_running(j->task);
  urljob_set_status(j, "downloading");
  urljob_fetch(j);
}

static void urljob_kick(void *arg)
{
  struct urljob *j = arg;
  pthread_mutex_lock(&j->lock);
  j->kick_posted = false;
  bool cancelled = j->cancelled, suspended = j->suspended;
  pthread_mutex_unlock(&j->lock);
  if(j->state == J_DOWNLOADING && j->fetch) {
    if(cancelled)
      fetch_abort(j->fetch);   /* its done() ends the job */
    else if(!suspended)
      fetch_resume(j->fetch);
  }
  else if(j->state == J_PROCESSING)
    urljob_finish_step(j);
  urljob_unref(j);
}

/* ---- submit, start, stop --------------------------------------------------- */

/* A new job (not yet listed): row filled by the caller, status pending. */
static struct urljob *urljob_alloc(void)
{
  struct urljob *j = calloc(1, sizeof(*j));
  if(!j)
    return NULL;
  pthread_mutex_init(&j->lock, NULL);
  j->refs = 1;
  j->state = J_PENDING;
  snprintf(j->row.status, sizeof(j->row.status), "pending");
  const char *self = nodes_self();
  snprintf(j->row.node_id, sizeof(j->row.node_id), "%s", self ? self : "");
  return j;
}

/* Lists the job (unless a cap is reached: false). Caps are skipped for jobs
 * picked up at start. */
static bool urljob_list(struct urljob *j, bool capped)
{
  int mine = 0, all = 0;
  pthread_mutex_lock(&urljobs_lock);
  for(struct urljob *o = urljobs_active; o; o = o->next, all++)
    if(!strcmp(o->row.user_id, j->row.user_id))
      mine++;
  bool ok = !capped || (mine < urljobs_opt.max_per_user && all < urljobs_opt.max_total);
  if(ok) {
    j->next = urljobs_active;
    urljobs_active = j;
  }
  pthread_mutex_unlock(&urljobs_lock);
  return ok;
}

/* The task the user watches: named as well as can be told before the head. */
static struct task *urljob_task(struct urljob *j, bool resumed)
{
  char guess[1024], clean[256] = "download";
  if(j->row.name[0])
    snprintf(clean, sizeof(clean), "%s", j->row.name);
  else if(disposition_url_name(j->row.url, guess, sizeof(guess)) == 0)
    if(name_clean(guess, clean, sizeof(clean)))
      snprintf(clean, sizeof(clean), "download");
  struct task_spec spec = {
    .user_id = j->row.user_id, .type = "url_upload", .file_name = clean, .url = NULL,
    .folder_id = j->row.folder_id[0] ? j->row.folder_id : NULL, .queued = true,
    .id = resumed ? j->row.id : NULL, .created_at = j->row.created_at,
  };
  return task_start(&spec, urljob_cancel, j);
}

int urljob_submit(const char *user_id, const char *folder_id, const char *url, const char *name,
                  char job_id[ID_LEN + 1], char *why, size_t whysz)
{
  char clean[256];
  if(fetch_check_url(url, urljobs_opt.allow_private, urljobs_opt.allowed, why, whysz) != 0)
    return DRIVE_INVALID;
  if(name && *name) {
    const char *err = name_clean(name, clean, sizeof(clean));
    if(err) {
      snprintf(why, whysz, "%s", err);
      return DRIVE_INVALID;
    }
  }
  if(!urljobs_started)
    return DRIVE_INTERNAL;
  struct urljob *j = urljob_alloc();
  if(!j || !(j->row.url = strdup(url))) {
    free(j);
    return DRIVE_INTERNAL;
  }
  snprintf(j->row.user_id, sizeof(j->row.user_id), "%s", user_id);
  snprintf(j->row.folder_id, sizeof(j->row.folder_id), "%s", folder_id ? folder_id : "");
  snprintf(j->row.name, sizeof(j->row.name), "%s", name && *name ? clean : "");
  if(!urljob_list(j, true)) {
    urljob_unref(j);
    return DRIVE_THROTTLED;
  }
  /* The task's id is the job's id: the same thing, watched two ways. */
  j->task = urljob_task(j, false);
  int rc = DRIVE_INTERNAL;
  if(j->task) {
    memcpy(j->row.id, task_id(j->task), sizeof(j->row.id));
    memcpy(job_id, j->row.id, ID_LEN + 1);   /* `j` may be gone once posted */
    rc = urljob_db_insert(&j->row);
  }
  char shown[512];
  fetch_redact(url, shown, sizeof(shown));
  if(rc == DRIVE_OK)
    log_info("url job %s: %s", job_id, shown);
  if(rc == DRIVE_OK && fetch_post(urljob_begin, j) != 0)
    rc = DRIVE_INTERNAL;
  if(rc != DRIVE_OK) {
    if(j->task)
      task_fail(j->task, "The job could not be started");
    task_release(j->task);
    urljob_unlist(j);
    urljob_unref(j);
    return rc;
  }
  return DRIVE_OK;
}

/* A job a dead node left running (a previous process of this one, or a
 * peer that stopped; nodes.h): claimed by this node, then resumed (after its
 * saved chunks with a byte range, else from the start) or failed with
 * `arg`'s reason. */
static void urljob_recover(struct urljob_row *r, void *arg)
{
  const char *why = arg;
  if(!urljob_db_claim(r))
    return;   /* another live node took it first, or it ended */
  bool resumable = (r->etag[0] || r->last_modified[0]) && r->ranges;
  struct urljob *j = resumable ? urljob_alloc() : NULL;
  if(!j)
    urljob_resume_drop(r->id, true);
  if(j) {
    j->saved = urljob_resume_take(r);
    j->row = *r;
    r->url = NULL;   /* the job owns it now */
    j->row.transferred = 0;
    j->row.total = -1;
    j->resume = true;
    snprintf(j->row.status, sizeof(j->row.status), "pending");
    urljob_list(j, false);
    j->task = urljob_task(j, true);
    /* Recorded before it is posted: from then on j->row is the fetch thread's. */
    if(j->task && urljob_db_update(&j->row) == DRIVE_OK && fetch_post(urljob_begin, j) == 0) {
      log_info("url job %s: resumed (its node stopped)", j->row.id);
      return;
    }
    *r = j->row;   /* give the row back to fail it */
    j->row.url = NULL;
    if(j->saved)
      urljob_resume_drop(r->id, true);
    urljob_resume_free(j->saved);
    task_release(j->task);
    urljob_unlist(j);
    urljob_unref(j);
  }
  snprintf(r->status, sizeof(r->status), "failed");
  snprintf(r->error, sizeof(r->error), "%s", why);
  if(urljob_db_update(r) != DRIVE_OK) {
    /* Neither started nor failed (the database refused): claimed but run
     * by nobody, it would stay as it was for good. Give it back. */
    urljob_db_release(r);
    return;
  }
  /* Its task says the same (a graceful stop left another reason there). */
  struct task_spec spec = {
    .user_id = r->user_id, .type = "url_upload", .file_name = r->name[0] ? r->name : "download",
    .folder_id = r->folder_id[0] ? r->folder_id : NULL, .id = r->id, .created_at = r->created_at,
  };
  struct task *t = task_start(&spec, NULL, NULL);
  if(t) {
    task_fail(t, why);
    task_release(t);
  }
}

int urljobs_init(const struct urljob_options *o)
{
  urljobs_opt = *o;
  if(fetch_start() != 0)
    return -1;
  urljobs_started = true;
  urljobs_stopping = false;
  int rc = urljob_db_unfinished(urljob_recover, (void *)URLJOB_RESTART_ERROR);
  if(rc != DRIVE_OK)
    log_error("url jobs: cannot pick up the jobs of the previous process (%d)", rc);
  return 0;
}

void urljobs_take_over(void)
{
  if(!urljobs_started || urljobs_stopping)
    return;
  int rc = urljob_db_unfinished(urljob_recover, (void *)URLJOB_TAKEOVER_ERROR);
  if(rc != DRIVE_OK)
    log_warn("url jobs: cannot look for jobs of stopped nodes (%d); will retry", rc);
}

void urljobs_shutdown(void)
{
  if(!urljobs_started)
    return;
  /* Running jobs stay as they are in url_jobs: the next start picks them up. */
  urljobs_stopping = true;
  fetch_stop();
  urljobs_started = false;
}
