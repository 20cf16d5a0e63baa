/* task_bus: tasks across nodes through LISTEN/NOTIFY (see task_bus.h).
 *
 * A notification is one compact JSON object on the channel netradrive_tasks:
 * {"n": sending node, "k": "e" (a task's change) or "c" (cancel it), "i":
 * task id, "u": user id, and for a change the fields of its task_view}. A
 * node's id is random per process; a node skips its own notifications. */
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "db/db.h"
#include "db/db_listen.h"
#include "drive/task_bus.h"
#include "drive/task_events.h"
#include "util/log.h"
#include "util/timefmt.h"

#define BUS_SLOTS 256                 /* changes waiting to be sent, one per task */
#define BUS_PAYLOAD 8000              /* PostgreSQL's limit of a NOTIFY payload */
#define TASK_BUS_CANCEL_WAIT_MS 3000  /* how long a cancel waits for the other node */
#define BUS_NOTIFY_SQL "SELECT pg_notify('netradrive_tasks', $1)"

struct bus_msg {
  bool used;
  bool cancel;             /* a cancel request, else a change */
  struct task_view v;      /* for a cancel, only id and user_id */
};

static pthread_mutex_t bus_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bus_cond = PTHREAD_COND_INITIALIZER;
static struct bus_msg bus_out[BUS_SLOTS];
static struct bus_msg bus_batch[BUS_SLOTS]; /* the sender's copy */
static int bus_queued, bus_urgent;          /* used slots; of them finals and cancels */
static bool bus_running;
static pthread_t bus_sender;
static db_listen_thread_t *bus_listen;
static char bus_node[ID_LEN + 1];

/* Queues a message, replacing an unsent change of the same task (bus_lock held). */
static void bus_queue_locked(const struct task_view *v, bool cancel)
{
  struct bus_msg *m = NULL;
  for(int i = 0; i < BUS_SLOTS && !m; i++)
    if(bus_out[i].used && !bus_out[i].cancel && !cancel && !strcmp(bus_out[i].v.id, v->id))
      m = &bus_out[i];
  if(m && task_status_final(m->v.status))
    return;   /* a final change stays the last word */
  for(int i = 0; i < BUS_SLOTS && !m; i++)
    if(!bus_out[i].used) {
      m = &bus_out[i];
      bus_queued++;
    }
  if(!m) {
    log_warn("tasks: the node outbox is full; a change of task %s is not sent", v->id);
    return;
  }
  m->used = true;
  m->cancel = cancel;
  m->v = *v;
  if(cancel || task_status_final(v->status))
    bus_urgent++;
  pthread_cond_signal(&bus_cond);
}

/* tasks.c's relay: runs on the owner's thread, so it only queues. */
static void bus_relay(const struct task_view *v)
{
  pthread_mutex_lock(&bus_lock);
  if(bus_running)
    bus_queue_locked(v, false);
  pthread_mutex_unlock(&bus_lock);
}

static void bus_send(db_t *db, const struct bus_msg *m)
{
  const struct task_view *v = &m->v;
  json_t *o = m->cancel
                  ? json_pack("{s:s,s:s,s:s,s:s}", "n", bus_node, "k", "c", "i", v->id, "u",
                              v->user_id)
                  : json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:I,s:I,s:f,s:I,s:b,s:I,s:I}",
                              "n", bus_node, "k", "e", "i", v->id, "u", v->user_id, "y", v->type,
                              "s", (int)v->status, "f", v->file_name, "d", v->file_id, "r",
                              v->error, "x", (json_int_t)v->transferred, "t",
                              (json_int_t)v->total, "p", v->speed, "a", (json_int_t)v->eta_s,
                              "c", v->can_cancel, "ca", (json_int_t)v->created_at, "ua",
                              (json_int_t)v->updated_at);
  char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  if(!text || strlen(text) >= BUS_PAYLOAD || !db ||
     db_exec(db, BUS_NOTIFY_SQL, "t", text) != DB_OK)
    log_warn("tasks: cannot tell the other nodes about task %s", v->id);
  free(text);
}

/* Sends what is queued, then lets progress gather for TASK_BUS_PROGRESS_MS
 * (a final change or a cancel cuts the pause short): the throttle. */
