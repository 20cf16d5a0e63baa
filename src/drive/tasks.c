/* tasks: the registry of running and recently finished tasks (see tasks.h).
 *
 * Locking: one mutex guards the list and every task in it. Owners call in
 * from any thread (store threads report progress); the API reads copies.
 * Database writes happen outside the lock (a slow write must not stall the
 * store threads reporting progress); the UPDATEs never turn a finished row
 * back, so two writes landing out of order cannot undo a final status. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/tasks.h"
#include "drive/task_events.h"
#include "drive/nodes.h"
#include "util/log.h"
#include "util/metric_list.h"
#include "util/timefmt.h"

#define TASK_SPEED_TAU_MS 5000.0 /* smoothing time constant of the speed */
#define TASK_CLUMP_GAP_MS 250    /* confirmations closer together form one clump */
#define TASK_CLUMP_MAX_MS 1000   /* ... for at most this long */
#define TASK_INTERRUPTED "Interrupted before it finished"

struct task {
  struct task *next;       /* registry list, newest first */
  int refs;                /* the registry's and the owner's */
  struct task_view v;      /* speed, eta_s and can_cancel are computed on read */
  bool committing;         /* past task_commit_begin */
  task_cancel_fn cancel;
  void *cancel_arg;
  /* The speed is an exponential moving average, over time, of the rate at
   * which bytes are confirmed. Confirmations come in clumps (parallel puts
   * finish together), so a clump's bytes are folded in as one sample, over
   * the time since the previous clump, once the next one begins. */
  int64_t sample_ms;       /* monotonic: end of the last folded clump (or the start) */
  int64_t last_ms;         /* monotonic: the latest confirmation (or the start) */
  int64_t clump_ms;        /* monotonic: the first confirmation of the current clump */
  uint64_t unsampled;      /* bytes of the current clump */
  double speed;
  double gap_ms;           /* smoothed time between clumps */
  bool sampled;
  int64_t finished_ms;     /* monotonic, 0 while running */
};

static pthread_mutex_t tasks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct task *tasks_head;
static int64_t (*tasks_clock)(void) = time_mono_ms; /* unit tests drive time */
static void (*tasks_relay)(const struct task_view *v);

void tasks_set_relay(void (*fn)(const struct task_view *v))
{
  tasks_relay = fn;
}

/* A change goes to this node's subscribers and to the other nodes. */
static void task_tell(const struct task_view *v)
{
  task_events_publish(v);
  if(tasks_relay)
    tasks_relay(v);
}

static const char *const task_status_names[] = {"queued", "in_progress", "completed", "failed",
                                                "cancelled"};

const char *task_status_name(enum task_status s)
{
  return (unsigned)s < sizeof(task_status_names) / sizeof(task_status_names[0])
             ? task_status_names[s]
             : "failed";
}

int task_status_parse(const char *s)
{
  for(size_t i = 0; s && i < sizeof(task_status_names) / sizeof(task_status_names[0]); i++)
    if(!strcmp(s, task_status_names[i]))
      return (int)i;
  return -1;
}

bool task_status_final(enum task_status s)
{
  return s == TASK_COMPLETED || s == TASK_FAILED || s == TASK_CANCELLED;
}

/* ---- speed and ETA -------------------------------------------------------- */

/* Folds `bytes` that took `dt` ms into the average. */
static double task_speed_fold(double speed, bool sampled, uint64_t bytes, double dt)
{
  if(dt <= 0)
    return speed;
  double rate = (double)bytes * 1000.0 / dt;
  if(!sampled)
    return rate;
  return speed + (1.0 - exp(-dt / TASK_SPEED_TAU_MS)) * (rate - speed);
}

/* The speed as of `now`: with the current clump counted, and dragged down
 * when nothing arrived for much longer than the usual gap (a stall). */
static double task_speed_at(const struct task *t, int64_t now)
{
  double speed = t->speed, span = (double)(t->last_ms - t->sample_ms);
  bool sampled = t->sampled;
  if(t->unsampled && span > 0) {
    speed = task_speed_fold(speed, sampled, t->unsampled, span);
    sampled = true;
  }
  if(!sampled)
    return 0;
  double gap = t->sampled ? t->gap_ms : span;
  double allow = 2 * gap > 1000 ? 2 * gap : 1000;
  double idle = (double)(now - t->last_ms);
  if(idle > allow)
    speed = task_speed_fold(speed, true, 0, idle - allow);
  return speed;
}

