/* ft_pace: per-chat token bucket + per-minute window. */
#include "ft_pace.h"

#include <math.h>
#include <stdlib.h>

struct ft_pace_chat {
  int64_t id;
  double tokens;
  double last;       /* time of the last refill */
  double *ring;      /* send times of the last per_min messages */
  int ring_cap;      /* per_min this ring was made for */
  int ring_n, ring_head;
  int burst;         /* burst the bucket was filled for */
};

void ft_pace_init(struct ft_pace *p)
{
  pthread_mutex_init(&p->lock, NULL);
  p->chats = NULL;
  p->n = p->cap = 0;
}

static void clear_chats(struct ft_pace *p)
{
  size_t i;
  for(i = 0; i < p->n; i++)
    free(p->chats[i].ring);
  p->n = 0;
}

void ft_pace_free(struct ft_pace *p)
{
  clear_chats(p);
  free(p->chats);
  p->chats = NULL;
  p->cap = 0;
  pthread_mutex_destroy(&p->lock);
}

void ft_pace_reset(struct ft_pace *p)
{
  pthread_mutex_lock(&p->lock);
  clear_chats(p);
  pthread_mutex_unlock(&p->lock);
}

static struct ft_pace_chat *chat_get(struct ft_pace *p, int64_t id)
{
  struct ft_pace_chat *c;
  size_t i;

  for(i = 0; i < p->n; i++)
    if(p->chats[i].id == id)
      return &p->chats[i];
  if(p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 16;
    struct ft_pace_chat *nc = realloc(p->chats, cap * sizeof(*nc));
    if(!nc)
      return NULL;
    p->chats = nc;
    p->cap = cap;
  }
  c = &p->chats[p->n++];
  c->id = id;
  c->tokens = -1; /* filled on first use */
  c->last = 0;
  c->ring = NULL;
  c->ring_cap = c->ring_n = c->ring_head = 0;
  c->burst = 0;
  return c;
}

int ft_pace_take(struct ft_pace *p, int64_t chat_id, double per_sec, int burst, int per_min,
                 double now, int *retry_after)
{
  struct ft_pace_chat *c;
  double wait = 0;
  int rc = -1;

  pthread_mutex_lock(&p->lock);
  c = chat_get(p, chat_id);
  if(!c)
    goto out;
  /* settings changed at run time: start this chat afresh */
  if(c->tokens < 0 || c->burst != burst) {
    c->tokens = burst;
    c->burst = burst;
    c->last = now;
  }
  if(c->ring_cap != per_min) {
    free(c->ring);
    c->ring = per_min > 0 ? calloc((size_t)per_min, sizeof(double)) : NULL;
    if(per_min > 0 && !c->ring)
      goto out;
    c->ring_cap = per_min;
    c->ring_n = c->ring_head = 0;
  }
  if(per_sec > 0) {
    c->tokens += (now - c->last) * per_sec;
    if(c->tokens > burst)
      c->tokens = burst;
    c->last = now;
    if(c->tokens < 1)
      wait = (1 - c->tokens) / per_sec;
  }
  /* the window is full when the per_min-th latest send is under a minute old */
  if(per_min > 0 && c->ring_n == per_min && c->ring[c->ring_head] + 60 > now) {
    double w = c->ring[c->ring_head] + 60 - now;
    if(w > wait)
      wait = w;
  }
  if(wait > 0) {
    *retry_after = (int)ceil(wait);
    if(*retry_after < 1)
      *retry_after = 1;
    rc = 1;
    goto out;
  }
  if(per_sec > 0)
    c->tokens -= 1;
  if(per_min > 0) {
    int slot = (c->ring_head + c->ring_n) % per_min;
    if(c->ring_n == per_min) {
      slot = c->ring_head;
      c->ring_head = (c->ring_head + 1) % per_min;
    }
    else
      c->ring_n++;
    c->ring[slot] = now;
  }
  rc = 0;
out:
  pthread_mutex_unlock(&p->lock);
  return rc;
}
