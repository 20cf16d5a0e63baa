/* ft_fault: fault dice. */
#include "ft_fault.h"

#include <pthread.h>
#include <string.h>

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t fault_state = 0x9e3779b97f4a7c15ull;

/* splitmix64: tiny, good enough, and reproducible everywhere */
static uint64_t next_u64(void)
{
  uint64_t z;

  pthread_mutex_lock(&fault_lock);
  z = (fault_state += 0x9e3779b97f4a7c15ull);
  pthread_mutex_unlock(&fault_lock);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* true with probability p; p >= 1 is always true without a draw, 0 never */
static int roll(double p)
{
  if(p <= 0)
    return 0;
  if(p >= 1)
    return 1;
  return (double)(next_u64() >> 11) / 9007199254740992.0 < p;
}

void ft_fault_seed(uint64_t seed)
{
  pthread_mutex_lock(&fault_lock);
  fault_state = seed;
  pthread_mutex_unlock(&fault_lock);
}

void ft_fault_draw(const struct ft_runtime *rt, int is_download, uint64_t body_len,
                   struct ft_fault_plan *plan)
{
  memset(plan, 0, sizeof(*plan));
  if(roll(rt->drop_rate)) {
    plan->drop = 1;
    plan->count++;
    return;
  }
  if(roll(rt->fail_rate)) {
    uint64_t r = next_u64();
    plan->fail_status = (r & 1) ? 502 : 500;
    plan->fail_html = (r & 6) == 0; /* one in four as an HTML page */
    plan->count++;
  }
  if(roll(rt->slow_rate)) {
    plan->slow_ms = rt->slow_ms;
    plan->count++;
  }
  if(is_download && !plan->fail_status && body_len > 0 && roll(rt->truncate_rate)) {
    plan->truncate = 1;
    plan->truncate_at = next_u64() % body_len;
    plan->count++;
  }
}
