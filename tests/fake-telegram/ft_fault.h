/* ft_fault: the dice for injected faults. One seeded generator behind a
 * mutex, so a run with --seed gives the same sequence of decisions for the
 * same sequence of requests. */
#ifndef FT_FAULT_H
#define FT_FAULT_H
#include <stdint.h>

#include "ft_config.h"

/** What to do to one request. */
struct ft_fault_plan {
  int drop;              /* close without an answer */
  int fail_status;       /* 0, 500 or 502 */
  int fail_html;         /* the 5xx as an HTML page instead of JSON */
  int slow_ms;           /* extra delay before answering */
  int truncate;          /* downloads: stop after truncate_at bytes */
  uint64_t truncate_at;
  int count;             /* how many faults this plan holds (for stats) */
};

/** Seeds the generator (from --seed, or randomly). */
void ft_fault_seed(uint64_t seed);
/** Draws the faults for one request; `body_len` is the download size, or 0
 *  for API calls (which are never truncated). */
void ft_fault_draw(const struct ft_runtime *rt, int is_download, uint64_t body_len,
                   struct ft_fault_plan *plan);

#endif
