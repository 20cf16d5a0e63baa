/* ft_pace: Telegram-like per-chat flood control. Each chat has a token bucket
 * (burst, refill per second) and a rolling one-minute window; a message that
 * fits neither is refused with the whole seconds until it would fit. */
#ifndef FT_PACE_H
#define FT_PACE_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct ft_pace_chat;

struct ft_pace {
  pthread_mutex_t lock;
  struct ft_pace_chat *chats;
  size_t n, cap;
};

/** Prepares an empty limiter. */
void ft_pace_init(struct ft_pace *p);
/** Frees every chat's state. */
void ft_pace_free(struct ft_pace *p);
/** Forgets all history (every chat starts with a full bucket). */
void ft_pace_reset(struct ft_pace *p);
/** Takes one message slot for `chat_id` at monotonic time `now`.
 *  0 when allowed; 1 when limited, with *retry_after >= 1 seconds;
 *  -1 when out of memory. */
int ft_pace_take(struct ft_pace *p, int64_t chat_id, double per_sec, int burst, int per_min,
                 double now, int *retry_after);

#endif
