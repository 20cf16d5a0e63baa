/* Unit tests for util/workq: every job runs once, the queue's bound (a full
 * queue refuses, and takes jobs again once a thread frees a slot), FIFO
 * order on one thread, and workq_free draining what is queued. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "util/workq.h"

static void count_job(void *arg)
{
  atomic_fetch_add((atomic_int *)arg, 1);
}

/* A gate the jobs wait at, so a test can hold the pool's threads busy. */
struct gate {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool open;
  int waiting; /* jobs parked at the gate */
};

static struct gate gate_g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0};

static void gate_job(void *arg)
{
  pthread_mutex_lock(&gate_g.lock);
  gate_g.waiting++;
  pthread_cond_broadcast(&gate_g.cond);
  while(!gate_g.open)
    pthread_cond_wait(&gate_g.cond, &gate_g.lock);
  pthread_mutex_unlock(&gate_g.lock);
  count_job(arg);
}

static void gate_wait_parked(int n)
{
  pthread_mutex_lock(&gate_g.lock);
  while(gate_g.waiting < n)
    pthread_cond_wait(&gate_g.cond, &gate_g.lock);
  pthread_mutex_unlock(&gate_g.lock);
}

static void gate_set(bool open)
{
  pthread_mutex_lock(&gate_g.lock);
  gate_g.open = open;
  gate_g.waiting = 0;
  pthread_cond_broadcast(&gate_g.cond);
  pthread_mutex_unlock(&gate_g.lock);
}

static void test_rejects_bad_arguments(void **state)
{
  assert_null(workq_new(0, 4));
  assert_null(workq_new(2, 0));
  workq_free(NULL);
}

static void test_runs_every_job_once(void **state)
{
  atomic_int n = 0;
  workq_t *q = workq_new(3, 1000);
  assert_non_null(q);
  for(int i = 0; i < 1000; i++)
    assert_int_equal(workq_submit(q, count_job, &n), 0);
  workq_free(q); /* drains */
  assert_int_equal(atomic_load(&n), 1000);
}

static void test_full_queue_refuses(void **state)
{
  atomic_int n = 0;
  workq_t *q = workq_new(2, 3);
  assert_non_null(q);
  gate_set(false);
  /* Two jobs hold both threads; three more fill the queue. */
  assert_int_equal(workq_submit(q, gate_job, &n), 0);
  assert_int_equal(workq_submit(q, gate_job, &n), 0);
  gate_wait_parked(2);
  for(int i = 0; i < 3; i++)
    assert_int_equal(workq_submit(q, gate_job, &n), 0);
  assert_int_equal(workq_pending(q), 3);
  assert_int_equal(workq_submit(q, count_job, &n), -1);
  assert_int_equal(workq_submit(q, count_job, &n), -1);
  assert_int_equal(atomic_load(&n), 0);
  /* Once the threads move on, the queue takes jobs again. */
  gate_set(true);
  workq_free(q);
  assert_int_equal(atomic_load(&n), 5);

  q = workq_new(1, 1);
  gate_set(false);
  assert_int_equal(workq_submit(q, gate_job, &n), 0);
  gate_wait_parked(1);
  assert_int_equal(workq_submit(q, count_job, &n), 0);
  assert_int_equal(workq_submit(q, count_job, &n), -1);
  gate_set(true);
  while(workq_pending(q) > 0)
    ;
  /* The queued job left its slot: there is room again. */
  assert_int_equal(workq_submit(q, count_job, &n), 0);
  workq_free(q);
  assert_int_equal(atomic_load(&n), 8);
}

static int order_seen[16], order_len;

static void order_job(void *arg)
{
  order_seen[order_len++] = (int)(intptr_t)arg; /* one thread: no race */
}

static void test_one_thread_runs_in_order(void **state)
{
  workq_t *q = workq_new(1, 16);
  order_len = 0;
  for(int i = 0; i < 16; i++)
    assert_int_equal(workq_submit(q, order_job, (void *)(intptr_t)i), 0);
  workq_free(q);
  assert_int_equal(order_len, 16);
  for(int i = 0; i < 16; i++)
    assert_int_equal(order_seen[i], i);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rejects_bad_arguments),
    cmocka_unit_test(test_runs_every_job_once),
    cmocka_unit_test(test_full_queue_refuses),
    cmocka_unit_test(test_one_thread_runs_in_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
