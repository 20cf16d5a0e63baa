/* ft_stats: request counters. */
#include "ft_stats.h"

static const char *const names[FT_STAT_COUNT] = {
  "requests", "getMe", "getChat", "sendDocument", "getFile", "download", "deleteMessage",
  "deleteMessages", "rate_limited", "faults", "errors", "bytes_in", "bytes_out",
};

void ft_stats_add(struct ft_stats *s, enum ft_stat which, uint64_t n)
{
  atomic_fetch_add(&s->v[which], n);
}

void ft_stats_reset(struct ft_stats *s)
{
  int i;
  for(i = 0; i < FT_STAT_COUNT; i++)
    atomic_store(&s->v[i], 0);
}

json_t *ft_stats_json(struct ft_stats *s)
{
  json_t *o = json_object();
  int i;

  for(i = 0; i < FT_STAT_COUNT; i++)
    json_object_set_new(o, names[i], json_integer((json_int_t)atomic_load(&s->v[i])));
  return o;
}
