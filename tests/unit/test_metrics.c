/* Unit tests for util/metrics: counters, gauges and label sets, the bounded
 * table's overflow series, histogram rendering (cumulative buckets, _count
 * equal to +Inf), label escaping, and concurrent increments from threads
 * (no update lost, each label set claimed once). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "util/metrics.h"

METRIC_FAMILY(t_plain, "t_plain_total", "A counter.", METRIC_COUNTER, 1, 0);
METRIC_FAMILY(t_gauge, "t_gauge", "A gauge.", METRIC_GAUGE, 1, 0);
METRIC_FAMILY(t_lab, "t_lab_total", "Labelled.", METRIC_COUNTER, 5, 2, "a", "b");
METRIC_FAMILY(t_conc, "t_conc_total", "Concurrent.", METRIC_COUNTER, 64, 1, "k");
static const double t_bounds[] = {0.1, 1, 10};
static struct metric_series t_hist_series[4];
static struct metric_family t_hist = {.name = "t_seconds", .help = "A histogram.",
  .type = METRIC_HISTOGRAM, .nlabels = 1, .labels = {"route"}, .bounds = t_bounds,
  .nbounds = 3, .cap = 4, .series = t_hist_series};

static char *render(struct metric_family *f)
{
  static buf_t b;
  buf_free(&b);
  buf_init(&b, 1 << 20);
  assert_int_equal(metric_render_family(&b, f), BUF_OK);
  return b.data;
}

static void test_counter_gauge(void **state)
{
  metric_inc(&t_plain, NULL);
  metric_add(&t_plain, NULL, 41);
  assert_int_equal(metric_value(&t_plain, NULL), 42);
  assert_string_equal(render(&t_plain),
                      "# HELP t_plain_total A counter.\n# TYPE t_plain_total counter\n"
                      "t_plain_total 42\n");
  metric_set(&t_gauge, NULL, 5);
  metric_add(&t_gauge, NULL, (uint64_t)-7);
  assert_int_equal(metric_value(&t_gauge, NULL), -2);
  assert_non_null(strstr(render(&t_gauge), "\nt_gauge -2\n"));
}

static void test_labels_and_overflow(void **state)
{
  const char *x[] = {"x", "1"}, *y[] = {"y", "1"}, *q[] = {"q\"\\\n", "2"};
  metric_inc(&t_lab, x);
  metric_inc(&t_lab, x);
  metric_inc(&t_lab, y);
  assert_int_equal(metric_value(&t_lab, x), 2);
  assert_int_equal(metric_value(&t_lab, y), 1);
  const char *none[] = {"none", "1"};
  assert_int_equal(metric_value(&t_lab, none), 0);
  metric_inc(&t_lab, q);
  char *text = render(&t_lab);
  assert_non_null(strstr(text, "t_lab_total{a=\"x\",b=\"1\"} 2\n"));
  assert_non_null(strstr(text, "t_lab_total{a=\"q\\\"\\\\\\n\",b=\"2\"} 1\n"));
  /* 4 slots for label sets: the fifth and later share the overflow series. */
  const char *e[] = {"e", "1"}, *f[] = {"f", "1"}, *g[] = {"g", "1"};
  metric_inc(&t_lab, e);
  metric_inc(&t_lab, f);
  metric_inc(&t_lab, g);
  text = render(&t_lab);
  assert_non_null(strstr(text, "t_lab_total{a=\"other\",b=\"other\"} 2\n"));
  /* A long value is cut, and the cut value is the same label set. */
  char longv[200];
  memset(longv, 'z', sizeof(longv) - 1);
  longv[sizeof(longv) - 1] = 0;
  const char *l[] = {longv, "1"};
  assert_int_equal(metric_value(&t_lab, l), 0);
}