static void *bus_sender_main(void *arg)
{
  pthread_mutex_lock(&bus_lock);
  while(bus_running) {
    if(!bus_queued) {
      pthread_cond_wait(&bus_cond, &bus_lock);
      continue;
    }
    int n = 0;
    for(int i = 0; i < BUS_SLOTS; i++)
      if(bus_out[i].used) {
        bus_batch[n++] = bus_out[i];
        bus_out[i].used = false;
      }
    bus_queued = bus_urgent = 0;
    pthread_mutex_unlock(&bus_lock);
    db_t *db = db_get();
    for(int i = 0; i < n; i++)
      bus_send(db, &bus_batch[i]);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += TASK_BUS_PROGRESS_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&bus_lock);
    while(bus_running && !bus_urgent &&
          pthread_cond_timedwait(&bus_cond, &bus_lock, &until) == 0)
      ;
  }
  pthread_mutex_unlock(&bus_lock);
  return NULL;
}

static void bus_copy(json_t *o, const char *key, char *out, size_t outsz)
{
  const char *s = json_string_value(json_object_get(o, key));
  snprintf(out, outsz, "%s", s ? s : "");
}

/* One notification of another node: its task's change goes to this node's
 * subscribers; a cancel reaches the task if it runs here. */
static void bus_receive(const char *payload, void *arg)
{
  (void)arg;
  json_t *o = json_loads(payload, 0, NULL);
  const char *node = json_string_value(json_object_get(o, "n"));
  const char *kind = json_string_value(json_object_get(o, "k"));
  struct task_view v;
  memset(&v, 0, sizeof(v));
  bus_copy(o, "i", v.id, sizeof(v.id));
  bus_copy(o, "u", v.user_id, sizeof(v.user_id));
  if(!node || !kind || !strcmp(node, bus_node) || !id_valid(v.id) || !v.user_id[0])
    goto out;
  if(!strcmp(kind, "c")) {
    if(tasks_cancel(v.user_id, v.id) == DRIVE_OK)
      log_info("tasks: task %s cancelled at another node's request", v.id);
    goto out;
  }
  if(strcmp(kind, "e") || !task_events_active())
    goto out;
  bus_copy(o, "y", v.type, sizeof(v.type));
  bus_copy(o, "f", v.file_name, sizeof(v.file_name));
  bus_copy(o, "d", v.file_id, sizeof(v.file_id));
  bus_copy(o, "r", v.error, sizeof(v.error));
  json_int_t s = json_integer_value(json_object_get(o, "s"));
  v.status = s >= TASK_QUEUED && s <= TASK_CANCELLED ? (enum task_status)s : TASK_FAILED;
  v.transferred = (uint64_t)json_integer_value(json_object_get(o, "x"));
  v.total = (uint64_t)json_integer_value(json_object_get(o, "t"));
  v.speed = json_number_value(json_object_get(o, "p"));
  v.eta_s = json_integer_value(json_object_get(o, "a"));
  v.can_cancel = json_is_true(json_object_get(o, "c"));
  v.created_at = json_integer_value(json_object_get(o, "ca"));
  v.updated_at = json_integer_value(json_object_get(o, "ua"));
  task_events_publish(&v);
out:
  json_decref(o);
}

static const struct db_listen_ops bus_listen_ops = {bus_receive, NULL};

int task_bus_start(void)
{
  if(db_dialect() != DB_POSTGRES)
    return 0;
  id_new(bus_node);
  if(db_listen_start("LISTEN netradrive_tasks", BUS_PAYLOAD, &bus_listen_ops, NULL,
                     &bus_listen) != 0)
    return -1;
  bus_running = true;
  if(pthread_create(&bus_sender, NULL, bus_sender_main, NULL) != 0) {
    bus_running = false;
    db_listen_stop(bus_listen);
    bus_listen = NULL;
    return -1;
  }
  tasks_set_relay(bus_relay);
  return 0;
}

bool task_bus_on(void)
{
  return bus_listen != NULL;
}

void task_bus_stop(void)
{
  if(!bus_listen)
    return;
  pthread_mutex_lock(&bus_lock);
  bus_running = false;
  pthread_cond_broadcast(&bus_cond);
  pthread_mutex_unlock(&bus_lock);
  pthread_join(bus_sender, NULL);
  db_listen_stop(bus_listen);
  bus_listen = NULL;
}

/* The task's status in the tasks table, or -1 (no row of the user's, or error). */
static int bus_row_status(db_t *db, const char *user_id, const char *task_id)
{
  db_stmt_t *st = db_query(db, "SELECT status FROM tasks WHERE id = $1 AND user_id = $2", "tt",
                           task_id, user_id);
  int status = db_step(st) == DB_ROW ? task_status_parse(db_col_text(st, 0)) : -1;
  db_finalize(st);
  return status;
}

