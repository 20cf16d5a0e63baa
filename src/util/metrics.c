/* metrics: see metrics.h. Counters use relaxed atomics: a scrape may see one
 * request counted in requests_total and not yet in the histogram, which
 * Prometheus tolerates; nothing here ever takes a lock. */
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include "util/metrics.h"

#define RELAXED memory_order_relaxed

static size_t label_len(const char *v)
{
  return v ? strnlen(v, METRIC_LABEL_LEN - 1) : 0;
}

/* FNV-1a over the (cut) values, each followed by a separator. */
static uint32_t labels_hash(int n, const char *const *values)
{
  uint32_t h = 2166136261u;
  for(int i = 0; i < n; i++) {
    size_t len = label_len(values[i]);
    for(size_t j = 0; j < len; j++)
      h = (h ^ (unsigned char)values[i][j]) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
  }
  return h;
}

static bool labels_equal(const struct metric_series *s, int n, const char *const *values)
{
  for(int i = 0; i < n; i++) {
    size_t len = label_len(values[i]);
    if((len && memcmp(s->values[i], values[i], len) != 0) || s->values[i][len] != 0)
      return false;
  }
  return true;
}

/* Waits out another thread's claim of slot `s` (it only copies the labels). */
static int slot_state(struct metric_series *s)
{
  int st = atomic_load_explicit(&s->state, memory_order_acquire);
  while(st == 1) {
    sched_yield();
    st = atomic_load_explicit(&s->state, memory_order_acquire);
  }
  return st;
}

static struct metric_series *series_lookup(struct metric_family *f, const char *const *values,
                                           bool create)
{
  if(f->nlabels == 0 || f->cap < 2)
    return &f->series[0];
  size_t slots = f->cap - 1;   /* the last one is the overflow */
  uint32_t h = labels_hash(f->nlabels, values);
  for(size_t i = 0; i < slots; i++) {
    struct metric_series *s = &f->series[(h + i) % slots];
    int st = atomic_load_explicit(&s->state, memory_order_acquire);
    if(st == 0) {
      if(!create)
        return NULL;
      int expect = 0;
      if(atomic_compare_exchange_strong(&s->state, &expect, 1)) {
        s->hash = h;
        for(int j = 0; j < f->nlabels; j++) {
          size_t len = label_len(values[j]);
          if(len)
            memcpy(s->values[j], values[j], len);
          s->values[j][len] = 0;
        }
        atomic_store_explicit(&s->state, 2, memory_order_release);
        return s;
      }
    }
    if(slot_state(s) == 2 && s->hash == h && labels_equal(s, f->nlabels, values))
      return s;
  }
  return create ? &f->series[slots] : NULL;
}

struct metric_series *metric_series(struct metric_family *f, const char *const *values)
{
  return series_lookup(f, values, true);
}

void metric_series_add(struct metric_series *s, uint64_t n)
{
  atomic_fetch_add_explicit(&s->value, n, RELAXED);
}

void metric_series_set(struct metric_series *s, int64_t v)
{
  atomic_store_explicit(&s->value, (uint64_t)v, RELAXED);
}

static uint64_t dbits(double d)
{
  uint64_t u;
  memcpy(&u, &d, sizeof(u));
  return u;
}

static double bitsd(uint64_t u)
{
  double d;
  memcpy(&d, &u, sizeof(d));
  return d;
}

void metric_series_observe(struct metric_family *f, struct metric_series *s, double v)
{
  int i = 0;
  while(i < f->nbounds && i < METRIC_BUCKETS_MAX && v > f->bounds[i])
    i++;
  atomic_fetch_add_explicit(&s->bucket[i], 1, RELAXED);
  uint64_t old = atomic_load_explicit(&s->sum, RELAXED);
  while(!atomic_compare_exchange_weak_explicit(&s->sum, &old, dbits(bitsd(old) + v), RELAXED,
                                               RELAXED))
    ;
}

void metric_add(struct metric_family *f, const char *const *values, uint64_t n)
{
  metric_series_add(metric_series(f, values), n);
}

void metric_inc(struct metric_family *f, const char *const *values)
{
  metric_series_add(metric_series(f, values), 1);
}

void metric_set(struct metric_family *f, const char *const *values, int64_t v)
{
  metric_series_set(metric_series(f, values), v);
}

void metric_observe(struct metric_family *f, const char *const *values, double v)
{
  metric_series_observe(f, metric_series(f, values), v);
}

int64_t metric_value(struct metric_family *f, const char *const *values)
{
  struct metric_series *s = series_lookup(f, values, false);
  return s ? (int64_t)atomic_load_explicit(&s->value, RELAXED) : 0;
}

/* ---- rendering ---- */

/* A label value in the exposition format: backslash, quote and newline
 * escaped. */