/* Counts `bytes` confirmed at `now`, folding the previous clump in first
 * when this starts a new one. */
static void task_speed_add(struct task *t, uint64_t bytes, int64_t now)
{
  if(t->unsampled && (now - t->last_ms >= TASK_CLUMP_GAP_MS ||
                      now - t->clump_ms >= TASK_CLUMP_MAX_MS)) {
    double span = (double)(t->last_ms - t->sample_ms);
    if(span > 0) {
      t->speed = task_speed_fold(t->speed, t->sampled, t->unsampled, span);
      t->gap_ms = t->sampled ? t->gap_ms + 0.3 * (span - t->gap_ms) : span;
      t->sampled = true;
    }
    t->sample_ms = t->last_ms;
    t->unsampled = 0;
  }
  if(!t->unsampled)
    t->clump_ms = now;
  t->unsampled += bytes;
  t->last_ms = now;
}

/* A copy of `t` with the derived fields filled in (registry locked). */
static void task_view_at(const struct task *t, int64_t now, struct task_view *out)
{
  *out = t->v;
  bool running = !task_status_final(t->v.status);
  out->can_cancel = running && !t->committing;
  out->speed = running ? task_speed_at(t, now) : 0;
  out->eta_s = -1;
  if(running && t->v.total > 0) {
    if(t->v.transferred >= t->v.total)
      out->eta_s = 0;
    else if(out->speed > 0)
      out->eta_s = (int64_t)ceil((double)(t->v.total - t->v.transferred) / out->speed);
  }
}

/* ---- persistence ---------------------------------------------------------- */

/* A resumed task (same id) takes its row back: it runs again. */
static int task_insert(db_t *db, const struct task_view *v, const char *url, const char *folder_id)
{
  return db_exec(db, "INSERT INTO tasks (id, user_id, type, status, file_name, url, folder_id, "
                     "transferred, total, created_at, updated_at, node_id) "
                     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
                     "ON CONFLICT (id) DO UPDATE SET status = excluded.status, file_id = NULL, "
                     "error = NULL, transferred = excluded.transferred, total = excluded.total, "
                     "updated_at = excluded.updated_at, node_id = excluded.node_id",
                 "tttttttiiiit", v->id, v->user_id, v->type, task_status_name(v->status),
                 v->file_name, url, folder_id, (int64_t)v->transferred, (int64_t)v->total,
                 v->created_at, v->updated_at, nodes_self());
}

/* Writes a status change. A row already finished is never changed again. */
static void task_persist(const struct task_view *v)
{
  db_t *db = db_get();
  int rc = db ? db_exec(db, "UPDATE tasks SET status = $2, file_id = $3, error = $4, "
                            "transferred = $5, total = $6, updated_at = $7, file_name = $8 "
                            "WHERE id = $1 AND status IN ('queued', 'in_progress')",
                        "ttttiiit", v->id, task_status_name(v->status),
                        v->file_id[0] ? v->file_id : NULL, v->error[0] ? v->error : NULL,
                        (int64_t)v->transferred, (int64_t)v->total, v->updated_at, v->file_name)
              : DB_UNAVAILABLE;
  if(rc != DB_OK)
    log_error("tasks: cannot record task %s as %s (%d)", v->id, task_status_name(v->status), rc);
}

/* ---- registry (all _locked functions run with tasks_lock held) ------------ */

static void task_unref_locked(struct task *t)
{
  if(--t->refs == 0)
    free(t);
}

/* Drops finished tasks older than TASKS_KEEP_MS, and beyond TASKS_KEEP_MAX
 * finished ones the oldest (the list is newest first). */
static void tasks_prune_locked(int64_t now)
{
  size_t kept = 0;
  for(struct task **pp = &tasks_head; *pp;) {
    struct task *t = *pp;
    if(t->finished_ms && (now - t->finished_ms >= TASKS_KEEP_MS || ++kept > TASKS_KEEP_MAX)) {
      *pp = t->next;
      task_unref_locked(t);
      continue;
    }
    pp = &t->next;
  }
}

