/* Unit tests for drive/hasher and util/checksum: checksums of files (empty,
 * known vectors of both kinds, several buffers long, short or missing), the
 * stored text forms, and streams: a file fed chunk by chunk hashes to the
 * whole file's SHA-256, every chunk reports once with its own checksum, many
 * streams run side by side on the threads, a failed chunk voids its stream,
 * a cancelled stream skips what it has queued, and without threads it all
 * runs inline. */
#include <pthread.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "drive/hasher.h"

#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define XXH_EMPTY "xxh128:99aa06d3014798d86001c324468d497f"   /* xxhsum -H2 */
#define XXH_ABC "xxh128:06b05ab6733a618578af5f94892f3950"

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

static void test_file_checksums(void **state)
{
  char path[128], sum[CHECKSUM_TEXT_MAX];
  snprintf(path, sizeof(path), "%s/a", dir);
  put_file(path, "", 0);
  assert_int_equal(hasher_file(path, 0, CHECKSUM_SHA256, sum), 0);
  assert_string_equal(sum, SHA_EMPTY);
  assert_int_equal(hasher_file(path, 0, CHECKSUM_XXH128, sum), 0);
  assert_string_equal(sum, XXH_EMPTY);
  put_file(path, "abcdef", 6);
  assert_int_equal(hasher_file(path, 3, CHECKSUM_SHA256, sum), 0);   /* only `size` bytes */
  assert_string_equal(sum, SHA_ABC);
  assert_int_equal(hasher_file(path, 3, CHECKSUM_XXH128, sum), 0);
  assert_string_equal(sum, XXH_ABC);
  /* shorter than asked, or missing: an error, never a checksum */
  assert_int_equal(hasher_file(path, 7, CHECKSUM_SHA256, sum), -1);
  snprintf(path, sizeof(path), "%s/missing", dir);
  assert_int_equal(hasher_file(path, 1, CHECKSUM_XXH128, sum), -1);
}

