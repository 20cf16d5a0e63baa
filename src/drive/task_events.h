/* task_events: live task changes for whoever watches a user's tasks (the
 * WebSocket of API §9). tasks.c publishes a copy of a task at each status
 * change and progress tick; a subscriber gets those of one user through its
 * callback. Publishing is cheap: one atomic load when nobody watches, else a
 * short walk under this module's own lock, never the registry's. Progress of
 * one task is passed on at most every TASK_EVENTS_PROGRESS_MS; a final status
 * always is, and nothing of that task after it. */
#ifndef NETRA_TASK_EVENTS_H
#define NETRA_TASK_EVENTS_H
#include <stdbool.h>
#include "drive/tasks.h"

#define TASK_EVENTS_PROGRESS_MS 250 /* ~4 progress events a second per task */

/** Gets one change of one of the user's tasks (final when
 *  task_status_final(v->status)). Runs on the publishing thread with this
 *  module's lock held: it must only hand the change on (render, enqueue),
 *  never block, and never call task_events or tasks functions. */
typedef void (*task_event_fn)(void *arg, const struct task_view *v);

struct task_sub;

/** Watches the user's tasks. `begin`, if not NULL, runs once with the lock
 *  held before any change reaches `fn`, so a snapshot it takes (tasks_list
 *  may be called there) comes before every change published after it.
 *  NULL when out of memory. */
struct task_sub *task_events_subscribe(const char *user_id, task_event_fn fn,
                                       void (*begin)(void *arg), void *arg);
/** Stops watching: once this returns `fn` is not running and will not run
 *  again. NULL is fine. */
void task_events_unsubscribe(struct task_sub *s);
/** True when anybody watches any user: lets a publisher skip making a copy.
 *  Lock-free, so callable with the registry locked. */
bool task_events_active(void);
/** Hands a change to the task's user's subscribers (called by tasks.c, with
 *  the registry unlocked). */
void task_events_publish(const struct task_view *v);

#endif
