/* task_events: subscribers per user and the progress throttle (see
 * task_events.h).
 *
 * One mutex guards the subscriber list and the throttle table, and is held
 * while the callbacks run, which is what lets unsubscribe promise that no
 * callback is running once it returns. Lock order: this lock, then the task
 * registry's (a subscriber's `begin` lists tasks); tasks.c never publishes
 * with the registry locked. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/task_events.h"
#include "util/timefmt.h"

/* Tasks whose last progress event time is remembered. A task not in the
 * table just gets its next event at once, so the size only bounds memory;
 * it is above any realistic number of tasks running at the same moment. */
#define TASK_EVENTS_SLOTS 256

struct task_sub {
  struct task_sub *next;
  char user_id[TASK_USER_MAX];
  task_event_fn fn;
  void *arg;
};

struct task_events_slot {
  char id[ID_LEN + 1];   /* "" = free */
  int64_t last_ms;       /* monotonic: the last event passed on */
  bool final;            /* the final event went out: nothing more */
};

static pthread_mutex_t te_lock = PTHREAD_MUTEX_INITIALIZER;
static struct task_sub *te_subs;
static atomic_int te_count;
static struct task_events_slot te_slots[TASK_EVENTS_SLOTS];

struct task_sub *task_events_subscribe(const char *user_id, task_event_fn fn,
                                       void (*begin)(void *arg), void *arg)
{
  struct task_sub *s = calloc(1, sizeof(*s));
  if(!s)
    return NULL;
  snprintf(s->user_id, sizeof(s->user_id), "%s", user_id);
  s->fn = fn;
  s->arg = arg;
  pthread_mutex_lock(&te_lock);
  if(begin)
    begin(arg);
  s->next = te_subs;
  te_subs = s;
  atomic_fetch_add(&te_count, 1);
  pthread_mutex_unlock(&te_lock);
  return s;
}

void task_events_unsubscribe(struct task_sub *s)
{
  if(!s)
    return;
  pthread_mutex_lock(&te_lock);
  for(struct task_sub **pp = &te_subs; *pp; pp = &(*pp)->next)
    if(*pp == s) {
      *pp = s->next;
      atomic_fetch_sub(&te_count, 1);
      break;
    }
  pthread_mutex_unlock(&te_lock);
  free(s);
}

bool task_events_active(void)
{
  return atomic_load(&te_count) > 0;
}

/* Whether this change goes out (lock held): a final one always, once; a
 * progress one when the task's last went out long enough ago. */
static bool task_events_due(const struct task_view *v)
{
  int64_t now = time_mono_ms();
  bool final = task_status_final(v->status);
  struct task_events_slot *slot = NULL, *oldest = &te_slots[0];
  for(size_t i = 0; i < TASK_EVENTS_SLOTS; i++) {
    struct task_events_slot *e = &te_slots[i];
    if(!strcmp(e->id, v->id)) {
      slot = e;
      break;
    }
    if(!e->id[0] || (oldest->id[0] && e->last_ms < oldest->last_ms))
      oldest = e;
  }
  if(slot && slot->final)
    return false;   /* a late progress tick, or a second final: the client knows */
  if(slot && !final && now - slot->last_ms < TASK_EVENTS_PROGRESS_MS)
    return false;
  if(!slot) {
    slot = oldest;
    snprintf(slot->id, sizeof(slot->id), "%s", v->id);
  }
  slot->last_ms = now;
  slot->final = final;
  return true;
}

void task_events_publish(const struct task_view *v)
{
  if(!task_events_active())
    return;
  pthread_mutex_lock(&te_lock);
  bool watched = false;
  for(struct task_sub *s = te_subs; s && !watched; s = s->next)
    watched = !strcmp(s->user_id, v->user_id);
  if(watched && task_events_due(v))
    for(struct task_sub *s = te_subs; s; s = s->next)
      if(!strcmp(s->user_id, v->user_id))
        s->fn(s->arg, v);
  pthread_mutex_unlock(&te_lock);
}