static struct task *tasks_find_locked(const char *id)
{
  for(struct task *t = tasks_head; t; t = t->next)
    if(!strcmp(t->v.id, id))
      return t;
  return NULL;
}

/* /metrics: a task leaves state `from` (-1: none) for `to` (-1: none). Running
 * states are a gauge; final ones are counted once, as the task reaches them. */
static void task_metric_move(int from, int to)
{
  if(from >= 0) {
    const char *v[] = {task_status_name((enum task_status)from)};
    metric_add(&metric_tasks, v, (uint64_t)-1);
  }
  if(to >= 0) {
    const char *v[] = {task_status_name((enum task_status)to)};
    if(task_status_final((enum task_status)to))
      metric_inc(&metric_tasks_finished, v);
    else
      metric_add(&metric_tasks, v, 1);
  }
}

/* Moves a running task to a final status; false when it had one already. */
static bool task_finish_locked(struct task *t, enum task_status status, const char *file_id,
                               const char *error)
{
  if(task_status_final(t->v.status))
    return false;
  int64_t now = tasks_clock();
  task_metric_move((int)t->v.status, (int)status);
  t->v.status = status;
  t->v.updated_at = time_now_ms();
  t->finished_ms = now > 0 ? now : 1;
  snprintf(t->v.file_id, sizeof(t->v.file_id), "%s", file_id ? file_id : "");
  snprintf(t->v.error, sizeof(t->v.error), "%s", error ? error : "");
  return true;
}

/* ---- lifecycle ------------------------------------------------------------ */

int tasks_init(void)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  /* Only dead nodes' tasks: a live peer's are running (nodes.h). */
  int rc = db_exec(db, "UPDATE tasks SET status = 'failed', error = $1, updated_at = $2 "
                       "WHERE status IN ('queued', 'in_progress') AND " NODES_DEAD_SQL("node_id"),
                   "ti", "Interrupted by a server restart", time_now_ms());
  return drive_db(rc);
}

void tasks_shutdown(void)
{
  pthread_mutex_lock(&tasks_lock);
  while(tasks_head) {
    struct task *t = tasks_head;
    tasks_head = t->next;
    task_unref_locked(t);
  }
  pthread_mutex_unlock(&tasks_lock);
}

struct task *task_start(const struct task_spec *spec, task_cancel_fn cancel, void *arg)
{
  if(!spec || !spec->user_id || !spec->type || !spec->file_name)
    return NULL;
  struct task *t = calloc(1, sizeof(*t));
  if(!t) {
    log_error("tasks: out of memory");
    return NULL;
  }
  if(spec->id)
    snprintf(t->v.id, sizeof(t->v.id), "%s", spec->id);
  else
    id_new(t->v.id);
  snprintf(t->v.user_id, sizeof(t->v.user_id), "%s", spec->user_id);
  snprintf(t->v.type, sizeof(t->v.type), "%s", spec->type);
  snprintf(t->v.file_name, sizeof(t->v.file_name), "%s", spec->file_name);
  t->v.status = spec->queued ? TASK_QUEUED : TASK_IN_PROGRESS;
  t->v.total = spec->total;
  t->v.created_at = t->v.updated_at = time_now_ms();
  if(spec->id && spec->created_at > 0)
    t->v.created_at = spec->created_at;
  t->refs = 2;
  t->cancel = cancel;
  t->cancel_arg = arg;
  t->sample_ms = t->last_ms = tasks_clock();
  /* Recorded before it is listed: every later UPDATE finds the row. */
  db_t *db = db_get();
  int rc = db ? task_insert(db, &t->v, spec->url, spec->folder_id) : DB_UNAVAILABLE;
  if(rc != DB_OK) {
    log_error("tasks: cannot record a new %s task (%d)", spec->type, rc);
    free(t);
    return NULL;
  }
  pthread_mutex_lock(&tasks_lock);
  tasks_prune_locked(t->sample_ms);
  t->next = tasks_head;
  tasks_head = t;
  task_metric_move(-1, (int)t->v.status);
  struct task_view snap;
  task_view_at(t, t->sample_ms, &snap);
  pthread_mutex_unlock(&tasks_lock);
  task_tell(&snap);
  return t;
}

void task_set_file_name(struct task *t, const char *file_name)
{
  pthread_mutex_lock(&tasks_lock);
  snprintf(t->v.file_name, sizeof(t->v.file_name), "%s", file_name);
  pthread_mutex_unlock(&tasks_lock);
}