static int put_value(buf_t *out, const char *v)
{
  int rc = BUF_OK;
  for(const char *p = v; *p && rc == BUF_OK; p++) {
    if(*p == '\\') rc = buf_puts(out, "\\\\");
    else if(*p == '"') rc = buf_puts(out, "\\\"");
    else if(*p == '\n') rc = buf_puts(out, "\\n");
    else rc = buf_append(out, p, 1);
  }
  return rc;
}

/* `{a="x",b="y"` plus `le` when given, then `}`; nothing without labels. */
static int put_labels(buf_t *out, const struct metric_family *f, const struct metric_series *s,
                      bool overflow, const char *le)
{
  if(f->nlabels == 0 && !le)
    return BUF_OK;
  int rc = buf_puts(out, "{");
  for(int i = 0; i < f->nlabels && rc == BUF_OK; i++) {
    rc = buf_printf(out, "%s%s=\"", i ? "," : "", f->labels[i]);
    if(rc == BUF_OK) rc = put_value(out, overflow ? "other" : s->values[i]);
    if(rc == BUF_OK) rc = buf_puts(out, "\"");
  }
  if(le && rc == BUF_OK)
    rc = buf_printf(out, "%sle=\"%s\"", f->nlabels ? "," : "", le);
  if(rc == BUF_OK)
    rc = buf_puts(out, "}");
  return rc;
}

static void fmt_double(char *out, size_t n, double v)
{
  if(isinf(v))
    snprintf(out, n, v > 0 ? "+Inf" : "-Inf");
  else {
    /* The shortest text that reads back as the same double ("0.1"). */
    snprintf(out, n, "%.15g", v);
    if(strtod(out, NULL) != v)
      snprintf(out, n, "%.17g", v);
  }
}

static int put_histogram(buf_t *out, const struct metric_family *f, struct metric_series *s,
                         bool overflow)
{
  uint64_t cum = 0;
  char le[48], num[48];
  int rc = BUF_OK;
  int nb = f->nbounds < METRIC_BUCKETS_MAX ? f->nbounds : METRIC_BUCKETS_MAX;
  for(int i = 0; i <= nb && rc == BUF_OK; i++) {
    cum += atomic_load_explicit(&s->bucket[i], RELAXED);
    if(i < nb)
      fmt_double(le, sizeof(le), f->bounds[i]);
    else
      snprintf(le, sizeof(le), "+Inf");
    rc = buf_printf(out, "%s_bucket", f->name);
    if(rc == BUF_OK) rc = put_labels(out, f, s, overflow, le);
    if(rc == BUF_OK) rc = buf_printf(out, " %llu\n", (unsigned long long)cum);
  }
  fmt_double(num, sizeof(num), bitsd(atomic_load_explicit(&s->sum, RELAXED)));
  if(rc == BUF_OK) rc = buf_printf(out, "%s_sum", f->name);
  if(rc == BUF_OK) rc = put_labels(out, f, s, overflow, NULL);
  if(rc == BUF_OK) rc = buf_printf(out, " %s\n%s_count", num, f->name);
  if(rc == BUF_OK) rc = put_labels(out, f, s, overflow, NULL);
  if(rc == BUF_OK) rc = buf_printf(out, " %llu\n", (unsigned long long)cum);
  return rc;
}

static int put_series(buf_t *out, const struct metric_family *f, struct metric_series *s,
                      bool overflow)
{
  if(f->type == METRIC_HISTOGRAM)
    return put_histogram(out, f, s, overflow);
  uint64_t v = atomic_load_explicit(&s->value, RELAXED);
  int rc = buf_puts(out, f->name);
  if(rc == BUF_OK) rc = put_labels(out, f, s, overflow, NULL);
  if(rc == BUF_OK) {
    if(f->type == METRIC_GAUGE)
      rc = buf_printf(out, " %lld\n", (long long)(int64_t)v);
    else
      rc = buf_printf(out, " %llu\n", (unsigned long long)v);
  }
  return rc;
}

static bool series_used(const struct metric_series *s)
{
  if(atomic_load_explicit(&s->value, RELAXED))
    return true;
  for(int i = 0; i <= METRIC_BUCKETS_MAX; i++)
    if(atomic_load_explicit(&s->bucket[i], RELAXED))
      return true;
  return false;
}

int metric_render_family(buf_t *out, struct metric_family *f)
{
  static const char *const types[] = {"counter", "gauge", "histogram"};
  /* A counter's family name in HELP/TYPE keeps its _total, as the Go and
   * Python clients write it in format 0.0.4. */
  int rc = buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                      types[f->type]);
  if(rc != BUF_OK)
    return rc;
  if(f->nlabels == 0 || f->cap < 2)
    return put_series(out, f, &f->series[0], false);
  size_t slots = f->cap - 1;
  for(size_t i = 0; i < slots && rc == BUF_OK; i++) {
    struct metric_series *s = &f->series[i];
    if(atomic_load_explicit(&s->state, memory_order_acquire) == 2)
      rc = put_series(out, f, s, false);
  }
  if(rc == BUF_OK && series_used(&f->series[slots]))
    rc = put_series(out, f, &f->series[slots], true);
  return rc;
}