/* True when the user's task is in this node's registry. */
static bool bus_runs_here(const char *user_id, const char *task_id)
{
  struct task_view *v = NULL;
  size_t n = 0;
  bool here = false;
  if(tasks_list(user_id, &v, &n) != DRIVE_OK)
    return true;   /* cannot tell: do not reach out */
  for(size_t i = 0; i < n && !here; i++)
    here = !strcmp(v[i].id, task_id);
  free(v);
  return here;
}

int task_bus_cancel(const char *user_id, const char *task_id)
{
  int rc = tasks_cancel(user_id, task_id);
  if(rc != DRIVE_CONFLICT || !bus_listen || bus_runs_here(user_id, task_id))
    return rc;
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  int status = bus_row_status(db, user_id, task_id);
  if(status != TASK_QUEUED && status != TASK_IN_PROGRESS)
    return rc;   /* finished */
  struct task_view v;
  memset(&v, 0, sizeof(v));
  snprintf(v.id, sizeof(v.id), "%s", task_id);
  snprintf(v.user_id, sizeof(v.user_id), "%s", user_id);
  pthread_mutex_lock(&bus_lock);
  bus_queue_locked(&v, true);
  pthread_mutex_unlock(&bus_lock);
  /* The node running it answers by recording the outcome in its row. */
  for(int waited = 0; waited < TASK_BUS_CANCEL_WAIT_MS; waited += 50) {
    nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    status = bus_row_status(db, user_id, task_id);
    if(status >= 0 && task_status_final((enum task_status)status))
      return status == TASK_CANCELLED ? DRIVE_OK : DRIVE_CONFLICT;
  }
  /* No node answered: the one that ran it died; its row says so now. */
  if(db_exec(db, "UPDATE tasks SET status = 'cancelled', updated_at = $2 "
                 "WHERE id = $1 AND status IN ('queued', 'in_progress')",
             "ti", task_id, time_now_ms()) != DB_OK)
    return DRIVE_UNAVAILABLE;
  return db_changes(db) > 0 || bus_row_status(db, user_id, task_id) == TASK_CANCELLED
             ? DRIVE_OK
             : DRIVE_CONFLICT;
}

/* Newest first, as tasks_list. */
static int bus_by_created(const void *a, const void *b)
{
  const struct task_view *x = a, *y = b;
  return x->created_at < y->created_at ? 1 : x->created_at > y->created_at ? -1 : 0;
}

int task_bus_list_others(const char *user_id, struct task_view **v, size_t *n)
{
  if(!bus_listen)
    return DRIVE_OK;
  db_t *db = db_get();
  if(!db)
    return DRIVE_UNAVAILABLE;
  db_stmt_t *st = db_query(db, "SELECT id, type, status, file_name, transferred, total, "
                               "created_at, updated_at FROM tasks WHERE user_id = $1 "
                               "AND status IN ('queued', 'in_progress')",
                           "t", user_id);
  int rc;
  size_t before = *n;
  while((rc = db_step(st)) == DB_ROW) {
    const char *id = db_col_text(st, 0);
    bool known = false;
    for(size_t i = 0; i < before && !known; i++)
      known = !strcmp((*v)[i].id, id);
    if(known)
      continue;
    struct task_view *grown = realloc(*v, (*n + 1) * sizeof(**v));
    if(!grown) {
      rc = DB_ERROR;
      break;
    }
    *v = grown;
    struct task_view *t = &(*v)[(*n)++];
    memset(t, 0, sizeof(*t));
    snprintf(t->id, sizeof(t->id), "%s", id);
    snprintf(t->user_id, sizeof(t->user_id), "%s", user_id);
    db_col_copy(st, 1, t->type, sizeof(t->type));
    int s = task_status_parse(db_col_text(st, 2));
    t->status = s < 0 ? TASK_IN_PROGRESS : (enum task_status)s;
    db_col_copy(st, 3, t->file_name, sizeof(t->file_name));
    int64_t x = db_col_int(st, 4), y = db_col_int(st, 5);
    t->transferred = x > 0 ? (uint64_t)x : 0;
    t->total = y > 0 ? (uint64_t)y : 0;
    t->created_at = db_col_int(st, 6);
    t->updated_at = db_col_int(st, 7);
    t->eta_s = -1;
    t->can_cancel = true;
  }
  rc = drive_stmt_end(st, rc);
  if(*n > before)
    qsort(*v, *n, sizeof(**v), bus_by_created);
  return rc;
}