static void test_histogram(void **state)
{
  const char *r[] = {"/a/{id}"};
  metric_observe(&t_hist, r, 0.05);
  metric_observe(&t_hist, r, 0.5);
  metric_observe(&t_hist, r, 0.5);
  metric_observe(&t_hist, r, 100);
  char *text = render(&t_hist);
  assert_non_null(strstr(text, "# TYPE t_seconds histogram\n"));
  assert_non_null(strstr(text, "t_seconds_bucket{route=\"/a/{id}\",le=\"0.1\"} 1\n"));
  assert_non_null(strstr(text, "t_seconds_bucket{route=\"/a/{id}\",le=\"1\"} 3\n"));
  assert_non_null(strstr(text, "t_seconds_bucket{route=\"/a/{id}\",le=\"10\"} 3\n"));
  assert_non_null(strstr(text, "t_seconds_bucket{route=\"/a/{id}\",le=\"+Inf\"} 4\n"));
  assert_non_null(strstr(text, "t_seconds_sum{route=\"/a/{id}\"} 101.05"));
  assert_non_null(strstr(text, "t_seconds_count{route=\"/a/{id}\"} 4\n"));
}

#define CONC_THREADS 8
#define CONC_ROUNDS 20000

static void *conc_worker(void *arg)
{
  int id = (int)(intptr_t)arg;
  char mine[16];
  snprintf(mine, sizeof(mine), "t%d", id);
  const char *shared[] = {"shared"}, *own[] = {mine};
  for(int i = 0; i < CONC_ROUNDS; i++) {
    metric_inc(&t_conc, shared);
    metric_inc(&t_conc, own);
    /* Label sets appearing while others count: claimed once each. */
    char k[16];
    snprintf(k, sizeof(k), "n%d", i % 40);
    const char *fresh[] = {k};
    metric_inc(&t_conc, fresh);
  }
  return NULL;
}

static void test_concurrent(void **state)
{
  pthread_t th[CONC_THREADS];
  for(int i = 0; i < CONC_THREADS; i++)
    assert_int_equal(pthread_create(&th[i], NULL, conc_worker, (void *)(intptr_t)i), 0);
  for(int i = 0; i < CONC_THREADS; i++)
    pthread_join(th[i], NULL);
  const char *shared[] = {"shared"};
  assert_int_equal(metric_value(&t_conc, shared), CONC_THREADS * CONC_ROUNDS);
  for(int i = 0; i < CONC_THREADS; i++) {
    char k[16];
    snprintf(k, sizeof(k), "t%d", i);
    const char *own[] = {k};
    assert_int_equal(metric_value(&t_conc, own), CONC_ROUNDS);
  }
  int64_t total = 0;
  for(int i = 0; i < 40; i++) {
    char k[16];
    snprintf(k, sizeof(k), "n%d", i);
    const char *v[] = {k};
    total += metric_value(&t_conc, v);
  }
  assert_int_equal(total, CONC_THREADS * CONC_ROUNDS);
  /* Each label set is rendered once. */
  char *text = render(&t_conc);
  int lines = 0;
  for(char *p = text; (p = strstr(p, "t_conc_total{")); p++)
    lines++;
  assert_int_equal(lines, 1 + CONC_THREADS + 40);
}

static void test_render_all(void **state)
{
  buf_t b;
  buf_init(&b, 1 << 20);
  assert_int_equal(metrics_render(&b), BUF_OK);
  assert_non_null(strstr(b.data, "# TYPE netradrive_http_requests_total counter\n"));
  assert_non_null(strstr(b.data, "\nprocess_resident_memory_bytes "));
  assert_non_null(strstr(b.data, "\nprocess_open_fds "));
  assert_non_null(strstr(b.data, "\nprocess_start_time_seconds "));
  buf_free(&b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_counter_gauge),
    cmocka_unit_test(test_labels_and_overflow),
    cmocka_unit_test(test_histogram),
    cmocka_unit_test(test_concurrent),
    cmocka_unit_test(test_render_all),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
