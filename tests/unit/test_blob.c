/* Unit tests for what the store tells an upload (blob_put_parallel,
 * blob_chunk_size): the local store's defaults through blob_open, and the
 * Telegram backend's hooks on a hand-built state (no Bot API needed),
 * checked against the cases tests/api/test_telegram.py expects and against
 * the arithmetic drive/upload.c used before the store answered it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "blob/blob.h"
#include "blob/tgstore.h"

#define K 1024ull
#define MIB (1024ull * 1024)
#define FRAMING 4096 /* drive/upload.c's UPLOAD_FRAMING_EST */

/* drive/upload.c's upload_balanced_chunk() for a remote store, kept as the
 * oracle: `total` is the request's length, the file is taken to be at
 * least `total` less FRAMING. */
static uint64_t oracle(uint64_t cs, uint64_t par, uint64_t total)
{
  uint64_t file = total > FRAMING ? total - FRAMING : total;
  if(par < 2 || file / cs < par)
    return cs;
  uint64_t count = file / cs + (file % cs != 0);
  uint64_t even = (count / par + (count % par != 0)) * par;
  uint64_t size = total / even + (total % even != 0);
  if(size > cs)
    size = cs;
  return size >= 64 * K ? size : cs;
}

static struct tgstore *tg_new(uint64_t chunk_size, int parallel)
{
  struct tgstore *b = calloc(1, sizeof(*b));
  assert_non_null(b);
  b->chunk_size = chunk_size;
  b->parallel = parallel;
  return b;
}

/* As an upload whose request announces `total` bytes would ask. */
static uint64_t tg_chunk(const struct tgstore *b, uint64_t total)
{
  uint64_t lo = total > FRAMING ? total - FRAMING : total;
  return blob_telegram_backend.chunk_size(b, lo, total);
}

static uint64_t chunks_of(uint64_t size, uint64_t cs)
{
  return size / cs + (size % cs != 0);
}

static void test_local_defaults(void **state)
{
  (void)state;
  char dir[] = "/tmp/netra-blob-XXXXXX", err[256] = "", cmd[64];
  assert_non_null(mkdtemp(dir));
  struct blob_options opt = {.kind = BLOB_KIND_LOCAL, .data_dir = dir, .chunk_size = 8 * MIB};
  struct blob *b = blob_open(&opt, err, sizeof(err));
  assert_non_null(b);
  assert_int_equal(blob_put_parallel(b), 8);
  assert_int_equal(blob_chunk_size(b, 0, 0), 8 * MIB);
  assert_int_equal(blob_chunk_size(b, 52 * 8 * MIB, 52 * 8 * MIB + FRAMING), 8 * MIB);
  assert_int_equal(blob_chunk_size(b, 1, 1), 8 * MIB);
  blob_close(b);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_telegram_put_parallel(void **state)
{
  (void)state;
  int cases[][2] = {{1, 8}, {2, 8}, {4, 8}, {5, 10}, {6, 12}, {64, 128}};
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct tgstore *b = tg_new(20 * MIB, cases[i][0]);
    assert_int_equal(blob_telegram_backend.put_parallel(b), cases[i][1]);
    free(b);
  }
}

/* The sizes tests/api/test_telegram.py uploads (a few hundred bytes of
 * multipart framing around the file). */
static void test_telegram_rounds(void **state)
{
  (void)state;
  const uint64_t k = 128 * K, framing = 200;
  struct tgstore *b = tg_new(k, 4);
  /* 10 chunks would leave a round part idle: 12 of about 96 KiB. */
  uint64_t cs = tg_chunk(b, 9 * k + 5 + framing);
  assert_true(cs <= 97 * K);
  assert_int_equal(chunks_of(9 * k + 5, cs), 12);
  /* Already whole rounds: stays 8 chunks of CHUNK_SIZE. */
  assert_int_equal(tg_chunk(b, 8 * k + framing), k);
  /* Under one full round: as is. */
  assert_int_equal(tg_chunk(b, 3 * k + 1 + framing), k);
  /* Unknown size: CHUNK_SIZE. */
  assert_int_equal(blob_telegram_backend.chunk_size(b, 0, 0), k);
  free(b);

  /* 200 MiB in 1 MiB chunks over 6 senders: 204 chunks, none over 1 MiB. */
  b = tg_new(MIB, 6);
  cs = tg_chunk(b, 200 * MIB + framing);
  assert_true(cs <= MIB);
  assert_int_equal(chunks_of(200 * MIB, cs), 204);
  free(b);

  /* 52 chunks over 8 senders become 56. */
  b = tg_new(8 * MIB, 8);
  cs = tg_chunk(b, 52 * 8 * MIB + framing);
  assert_int_equal(chunks_of(52 * 8 * MIB, cs), 56);
  /* Exact bounds: a file of exactly 8 chunks stays 8 chunks. */
  assert_int_equal(blob_telegram_backend.chunk_size(b, 64 * MIB, 64 * MIB), 8 * MIB);
  free(b);

  /* One sender: nothing to balance. */
  b = tg_new(k, 1);
  assert_int_equal(tg_chunk(b, 100 * k), k);
  free(b);
}

static void test_telegram_floor_and_overflow(void **state)
{
  (void)state;
  /* 5 chunks of 100 KiB over 4 senders would be 8 of 50 KiB: under the
   * 64 KiB floor, so CHUNK_SIZE stays. */
  struct tgstore *b = tg_new(100 * K, 4);
  assert_int_equal(blob_telegram_backend.chunk_size(b, 4 * 100 * K + 1, 4 * 100 * K + 1),
                   100 * K);
  free(b);
  /* A length near UINT64_MAX (the client's word) must not wrap. */
  b = tg_new(20 * MIB - 64 * K, 4);
  uint64_t cs = tg_chunk(b, UINT64_MAX);
  assert_true(cs <= 20 * MIB - 64 * K && cs >= BLOB_CHUNK_MIN);
  assert_int_equal(cs, oracle(20 * MIB - 64 * K, 4, UINT64_MAX));
  free(b);
}

/* Same answers as the arithmetic drive/upload.c used, over a spread of
 * sizes around round boundaries. */
static void test_telegram_matches_upload(void **state)
{
  (void)state;
  const uint64_t sizes[] = {64 * K, 100 * K, 128 * K, 1 * MIB, 20 * MIB - 64 * K};
  const int pars[] = {1, 2, 3, 4, 6, 8, 16, 64};
  for(size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
    for(size_t j = 0; j < sizeof(pars) / sizeof(pars[0]); j++) {
      struct tgstore *b = tg_new(sizes[i], pars[j]);
      for(uint64_t n = 0; n <= 3 * 64 + 2; n++)
        for(int d = -2; d <= 2; d++) {
          uint64_t total = n * sizes[i] + (uint64_t)(int64_t)d * 2049;
          if(d < 0 && total > n * sizes[i])
            continue; /* wrapped below 0 */
          assert_int_equal(tg_chunk(b, total), oracle(sizes[i], (uint64_t)pars[j], total));
        }
      free(b);
    }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_local_defaults),
    cmocka_unit_test(test_telegram_put_parallel),
    cmocka_unit_test(test_telegram_rounds),
    cmocka_unit_test(test_telegram_floor_and_overflow),
    cmocka_unit_test(test_telegram_matches_upload),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