const char *task_id(const struct task *t)
{
  return t->v.id;   /* set once by task_start */
}

void task_set_running(struct task *t)
{
  struct task_view snap;
  bool changed = false;
  pthread_mutex_lock(&tasks_lock);
  if(t->v.status == TASK_QUEUED) {
    task_metric_move(TASK_QUEUED, TASK_IN_PROGRESS);
    t->v.status = TASK_IN_PROGRESS;
    t->v.updated_at = time_now_ms();
    t->sample_ms = t->last_ms = tasks_clock();   /* the speed counts from here */
    task_view_at(t, t->sample_ms, &snap);
    changed = true;
  }
  pthread_mutex_unlock(&tasks_lock);
  if(changed)
    task_persist(&snap);
  if(changed)
    task_tell(&snap);
}

void task_set_total(struct task *t, uint64_t total)
{
  pthread_mutex_lock(&tasks_lock);
  if(!task_status_final(t->v.status))
    t->v.total = total;
  pthread_mutex_unlock(&tasks_lock);
}

void task_progress(struct task *t, uint64_t bytes)
{
  struct task_view snap;
  bool tell = false;
  pthread_mutex_lock(&tasks_lock);
  if(!task_status_final(t->v.status)) {
    t->v.transferred += bytes;
    t->v.updated_at = time_now_ms();
    task_speed_add(t, bytes, tasks_clock());
    if((tell = task_events_active() || tasks_relay))
      task_view_at(t, tasks_clock(), &snap);
  }
  pthread_mutex_unlock(&tasks_lock);
  if(tell)
    task_tell(&snap);
}

int task_commit_begin(struct task *t)
{
  int rc = DRIVE_OK;
  pthread_mutex_lock(&tasks_lock);
  if(task_status_final(t->v.status))
    rc = DRIVE_CONFLICT;
  else
    t->committing = true;
  pthread_mutex_unlock(&tasks_lock);
  return rc;
}

void task_complete(struct task *t, const char *file_id, uint64_t size)
{
  struct task_view snap;
  pthread_mutex_lock(&tasks_lock);
  bool changed = task_finish_locked(t, TASK_COMPLETED, file_id, NULL);
  if(changed) {
    t->v.transferred = t->v.total = size;
    task_view_at(t, 0, &snap);
  }
  pthread_mutex_unlock(&tasks_lock);
  if(changed)
    task_persist(&snap);
  if(changed)
    task_tell(&snap);
}

void task_fail(struct task *t, const char *error)
{
  struct task_view snap;
  pthread_mutex_lock(&tasks_lock);
  bool changed = task_finish_locked(t, TASK_FAILED, NULL, error && *error ? error : TASK_INTERRUPTED);
  if(changed)
    task_view_at(t, 0, &snap);
  pthread_mutex_unlock(&tasks_lock);
  if(changed)
    task_persist(&snap);
  if(changed)
    task_tell(&snap);
}

bool task_cancelled(struct task *t)
{
  pthread_mutex_lock(&tasks_lock);
  bool c = t->v.status == TASK_CANCELLED;
  pthread_mutex_unlock(&tasks_lock);
  return c;
}

void task_release(struct task *t)
{
  struct task_view snap;
  if(!t)
    return;
  pthread_mutex_lock(&tasks_lock);
  t->cancel = NULL;
  bool changed = task_finish_locked(t, TASK_FAILED, NULL, TASK_INTERRUPTED);
  if(changed)
    task_view_at(t, 0, &snap);
  task_unref_locked(t);
  pthread_mutex_unlock(&tasks_lock);
  if(changed)
    task_persist(&snap);
  if(changed)
    task_tell(&snap);
}

/* ---- what the API asks ---------------------------------------------------- */

