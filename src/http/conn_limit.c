/* conn_limit: see conn_limit.h. One open-addressing table (linear probing,
 * backward-shift delete) of address -> open connections, under one mutex:
 * it is touched once per accept and once per close. It holds at most one
 * entry per open connection, and is sized at least twice that, so a probe
 * is short and the table never fills. */
#include "http/conn_limit.h"
#include <pthread.h>
#include <sys/resource.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct cl_entry {
  struct cidr_addr key;
  int count; /* 0: free slot */
};

static pthread_mutex_t cl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cl_entry *cl_table;
static size_t cl_mask; /* table size - 1 (a power of two) */
static int cl_per_addr;
static struct cidr_list cl_exempt;

/* The counting key: IPv4 as it is, IPv6 by its /64 (one host's block). */
static void cl_key(const struct cidr_addr *a, struct cidr_addr *key)
{
  *key = *a;
  if(a->family == AF_INET6)
    memset(key->b + 8, 0, 8);
  else
    memset(key->b + 4, 0, 12);
}

static size_t cl_hash(const struct cidr_addr *k)
{
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  h = (h ^ (uint64_t)k->family) * 1099511628211ull;
  for(int i = 0; i < 16; i++)
    h = (h ^ k->b[i]) * 1099511628211ull;
  return (size_t)(h ^ (h >> 29));
}

static bool cl_same(const struct cidr_addr *x, const struct cidr_addr *y)
{
  return x->family == y->family && !memcmp(x->b, y->b, 16);
}

/* The slot holding `k`, or the free slot where it would go. Lock held. */
static struct cl_entry *cl_find(const struct cidr_addr *k)
{
  for(size_t i = cl_hash(k) & cl_mask;; i = (i + 1) & cl_mask) {
    struct cl_entry *e = &cl_table[i];
    if(!e->count || cl_same(&e->key, k))
      return e;
  }
}

/* Empties slot `i` and shifts later entries of its probe run back, so no
 * lookup stops early at the hole. Lock held. */
static void cl_remove(size_t i)
{
  for(size_t j = (i + 1) & cl_mask; cl_table[j].count; j = (j + 1) & cl_mask) {
    size_t home = cl_hash(&cl_table[j].key) & cl_mask;
    /* j's entry may move to i only if its home is not in (i, j]. */
    bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if(!between) {
      cl_table[i] = cl_table[j];
      i = j;
    }
  }
  cl_table[i].count = 0;
}

/* Adds one to `k`'s count; with `limit`, only below cl_per_addr. */
static bool cl_add(const struct cidr_addr *k, bool limit)
{
  pthread_mutex_lock(&cl_lock);
  if(!cl_table) { /* not set up: nothing is limited */
    pthread_mutex_unlock(&cl_lock);
    return true;
  }
  struct cl_entry *e = cl_find(k);
  bool ok = !limit || cl_per_addr <= 0 || e->count < cl_per_addr;
  if(ok) {
    e->key = *k;
    e->count++;
  }
  pthread_mutex_unlock(&cl_lock);
  return ok;
}

int conn_limit_init(int per_addr, const struct cidr_list *exempt, unsigned max_open)
{
  /* Up to one entry per open connection, plus a reservation per thread. */
  size_t want = 2 * ((size_t)max_open + 512), size = 64;
  while(size < want)
    size *= 2;
  struct cl_entry *t = calloc(size, sizeof(*t));
  if(!t)
    return -1;
  pthread_mutex_lock(&cl_lock);
  free(cl_table);
  cl_table = t;
  cl_mask = size - 1;
  cl_per_addr = per_addr;
  if(exempt)
    cl_exempt = *exempt;
  else
    cl_exempt.n = 0;
  pthread_mutex_unlock(&cl_lock);
  return 0;
}

void conn_limit_free(void)
{
  pthread_mutex_lock(&cl_lock);
  free(cl_table);
  cl_table = NULL;
  cl_mask = 0;
  pthread_mutex_unlock(&cl_lock);
}

bool conn_limit_take(const struct cidr_addr *a)
{
  struct cidr_addr k;
  cl_key(a, &k);
  return cl_add(&k, true);
}

void conn_limit_give(const struct cidr_addr *a)
{
  struct cidr_addr k;
  cl_key(a, &k);
  pthread_mutex_lock(&cl_lock);
  struct cl_entry *e = cl_table ? cl_find(&k) : NULL;
  if(e && e->count && --e->count == 0)
    cl_remove((size_t)(e - cl_table));
  pthread_mutex_unlock(&cl_lock);
}

int conn_limit_count(const struct cidr_addr *a)
{
  struct cidr_addr k;
  cl_key(a, &k);
  pthread_mutex_lock(&cl_lock);
  int n = cl_table ? cl_find(&k)->count : 0;
  pthread_mutex_unlock(&cl_lock);
  return n;
}

bool conn_limit_exempt(const struct cidr_addr *a)
{
  return cidr_list_match(&cl_exempt, a);
}

unsigned conn_limit_fit_fds(unsigned max_open, unsigned reserve)
{
  /* Debian's soft limit is 1024 while the hard one is far higher: raise the
   * soft one as far as needed, then fit the cap under what we got. */
  struct rlimit rl;
  if(getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return max_open;
  rlim_t want = (rlim_t)max_open + reserve;
  if(rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
    struct rlimit up = rl;
    up.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    if(setrlimit(RLIMIT_NOFILE, &up) == 0)
      rl = up;
  }
  if(rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
    return max_open;
  return rl.rlim_cur > (rlim_t)reserve + 16 ? (unsigned)(rl.rlim_cur - reserve) : 16;
}
