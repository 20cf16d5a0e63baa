/* Unit tests for drive/hasher: digests of files (empty, known, several
 * buffers long, short or missing), and the threaded queue: every job reports
 * once with its own digest, and stop runs what is queued. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "drive/hasher.h"

#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static char dir[64];

static void put_file(const char *path, const void *data, size_t n)
{
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
  snprintf(dir, sizeof(dir), "/tmp/netra-hasher-XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  return system(cmd);
}

static void test_file_digests(void **state)
{
  char path[128], hex[65];
  snprintf(path, sizeof(path), "%s/a", dir);
  put_file(path, "", 0);
  assert_int_equal(hasher_file(path, 0, hex), 0);
  assert_string_equal(hex, SHA_EMPTY);
  put_file(path, "abcdef", 6);
  assert_int_equal(hasher_file(path, 3, hex), 0);   /* only the first `size` bytes */
  assert_string_equal(hex, SHA_ABC);
  /* shorter than asked, or missing: an error, never a digest */
  assert_int_equal(hasher_file(path, 7, hex), -1);
  snprintf(path, sizeof(path), "%s/missing", dir);
  assert_int_equal(hasher_file(path, 1, hex), -1);
}

struct job {
  int calls, rc;
  char hex[65];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void done(void *arg, int rc, const char *hex)
{
  struct job *j = arg;
  pthread_mutex_lock(&lock);
  j->calls++;
  j->rc = rc;
  snprintf(j->hex, sizeof(j->hex), "%s", hex ? hex : "");
  pthread_mutex_unlock(&lock);
}

static void test_threads_report_each_job_once(void **state)
{
  enum { N = 40 };
  static struct job jobs[N];
  char path[N][128], want[N][65];
  /* Several buffers long, each file different. */
  size_t size = 600 * 1024;
  unsigned char *data = malloc(size);
  assert_non_null(data);
  for(int i = 0; i < N; i++) {
    for(size_t k = 0; k < size; k++)
      data[k] = (unsigned char)(k * 31 + (size_t)i * 7);
    snprintf(path[i], sizeof(path[i]), "%s/f%d", dir, i);
    put_file(path[i], data, size - (size_t)i);
    assert_int_equal(hasher_file(path[i], size - (size_t)i, want[i]), 0);
  }
  free(data);
  memset(jobs, 0, sizeof(jobs));
  assert_int_equal(hasher_start(3), 0);
  for(int i = 0; i < N; i++)
    hasher_submit(path[i], size - (size_t)i, done, &jobs[i]);
  hasher_stop();   /* runs what is queued */
  for(int i = 0; i < N; i++) {
    assert_int_equal(jobs[i].calls, 1);
    assert_int_equal(jobs[i].rc, 0);
    assert_string_equal(jobs[i].hex, want[i]);
  }
  /* Not running: inline, on this thread. */
  struct job inl = {0};
  hasher_submit(path[0], size, done, &inl);
  assert_int_equal(inl.calls, 1);
  assert_string_equal(inl.hex, want[0]);
  struct job bad = {0};
  hasher_submit(path[1], size + 1, done, &bad);
  assert_int_equal(bad.calls, 1);
  assert_int_equal(bad.rc, -1);
  assert_string_equal(bad.hex, "");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_file_digests),
    cmocka_unit_test(test_threads_report_each_job_once),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