int tasks_list(const char *user_id, struct task_view **out, size_t *n)
{
  size_t count = 0, i = 0;
  *out = NULL;
  *n = 0;
  pthread_mutex_lock(&tasks_lock);
  int64_t now = tasks_clock();
  tasks_prune_locked(now);
  for(struct task *t = tasks_head; t; t = t->next)
    if(!strcmp(t->v.user_id, user_id))
      count++;
  struct task_view *v = count ? malloc(count * sizeof(*v)) : NULL;
  if(count && !v) {
    pthread_mutex_unlock(&tasks_lock);
    return DRIVE_INTERNAL;
  }
  for(struct task *t = tasks_head; t && i < count; t = t->next)
    if(!strcmp(t->v.user_id, user_id))
      task_view_at(t, now, &v[i++]);
  pthread_mutex_unlock(&tasks_lock);
  *out = v;
  *n = count;
  return DRIVE_OK;
}

int tasks_cancel(const char *user_id, const char *task_id)
{
  struct task_view snap;
  int rc = DRIVE_OK;
  pthread_mutex_lock(&tasks_lock);
  struct task *t = tasks_find_locked(task_id);
  if(!t || strcmp(t->v.user_id, user_id) != 0)
    rc = DRIVE_NOT_FOUND;
  else if(t->committing || !task_finish_locked(t, TASK_CANCELLED, NULL, NULL))
    rc = DRIVE_CONFLICT;   /* finished, or its result is being made visible */
  else {
    task_view_at(t, 0, &snap);
    /* Under the lock, so the owner cannot be releasing the task meanwhile. */
    if(t->cancel)
      t->cancel(t->cancel_arg);
  }
  pthread_mutex_unlock(&tasks_lock);
  if(rc == DRIVE_OK)
    task_persist(&snap);
  if(rc == DRIVE_OK)
    task_tell(&snap);
  else if(rc == DRIVE_NOT_FOUND) {
    /* Gone from memory: a row of the user's means it finished long ago. */
    int64_t one = 0;
    db_t *db = db_get();
    int q = db ? db_query_int(db, &one, "SELECT 1 FROM tasks WHERE id = $1 AND user_id = $2",
                              "tt", task_id, user_id)
               : DB_UNAVAILABLE;
    if(q == DB_ROW)
      rc = DRIVE_CONFLICT;
    else if(q != DB_DONE)
      rc = drive_from_db(q);
  }
  return rc;
}

#define TASKS_HISTORY_COLS                                                                 \
  "SELECT id, user_id, type, status, file_name, file_id, error, transferred, total, "      \
  "created_at, updated_at FROM tasks WHERE user_id = $1 "

int tasks_history(const char *user_id, int status, int64_t limit, int64_t skip,
                  tasks_history_fn fn, void *arg)
{
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  db_stmt_t *st;
  if(status >= 0)
    st = db_query(db, TASKS_HISTORY_COLS "AND status = $2 "
                      "ORDER BY updated_at DESC, id DESC LIMIT $3 OFFSET $4",
                  "ttii", user_id, task_status_name((enum task_status)status), limit, skip);
  else
    st = db_query(db, TASKS_HISTORY_COLS "AND status IN ('completed', 'failed', 'cancelled') "
                      "ORDER BY updated_at DESC, id DESC LIMIT $2 OFFSET $3",
                  "tii", user_id, limit, skip);
  if(!st)
    return DRIVE_DB;
  int rc = DB_DONE, stop = 0;
  while(!stop && (rc = db_step(st)) == DB_ROW) {
    struct task_view v;
    const char *s;
    memset(&v, 0, sizeof(v));
    db_col_copy(st, 0, v.id, sizeof(v.id));
    db_col_copy(st, 1, v.user_id, sizeof(v.user_id));
    db_col_copy(st, 2, v.type, sizeof(v.type));
    int parsed = task_status_parse(db_col_text(st, 3));
    v.status = parsed < 0 ? TASK_FAILED : (enum task_status)parsed;
    db_col_copy(st, 4, v.file_name, sizeof(v.file_name));
    if((s = db_col_text(st, 5)))
      snprintf(v.file_id, sizeof(v.file_id), "%s", s);
    if((s = db_col_text(st, 6)))
      snprintf(v.error, sizeof(v.error), "%s", s);
    int64_t x = db_col_int(st, 7), y = db_col_int(st, 8);
    v.transferred = x > 0 ? (uint64_t)x : 0;
    v.total = y > 0 ? (uint64_t)y : 0;
    v.created_at = db_col_int(st, 9);
    v.updated_at = db_col_int(st, 10);
    v.eta_s = -1;
    stop = fn(&v, arg);
  }
  return drive_stmt_end(st, rc);
}