static void test_checksum_text_forms(void **state)
{
  enum checksum_kind k = CHECKSUM_XXH128;
  assert_int_equal(checksum_kind_of(SHA_ABC, &k), 0);
  assert_int_equal(k, CHECKSUM_SHA256);
  assert_int_equal(checksum_kind_of(XXH_ABC, &k), 0);
  assert_int_equal(k, CHECKSUM_XXH128);
  const char *bad[] = {
    "", "xxh128:", "xxh128:06b05ab6733a618578af5f94892f395",    /* one digit short */
    "xxh128:06b05ab6733a618578af5f94892f39500",                  /* one too many */
    "xxh128:06B05AB6733A618578AF5F94892F3950",                   /* upper case */
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015adx",
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(checksum_kind_of(bad[i], &k), -1);
  /* Fed in pieces or at once: the same text. */
  struct checksum a, b;
  char ta[CHECKSUM_TEXT_MAX], tb[CHECKSUM_TEXT_MAX];
  for(int kind = CHECKSUM_SHA256; kind <= CHECKSUM_XXH128; kind++) {
    assert_int_equal(checksum_init(&a, (enum checksum_kind)kind), 0);
    assert_int_equal(checksum_init(&b, (enum checksum_kind)kind), 0);
    checksum_update(&a, "abc", 3);
    checksum_update(&b, "a", 1);
    checksum_update(&b, "", 0);
    checksum_update(&b, "bc", 2);
    assert_int_equal(checksum_final(&a, ta), 0);
    assert_int_equal(checksum_final(&b, tb), 0);
    assert_string_equal(ta, tb);
    assert_string_equal(ta, kind == CHECKSUM_SHA256 ? SHA_ABC : XXH_ABC);
    checksum_free(&a);
    checksum_free(&b);
    checksum_free(&b);   /* twice is fine */
  }
}

struct job {
  int calls, rc;
  char sum[CHECKSUM_TEXT_MAX];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void done(void *arg, int rc, const char *sum)
{
  struct job *j = arg;
  pthread_mutex_lock(&lock);
  j->calls++;
  j->rc = rc;
  snprintf(j->sum, sizeof(j->sum), "%s", sum ? sum : "");
  pthread_mutex_unlock(&lock);
}

static void sha256_hex(const unsigned char *data, size_t n, char out[65])
{
  struct checksum c;
  char text[CHECKSUM_TEXT_MAX];
  assert_int_equal(checksum_init(&c, CHECKSUM_SHA256), 0);
  checksum_update(&c, data, n);
  assert_int_equal(checksum_final(&c, text), 0);
  checksum_free(&c);
  memcpy(out, text, 64);
  out[64] = '\0';
}

enum { STREAMS = 6, CHUNKS = 7, CHUNK = 300 * 1024 + 17 };   /* each chunk > one buffer */

/* STREAMS files of CHUNKS chunk files each (the last one shorter), their
 * whole-file SHA-256 in want_file, each chunk's checksum of `kind` in want. */
static void make_streams(char path[STREAMS][CHUNKS][128], char want_file[STREAMS][65],
                         char want[STREAMS][CHUNKS][CHECKSUM_TEXT_MAX], enum checksum_kind kind)
{
  unsigned char *data = malloc((size_t)CHUNKS * CHUNK);
  assert_non_null(data);
  for(int s = 0; s < STREAMS; s++) {
    size_t total = (size_t)CHUNKS * CHUNK - (size_t)s * 1000;
    for(size_t k = 0; k < total; k++)
      data[k] = (unsigned char)(k * 31 + (size_t)s * 7 + (k >> 13));
    sha256_hex(data, total, want_file[s]);
    for(int c = 0; c < CHUNKS; c++) {
      size_t off = (size_t)c * CHUNK, n = c == CHUNKS - 1 ? total - off : CHUNK;
      snprintf(path[s][c], 128, "%s/s%dc%d", dir, s, c);
      put_file(path[s][c], data + off, n);
      assert_int_equal(hasher_file(path[s][c], n, kind, want[s][c]), 0);
    }
  }
  free(data);
}

static void test_streams_on_threads(void **state)
{
  static char path[STREAMS][CHUNKS][128], want[STREAMS][CHUNKS][CHECKSUM_TEXT_MAX];
  static char want_file[STREAMS][65];
  static struct job jobs[STREAMS][CHUNKS];
  for(int kind = CHECKSUM_SHA256; kind <= CHECKSUM_XXH128; kind++) {
    make_streams(path, want_file, want, (enum checksum_kind)kind);
    memset(jobs, 0, sizeof(jobs));
    struct hasher_stream *st[STREAMS];
    assert_int_equal(hasher_start(3), 0);
    for(int s = 0; s < STREAMS; s++)
      assert_non_null(st[s] = hasher_stream_new());
    /* Interleaved, as concurrent uploads add them. */
    for(int c = 0; c < CHUNKS; c++)
      for(int s = 0; s < STREAMS; s++) {
        struct stat sb;
        assert_int_equal(stat(path[s][c], &sb), 0);
        hasher_stream_add(st[s], path[s][c], (uint64_t)sb.st_size, (enum checksum_kind)kind,
                          done, &jobs[s][c]);
      }
    hasher_stop();   /* runs what is queued */
    for(int s = 0; s < STREAMS; s++) {
      for(int c = 0; c < CHUNKS; c++) {
        assert_int_equal(jobs[s][c].calls, 1);
        assert_int_equal(jobs[s][c].rc, 0);
        assert_string_equal(jobs[s][c].sum, want[s][c]);
      }
      char file[65];
      assert_int_equal(hasher_stream_final(st[s], file), 0);
      assert_string_equal(file, want_file[s]);   /* chunks fed in order */
      hasher_stream_free(st[s]);
    }
  }
}

static void test_stream_inline_and_failure(void **state)
{
  static char path[STREAMS][CHUNKS][128], want[STREAMS][CHUNKS][CHECKSUM_TEXT_MAX];
  static char want_file[STREAMS][65];
  static struct job jobs[CHUNKS];
  make_streams(path, want_file, want, CHECKSUM_XXH128);
  /* Not running: each chunk is hashed on this thread before add returns. */
  struct hasher_stream *st = hasher_stream_new();
  assert_non_null(st);
  memset(jobs, 0, sizeof(jobs));
  for(int c = 0; c < CHUNKS; c++) {
    struct stat sb;
    assert_int_equal(stat(path[0][c], &sb), 0);
    hasher_stream_add(st, path[0][c], (uint64_t)sb.st_size, CHECKSUM_XXH128, done, &jobs[c]);
    assert_int_equal(jobs[c].calls, 1);
    assert_string_equal(jobs[c].sum, want[0][c]);
  }
  char file[65];
  assert_int_equal(hasher_stream_final(st, file), 0);
  assert_string_equal(file, want_file[0]);
  hasher_stream_free(st);

  /* A chunk that can't be read voids the file hash, and every later chunk
   * of its stream reports failure too; another stream is unaffected. */
  assert_int_equal(hasher_start(2), 0);
  struct hasher_stream *bad = hasher_stream_new(), *good = hasher_stream_new();
  assert_non_null(bad);
  assert_non_null(good);
  static struct job bj[CHUNKS], gj[CHUNKS];
  memset(bj, 0, sizeof(bj));
  memset(gj, 0, sizeof(gj));
  for(int c = 0; c < CHUNKS; c++) {
    struct stat sb;
    assert_int_equal(stat(path[1][c], &sb), 0);
    /* chunk 2 is asked for one byte more than its file has */
    hasher_stream_add(bad, path[1][c], (uint64_t)sb.st_size + (c == 2), CHECKSUM_SHA256, done,
                      &bj[c]);
    hasher_stream_add(good, path[1][c], (uint64_t)sb.st_size, CHECKSUM_XXH128, done, &gj[c]);
  }
  hasher_stop();
  for(int c = 0; c < CHUNKS; c++) {
    assert_int_equal(bj[c].calls, 1);
    assert_int_equal(bj[c].rc, c < 2 ? 0 : -1);
    if(c >= 2)
      assert_string_equal(bj[c].sum, "");
    assert_int_equal(gj[c].calls, 1);
    assert_int_equal(gj[c].rc, 0);
    assert_string_equal(gj[c].sum, want[1][c]);
  }
  assert_int_equal(hasher_stream_final(bad, file), -1);
  assert_int_equal(hasher_stream_final(good, file), 0);
  assert_string_equal(file, want_file[1]);
  hasher_stream_free(bad);
  hasher_stream_free(good);
  hasher_stream_free(NULL);
}

/* Holds the only hasher thread inside a report until released. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_entered, gate_open;

static void gate_done(void *arg, int rc, const char *sum)
{
  done(arg, rc, sum);
  pthread_mutex_lock(&gate_lock);
  gate_entered = true;
  pthread_cond_broadcast(&gate_cond);
  while(!gate_open)
    pthread_cond_wait(&gate_cond, &gate_lock);
  pthread_mutex_unlock(&gate_lock);
}

static void test_stream_cancel_skips_the_rest(void **state)
{
  static char path[STREAMS][CHUNKS][128], want[STREAMS][CHUNKS][CHECKSUM_TEXT_MAX];
  static char want_file[STREAMS][65];
  static struct job held, jobs[CHUNKS], late;
  make_streams(path, want_file, want, CHECKSUM_XXH128);
  memset(jobs, 0, sizeof(jobs));
  memset(&held, 0, sizeof(held));
  memset(&late, 0, sizeof(late));
  gate_entered = gate_open = false;
  assert_int_equal(hasher_start(1), 0);
  struct hasher_stream *busy = hasher_stream_new(), *st = hasher_stream_new();
  assert_non_null(busy);
  assert_non_null(st);
  struct stat sb;
  /* The one thread is kept busy, so every chunk of `st` is still queued
   * when the stream is cancelled. */
  assert_int_equal(stat(path[0][0], &sb), 0);
  hasher_stream_add(busy, path[0][0], (uint64_t)sb.st_size, CHECKSUM_XXH128, gate_done, &held);
  pthread_mutex_lock(&gate_lock);
  while(!gate_entered)
    pthread_cond_wait(&gate_cond, &gate_lock);
  pthread_mutex_unlock(&gate_lock);
  for(int c = 0; c < CHUNKS; c++) {
    assert_int_equal(stat(path[1][c], &sb), 0);
    hasher_stream_add(st, path[1][c], (uint64_t)sb.st_size, CHECKSUM_XXH128, done, &jobs[c]);
  }
  hasher_stream_cancel(st);
  assert_int_equal(stat(path[1][0], &sb), 0);
  hasher_stream_add(st, path[1][0], (uint64_t)sb.st_size, CHECKSUM_XXH128, done, &late);
  pthread_mutex_lock(&gate_lock);
  gate_open = true;
  pthread_cond_broadcast(&gate_cond);
  pthread_mutex_unlock(&gate_lock);
  hasher_stop();
  assert_int_equal(held.calls, 1);
  assert_int_equal(held.rc, 0);
  assert_string_equal(held.sum, want[0][0]);
  for(int c = 0; c < CHUNKS; c++) {   /* each reported once, none hashed */
    assert_int_equal(jobs[c].calls, 1);
    assert_int_equal(jobs[c].rc, -1);
    assert_string_equal(jobs[c].sum, "");
  }
  assert_int_equal(late.calls, 1);
  assert_int_equal(late.rc, -1);
  char file[65];
  assert_int_equal(hasher_stream_final(st, file), -1);
  hasher_stream_free(st);
  hasher_stream_free(busy);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_file_checksums),
    cmocka_unit_test(test_checksum_text_forms),
    cmocka_unit_test(test_streams_on_threads),
    cmocka_unit_test(test_stream_inline_and_failure),
    cmocka_unit_test(test_stream_cancel_skips_the_rest),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
