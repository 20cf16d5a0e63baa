/* metrics: a small registry of Prometheus counters, gauges and histograms.
 * A family is a static object (util/metric_list.c lists them all) holding a
 * fixed table of label sets ("series"). Updating is lock-free: a series is
 * found by hashing its label values into the table (a free slot is claimed
 * with one compare-and-swap the first time a label set appears) and then
 * moved with atomic adds. The table is bounded: once it is full, new label
 * sets share one overflow series whose labels all read "other", so a client
 * cannot grow memory or the scrape by inventing values. */
#ifndef NETRA_METRICS_H
#define NETRA_METRICS_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

#define METRIC_LABELS_MAX 3
#define METRIC_LABEL_LEN 64      /* a label value is cut to 63 bytes */
#define METRIC_BUCKETS_MAX 16    /* finite histogram bounds; +Inf is implied */

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metric_series {
  atomic_int state;              /* 0 free, 1 being claimed, 2 ready */
  uint32_t hash;
  char values[METRIC_LABELS_MAX][METRIC_LABEL_LEN];
  atomic_uint_fast64_t value;    /* counter; gauge (as int64); histogram: unused */
  atomic_uint_fast64_t sum;      /* histogram: the sum, a double's bits */
  atomic_uint_fast64_t bucket[METRIC_BUCKETS_MAX + 1]; /* per bucket, not cumulative */
};

struct metric_family {
  const char *name;              /* counters end in _total; units _seconds, _bytes */
  const char *help;
  enum metric_type type;
  int nlabels;
  const char *labels[METRIC_LABELS_MAX];
  const double *bounds;          /* histogram: ascending upper bounds */
  int nbounds;
  size_t cap;                    /* slots in `series`; the last is the overflow */
  struct metric_series *series;
};

/** Defines family `var` with `cap` slots of static storage. */
#define METRIC_FAMILY(var, name_, help_, type_, cap_, nlabels_, ...)              \
  static struct metric_series var##_series[cap_];                                 \
  struct metric_family var = {.name = name_, .help = help_, .type = type_,        \
                              .nlabels = nlabels_, .labels = {__VA_ARGS__},       \
                              .cap = cap_, .series = var##_series}

/** The series of `f` for label values `values` (f->nlabels of them; NULL
 *  for a family without labels). Never NULL: a full table gives the
 *  overflow series. Callers on hot paths may keep the pointer. */
struct metric_series *metric_series(struct metric_family *f, const char *const *values);

/** Counter and gauge updates on a series (atomic, relaxed). */
void metric_series_add(struct metric_series *s, uint64_t n);
void metric_series_set(struct metric_series *s, int64_t v);
/** Histogram: counts `v` in its bucket and adds it to the sum. */
void metric_series_observe(struct metric_family *f, struct metric_series *s, double v);

/** Shorthands: find the series, then update it. */
void metric_add(struct metric_family *f, const char *const *values, uint64_t n);
void metric_inc(struct metric_family *f, const char *const *values);
void metric_set(struct metric_family *f, const char *const *values, int64_t v);
void metric_observe(struct metric_family *f, const char *const *values, double v);

/** Reads a counter or gauge (0 when the label set was never seen). For tests. */
int64_t metric_value(struct metric_family *f, const char *const *values);

/** Appends `f` in the text exposition format 0.0.4 (HELP, TYPE, samples;
 *  histogram buckets cumulative, `_count` equal to the +Inf bucket). */
int metric_render_family(buf_t *out, struct metric_family *f);

/** Appends the process_* metrics read from /proc/self (metrics_process.c). */
int metrics_render_process(buf_t *out);

/** Appends every family of util/metric_list.c, then the process metrics. */
int metrics_render(buf_t *out);

#endif
