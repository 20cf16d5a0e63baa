/* tg_pace: client-side flood control for one chat or one bot. Telegram
 * allows about one message per second per chat with short bursts, and
 * about 20 per minute in a group or channel; going over earns 429s. A pace
 * is a token bucket (rate + burst) plus a rolling one-minute window, plus a
 * block set from a 429's retry_after.
 *
 * Telegram counts a message when it has arrived, and a 20 MB document takes
 * a while to travel: sends that leave a second apart can arrive closer. So
 * the bucket and the window are charged when a send lands (its reply came
 * back), and a send still in flight counts as already charged: a new send
 * goes only when the bucket would allow it even if every message in flight
 * arrived first. That is never more generous than Telegram's own count.
 * Times are monotonic milliseconds; the caller serialises access (the
 * client thread owns every pace). */
#ifndef NETRA_TG_PACE_H
#define NETRA_TG_PACE_H
#include <stdbool.h>
#include <stdint.h>

#define TG_PACE_WINDOW_MAX 64 /* largest per-minute limit a pace can track */
/* The window holds landing times: a reply comes back a little after
 * Telegram counted its message, so ours are never early; the extra second
 * is a margin for Telegram's own timing. */
#define TG_PACE_WINDOW_MS 61000

struct tg_pace {
  double per_sec;     /* bucket refill per second; 0 = no bucket */
  double burst;       /* bucket size */
  int per_min;        /* sends per rolling minute; 0 = no window */
  double tokens;
  int64_t last_ms;    /* when `tokens` was last brought up to date */
  int64_t sent[TG_PACE_WINDOW_MAX]; /* ring of landing times within the window */
  int head, count;
  int inflight;       /* taken, not landed yet */
  int64_t blocked_until; /* no sends before this (429) */
};

/** Sets the limits (per_min is clamped to TG_PACE_WINDOW_MAX) and starts
 *  with a full bucket. A pace with per_sec 0 and per_min 0 never waits,
 *  except for a 429 block. */
void tg_pace_init(struct tg_pace *p, double per_sec, double burst, int per_min, int64_t now);

/** Milliseconds until a send may go (0 = now). */
int64_t tg_pace_delay(struct tg_pace *p, int64_t now);

/** Records a send starting at `now` (call when tg_pace_delay said 0); it
 *  counts as charged until tg_pace_land. */
void tg_pace_take(struct tg_pace *p, int64_t now);

/** Ends a send taken earlier: `arrived` when Telegram accepted it (it is
 *  charged at `now`), false when it never reached Telegram or was refused. */
void tg_pace_land(struct tg_pace *p, int64_t now, bool arrived);

/** Holds every send back until `until` (after a 429 with retry_after). */
void tg_pace_block(struct tg_pace *p, int64_t until);

#endif
