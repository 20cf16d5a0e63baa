/* tasks: long operations a user can watch and cancel (API §9): uploads to a
 * remote store now, uploads from a URL later.
 *
 * A registry in memory, under one mutex, holds the running tasks and the
 * recently finished ones; request threads read it, store threads update it.
 * Every task is also a row in the tasks table, written when it starts and at
 * each status change (never per progress tick), so the history outlives the
 * registry and a restart. A task is owned by the code doing the work, which
 * holds a `struct task *` from task_start to task_release and reports
 * progress and the outcome through it; a cancel request from the API marks
 * the task cancelled and calls the owner's cancel callback. */
#ifndef NETRA_TASKS_H
#define NETRA_TASKS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "drive/drive.h"
#include "util/id.h"

enum task_status { TASK_QUEUED, TASK_IN_PROGRESS, TASK_COMPLETED, TASK_FAILED, TASK_CANCELLED };


#define TASK_TYPE_MAX 16
#define TASK_NAME_MAX 256
#define TASK_ERROR_MAX 256
#define TASK_USER_MAX 40

/* Finished tasks stay listed this long after they finish (then only the
 * history has them), and at most this many stay in memory overall. */
#define TASKS_KEEP_MS (10 * 60 * 1000)
#define TASKS_KEEP_MAX 1000

/** A copy of one task at one moment: what the API renders. */
struct task_view {
  char id[ID_LEN + 1];
  char user_id[TASK_USER_MAX];
  char type[TASK_TYPE_MAX];
  enum task_status status;
  char file_name[TASK_NAME_MAX];
  char file_id[ID_LEN + 1];    /* "" = none */
  char error[TASK_ERROR_MAX];  /* "" = none */
  uint64_t transferred, total; /* total 0 = unknown */
  double speed;                /* bytes per second, smoothed; 0 = unknown */
  int64_t eta_s;               /* seconds left, -1 = unknown */
  bool can_cancel;
  int64_t created_at, updated_at; /* ms since the epoch */
};

/** What a new task is about. */
struct task_spec {
  const char *user_id;
  const char *type;       /* "upload", "url_upload", ... */
  const char *file_name;
  const char *url;        /* NULL = none */
  const char *folder_id;  /* NULL = root */
  uint64_t total;         /* bytes expected, 0 = unknown */
  bool queued;            /* starts queued instead of in_progress */
  const char *id;         /* NULL = a new task; else resume this row (a URL job
                           * picked up again after a restart) */
  int64_t created_at;     /* with id: when it was first created (0 = now) */
};

/** The owner's hook for a cancel request. It runs on the cancelling thread
 *  with the registry locked, so it must be quick, must not block and must
 *  not call back into tasks; it only tells the work to stop. */
typedef void (*task_cancel_fn)(void *arg);

struct task;

/** Marks tasks that dead nodes (nodes.h: a previous process of this one,
 *  or a peer that stopped) left queued or running as failed: their work
 *  died with them. A live peer's tasks are left alone. */
int tasks_init(void);
/** Drops the registry (call once the owners released their tasks). */
void tasks_shutdown(void);

/** Creates a task (persisted, then listed) and returns the owner's handle,
 *  or NULL (logged) when it cannot be recorded. `cancel` may be NULL. */
struct task *task_start(const struct task_spec *spec, task_cancel_fn cancel, void *arg);
/** Renames the task once the work knows the file's name (not persisted by
 *  itself: the next status change writes it). */
void task_set_file_name(struct task *t, const char *file_name);
/** The task's id (ID_LEN characters). */
const char *task_id(const struct task *t);
/** Queued -> in progress (persisted). */
void task_set_running(struct task *t);
/** Sets the expected size (0 = unknown). Not persisted by itself. */
void task_set_total(struct task *t, uint64_t total);
/** Adds `bytes` to what was transferred and updates the speed. Cheap: not
 *  persisted. Ignored once the task finished. */
void task_progress(struct task *t, uint64_t bytes);
/** The point of no return before the work's result becomes visible: from
 *  now on a cancel request answers DRIVE_CONFLICT. DRIVE_CONFLICT when the
 *  task was cancelled (or finished) already: the work must not commit. */
int task_commit_begin(struct task *t);
/** Finishes as completed with the new file (transferred = total = size). */
void task_complete(struct task *t, const char *file_id, uint64_t size);
/** Finishes as failed with a reason for the user. No-op when finished. */
void task_fail(struct task *t, const char *error);
/** True once a cancel request was accepted. */
bool task_cancelled(struct task *t);
/** The owner is done with the task: its cancel callback will not run again
 *  once this returns. A task still running is failed ("Interrupted"). NULL
 *  is fine. */
void task_release(struct task *t);

/** The user's tasks in the registry (running and recently finished), newest
 *  first, as a malloc'd array in *out (caller frees). DRIVE_OK or DRIVE_INTERNAL. */
int tasks_list(const char *user_id, struct task_view **out, size_t *n);
/** Cancels the user's queued or running task. DRIVE_OK, DRIVE_NOT_FOUND
 *  (unknown, foreign, or no longer in memory) or DRIVE_CONFLICT. */
int tasks_cancel(const char *user_id, const char *task_id);

/** Also hands every change of a task of this node to `fn` (task_bus.c, for
 *  the other nodes): from the owner's thread, so `fn` must not block. Set
 *  once at start, before any task runs; NULL = none. */
void tasks_set_relay(void (*fn)(const struct task_view *v));

/** Called for each row of tasks_history; non-zero stops the walk. */
typedef int (*tasks_history_fn)(const struct task_view *v, void *arg);
/** The user's finished tasks from the database, most recently finished
 *  first; `status` < 0 = any finished status. DRIVE_OK or an error. */
int tasks_history(const char *user_id, int status, int64_t limit, int64_t skip,
                  tasks_history_fn fn, void *arg);

/** The periodic form of tasks_init (task_takeover.c): claims each task a
 *  dead node left running, one at a time, and fails it with `error`
 *  through the registry, so watchers on every node see it end. Returns how
 *  many, or a DRIVE_* fault (< 0). */
int64_t tasks_take_over(const char *error);

/** "queued", "in_progress", "completed", "failed", "cancelled". */
const char *task_status_name(enum task_status s);
/** The status named `s`, or -1. */
int task_status_parse(const char *s);
/** True for completed, failed and cancelled. */
bool task_status_final(enum task_status s);

#endif
