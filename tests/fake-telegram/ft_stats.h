/* ft_stats: request counters for GET /_fake/stats (lock-free atomics). */
#ifndef FT_STATS_H
#define FT_STATS_H
#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

enum ft_stat {
  FT_STAT_REQUESTS,       /* every Bot API and download request */
  FT_STAT_GET_ME,
  FT_STAT_GET_CHAT,
  FT_STAT_SEND_DOCUMENT,
  FT_STAT_GET_FILE,
  FT_STAT_DOWNLOAD,
  FT_STAT_DELETE_MESSAGE,
  FT_STAT_DELETE_MESSAGES,
  FT_STAT_RATE_LIMITED,   /* answers 429 */
  FT_STAT_FAULTS,         /* injected faults of any kind */
  FT_STAT_ERRORS,         /* other error answers (4xx) */
  FT_STAT_BYTES_IN,       /* document bytes stored */
  FT_STAT_BYTES_OUT,      /* download bytes sent */
  FT_STAT_COUNT
};

struct ft_stats {
  atomic_uint_fast64_t v[FT_STAT_COUNT];
};

/** Adds n to a counter. */
void ft_stats_add(struct ft_stats *s, enum ft_stat which, uint64_t n);
/** Zeroes every counter. */
void ft_stats_reset(struct ft_stats *s);
/** The counters as a JSON object (new reference). */
json_t *ft_stats_json(struct ft_stats *s);

#endif
