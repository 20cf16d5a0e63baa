/* tg_pace: token bucket + rolling window + 429 block, charged when sends
 * land (see tg_pace.h). */
#include <math.h>
#include <string.h>
#include "telegram/tg_pace.h"

void tg_pace_init(struct tg_pace *p, double per_sec, double burst, int per_min, int64_t now)
{
  memset(p, 0, sizeof(*p));
  p->per_sec = per_sec > 0 ? per_sec : 0;
  p->burst = burst >= 1 ? burst : 1;
  p->per_min = per_min < 0 ? 0 : per_min > TG_PACE_WINDOW_MAX ? TG_PACE_WINDOW_MAX : per_min;
  p->tokens = p->burst;
  p->last_ms = now;
}

/* Brings the bucket and the window up to `now`. */
static void tg_pace_refill(struct tg_pace *p, int64_t now)
{
  if(p->per_sec > 0 && now > p->last_ms) {
    p->tokens += (double)(now - p->last_ms) * p->per_sec / 1000.0;
    if(p->tokens > p->burst)
      p->tokens = p->burst;
  }
  if(now > p->last_ms)
    p->last_ms = now;
  while(p->count > 0 && p->sent[p->head] + TG_PACE_WINDOW_MS <= now) {
    p->head = (p->head + 1) % TG_PACE_WINDOW_MAX;
    p->count--;
  }
}

/* When a pace cannot tell (everything is in flight), look again after this. */
#define TG_PACE_RECHECK_MS 1000

int64_t tg_pace_delay(struct tg_pace *p, int64_t now)
{
  int64_t wait = 0;
  tg_pace_refill(p, now);
  if(p->blocked_until > now)
    wait = p->blocked_until - now;
  /* What the bucket holds once every send in flight has been charged. */
  double left = p->tokens - p->inflight;
  if(p->per_sec > 0 && left < 1.0) {
    int64_t w = (int64_t)ceil((1.0 - left) * 1000.0 / p->per_sec);
    if(w > wait)
      wait = w;
  }
  if(p->per_min > 0 && p->count + p->inflight >= p->per_min) {
    /* The landing that must leave the window first (in flight: unknown). */
    int k = p->count + p->inflight - p->per_min;
    int64_t w = k < p->count ? p->sent[(p->head + k) % TG_PACE_WINDOW_MAX] + TG_PACE_WINDOW_MS - now
                             : TG_PACE_RECHECK_MS;
    if(w > wait)
      wait = w;
  }
  return wait;
}

void tg_pace_take(struct tg_pace *p, int64_t now)
{
  tg_pace_refill(p, now);
  p->inflight++;
}

void tg_pace_land(struct tg_pace *p, int64_t now, bool arrived)
{
  tg_pace_refill(p, now);
  if(p->inflight > 0)
    p->inflight--;
  if(!arrived)
    return;
  if(p->per_sec > 0)
    p->tokens -= 1.0;  /* may go below 0 after a burst: then it waits longer */
  if(p->per_min > 0) {
    if(p->count == p->per_min) { /* over (a send nobody paced): forget the oldest */
      p->head = (p->head + 1) % TG_PACE_WINDOW_MAX;
      p->count--;
    }
    p->sent[(p->head + p->count) % TG_PACE_WINDOW_MAX] = now;
    p->count++;
  }
}

void tg_pace_block(struct tg_pace *p, int64_t until)
{
  if(until > p->blocked_until)
    p->blocked_until = until;
}
