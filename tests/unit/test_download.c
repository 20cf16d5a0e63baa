/* Unit tests for drive/reader and api/download over a fake chunk store that
 * behaves like a remote backend: reads answer BLOB_AGAIN and the wake comes
 * later from another thread (or at once, before the suspend). The fake is a
 * backend of its own (blob/backend.h) that the store is opened with. A real
 * HTTP server (http_start) serves the responses; libcurl fetches them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "api/download_routes.h"
#include "blob/backend.h"
#include "blob/blob.h"
#include "db/db.h"
#include "drive/drive.h"
#include "drive/reader.h"
#include "drive/store.h"
#include "http/http.h"
#include "http/listen.h"
#include "util/id.h"
#include "util/log.h"

#define CHUNK 40000ULL
#define SIZE (25 * CHUNK + 3)   /* 26 chunks, the last one 3 bytes */

/* ---- the fake chunk store ---- */

enum fake_mode {
  FAKE_READY,   /* bytes always there (like the local backend) */
  FAKE_SLOW,    /* every third read: BLOB_AGAIN, wake from a thread 2 ms later */
  FAKE_EAGER    /* every other read: BLOB_AGAIN with the wake already delivered */
};

static atomic_int fake_mode;
static atomic_int fake_open_now, fake_open_max, fake_opened, fake_agains, fake_wakes;
static atomic_int fake_opened_idx[64];

struct fake_reader {
  int64_t idx;
  uint64_t size;
  unsigned calls;
  void (*wake)(void *arg);
  void *wake_arg;
  pthread_t waker;
  bool waking;
};

static uint8_t fake_byte(uint64_t off)
{
  return (uint8_t)((off * 2654435761u) >> 11);
}

static int fake_reader_open(void *self, const char *locator, uint64_t size, void **out)
{
  (void)self;
  long long idx;
  if(sscanf(locator, "fake-%lld", &idx) != 1 || idx < 0 || idx >= 64)
    return BLOB_NOTFOUND;
  struct fake_reader *rd = calloc(1, sizeof(*rd));
  if(!rd)
    return BLOB_ERR;
  rd->idx = idx;
  rd->size = size;
  int now = atomic_fetch_add(&fake_open_now, 1) + 1;
  int max = atomic_load(&fake_open_max);
  while(now > max && !atomic_compare_exchange_weak(&fake_open_max, &max, now))
    ;
  atomic_fetch_add(&fake_opened, 1);
  atomic_fetch_add(&fake_opened_idx[idx], 1);
  *out = rd;
  return BLOB_OK;
}

static void *fake_waker(void *arg)
{
  struct fake_reader *rd = arg;
  struct timespec ts = {0, 2 * 1000 * 1000};
  nanosleep(&ts, NULL);
  atomic_fetch_add(&fake_wakes, 1);
  rd->wake(rd->wake_arg);
  return NULL;
}

static void fake_join(struct fake_reader *rd)
{
  if(rd->waking) {
    pthread_join(rd->waker, NULL);
    rd->waking = false;
  }
}

static ssize_t fake_reader_pread(void *r, void *buf, size_t n, uint64_t off)
{
  struct fake_reader *rd = r;
  int mode = atomic_load(&fake_mode);
  rd->calls++;
  if(mode == FAKE_SLOW && rd->calls % 3 == 1 && rd->wake) {
    fake_join(rd);
    rd->waking = pthread_create(&rd->waker, NULL, fake_waker, rd) == 0;
    atomic_fetch_add(&fake_agains, 1);
    return BLOB_AGAIN;
  }
  if(mode == FAKE_EAGER && rd->calls % 2 == 1 && rd->wake) {
    atomic_fetch_add(&fake_agains, 1);
    atomic_fetch_add(&fake_wakes, 1);
    rd->wake(rd->wake_arg);   /* arrives before the caller could suspend */
    return BLOB_AGAIN;
  }
  if(off >= rd->size)
    return 0;
  if(n > rd->size - off)
    n = (size_t)(rd->size - off);
  for(size_t i = 0; i < n; i++)
    ((uint8_t *)buf)[i] = fake_byte((uint64_t)rd->idx * CHUNK + off + i);
  return (ssize_t)n;
}

static void fake_reader_set_wake(void *r, void (*wake)(void *arg), void *arg)
{
  struct fake_reader *rd = r;
  rd->wake = wake;
  rd->wake_arg = arg;
}

static void fake_reader_close(void *r)
{
  struct fake_reader *rd = r;
  if(!rd)
    return;
  fake_join(rd);   /* the contract: no wake after close returns */
  atomic_fetch_sub(&fake_open_now, 1);
  free(rd);
}

/* The rest of the backend: nothing is ever stored through it here. */
static void *fake_open(const struct blob_options *opt, char *err, size_t errlen)
{
  (void)opt, (void)err, (void)errlen;
  static int self;
  return &self;
}

static void fake_close(void *self)
{
  (void)self;
}

static int fake_ping(void *self)
{
  (void)self;
  return 1;
}

static int fake_put(void *self, const char *spool_path, uint64_t size, const char *checksum,
                    blob_done_fn done, void *arg)
{
  (void)self, (void)size, (void)checksum;
  unlink(spool_path);
  done(arg, BLOB_ERR, NULL);
  return BLOB_OK;
}

static int fake_del(void *self, const char *locator)
{
  (void)self, (void)locator;
  return BLOB_OK;
}

static const struct blob_backend fake_backend = {
  .name = "fake",
  .open = fake_open,
  .close = fake_close,
  .ping = fake_ping,
  .put = fake_put,
  .reader_open = fake_reader_open,
  .reader_pread = fake_reader_pread,
  .reader_set_wake = fake_reader_set_wake,
  .reader_close = fake_reader_close,
  .del = fake_del,
};

static void fake_reset(int mode)
{
  atomic_store(&fake_mode, mode);
  atomic_store(&fake_open_max, atomic_load(&fake_open_now));
  atomic_store(&fake_opened, 0);
  atomic_store(&fake_agains, 0);
  atomic_store(&fake_wakes, 0);
  for(int i = 0; i < 64; i++)
    atomic_store(&fake_opened_idx[i], 0);
}

/* ---- database fixtures ---- */

static char tmpdir[] = "/tmp/netra-test-download-XXXXXX";
static char owner[ID_LEN + 1];
static char content_ok[ID_LEN + 1], content_badcount[ID_LEN + 1], content_hole[ID_LEN + 1];

static void add_content(const char *id, uint64_t size, int64_t count, int64_t skip_idx)
{
  db_t *db = db_get();
  assert_int_equal(db_exec(db, "INSERT INTO contents (id, owner_id, sha256, size, chunk_size, "
                               "chunk_count, backend, refcount, created_at) "
                               "VALUES ($1, $2, $3, $4, $5, $6, 'local', 1, 0)",
                           "tttiii", id, owner, id, (int64_t)size, (int64_t)CHUNK, count),
                   DB_OK);
  int64_t real = (int64_t)((size + CHUNK - 1) / CHUNK);
  for(int64_t i = 0; i < real; i++) {
    char loc[32];
    if(i == skip_idx)
      continue;
    uint64_t len = (uint64_t)i * CHUNK + CHUNK <= size ? CHUNK : size - (uint64_t)i * CHUNK;
    snprintf(loc, sizeof(loc), "fake-%lld", (long long)i);
    assert_int_equal(db_exec(db, "INSERT INTO chunks (content_id, idx, size, checksum, locator) "
                                 "VALUES ($1, $2, $3, 'x', $4)",
                             "tiit", id, i, (int64_t)len, loc),
                     DB_OK);
  }
}

static int setup_db(void **state)
{
  char url[128], err[256];
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/netra-test-download-XXXXXX");
  assert_non_null(mkdtemp(tmpdir));
  snprintf(url, sizeof(url), "sqlite://%s/t.db", tmpdir);
  if(db_init(url, err, sizeof(err)) != 0)
    fail_msg("db_init: %s", err);
  id_new(owner);
  assert_int_equal(db_exec(db_get(), "INSERT INTO users (id, username, username_key, email, "
                                     "email_key, password_hash, created_at, updated_at) "
                                     "VALUES ($1, 'u', 'u', 'u@x', 'u@x', 'x', 0, 0)",
                           "t", owner),
                   DB_OK);
  id_new(content_ok);
  id_new(content_badcount);
  id_new(content_hole);
  add_content(content_ok, SIZE, 26, -1);
  add_content(content_badcount, SIZE, 25, -1);
  add_content(content_hole, SIZE, 26, 7);
  struct blob_options opt = {.backend = &fake_backend, .data_dir = tmpdir, .chunk_size = CHUNK};
  if(store_init(&opt, false, err, sizeof(err)) != 0)
    fail_msg("store_init: %s", err);
  return 0;
}

static int teardown_db(void **state)
{
  char cmd[128];
  store_shutdown();
  db_shutdown();
  snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

/* ---- reader ---- */

static void read_all(struct reader *rd, uint64_t from, uint64_t to, size_t piece)
{
  uint8_t buf[70000];
  uint64_t off = from;
  reader_set_window(rd, from, to);
  while(off <= to) {
    size_t want = piece;
    if(want > to - off + 1)
      want = (size_t)(to - off + 1);
    ssize_t got = reader_read(rd, off, buf, want);
    if(got == READER_AGAIN)
      continue;   /* the fake's wake is not registered here: just retry */
    assert_true(got > 0);
    for(ssize_t i = 0; i < got; i++)
      if(buf[i] != fake_byte(off + (uint64_t)i))
        fail_msg("byte %llu differs", (unsigned long long)(off + (uint64_t)i));
    off += (uint64_t)got;
  }
}

static void test_reader_whole_and_bounded(void **state)
{
  struct reader *rd;
  fake_reset(FAKE_READY);
  assert_int_equal(reader_open(content_ok, SIZE, &rd), DRIVE_OK);
  read_all(rd, 0, SIZE - 1, 65536);
  /* Never more open than the current chunk plus the read-ahead. */
  assert_true(atomic_load(&fake_open_max) <= READER_AHEAD + 1);
  assert_int_equal(atomic_load(&fake_opened), 26);
  uint8_t b[8];
  assert_int_equal(reader_read(rd, SIZE, b, sizeof(b)), 0);
  assert_int_equal(reader_read(rd, SIZE + 100, b, sizeof(b)), 0);
  assert_int_equal(reader_read(rd, 0, b, 0), 0);
  reader_close(rd);
  assert_int_equal(atomic_load(&fake_open_now), 0);
  reader_close(NULL);
}

static void test_reader_reads_stop_at_chunk_ends(void **state)
{
  struct reader *rd;
  uint8_t buf[100];
  fake_reset(FAKE_READY);
  assert_int_equal(reader_open(content_ok, SIZE, &rd), DRIVE_OK);
  assert_int_equal(reader_read(rd, CHUNK - 10, buf, sizeof(buf)), 10);
  assert_int_equal(reader_read(rd, CHUNK, buf, sizeof(buf)), 100);
  assert_int_equal(reader_read(rd, SIZE - 2, buf, sizeof(buf)), 2);
  reader_close(rd);
}

static void test_reader_range_touches_only_its_chunks(void **state)
{
  struct reader *rd;
  fake_reset(FAKE_READY);
  assert_int_equal(reader_open(content_ok, SIZE, &rd), DRIVE_OK);
  read_all(rd, 2 * CHUNK + 500, 3 * CHUNK + 499, 4096);
  assert_int_equal(atomic_load(&fake_opened), 2);
  assert_int_equal(atomic_load(&fake_opened_idx[2]), 1);
  assert_int_equal(atomic_load(&fake_opened_idx[3]), 1);
  /* Seeking back and far away reopens just what is needed. */
  fake_reset(FAKE_READY);
  read_all(rd, 20 * CHUNK, 20 * CHUNK + 10, 4096);
  read_all(rd, 5, 5, 1);
  read_all(rd, SIZE - 1, SIZE - 1, 1);
  assert_int_equal(atomic_load(&fake_opened), 3);
  assert_true(atomic_load(&fake_open_now) <= READER_AHEAD + 1);
  reader_close(rd);
}

static void test_reader_bad_metadata(void **state)
{
  struct reader *rd = (struct reader *)1;
  char missing[ID_LEN + 1];
  id_new(missing);
  assert_int_equal(reader_open(missing, SIZE, &rd), DRIVE_NOT_FOUND);
  assert_null(rd);
  assert_int_equal(reader_open("not-an-id", SIZE, &rd), DRIVE_NOT_FOUND);
  assert_int_equal(reader_open(content_ok, SIZE + 1, &rd), DRIVE_NOT_FOUND);
  assert_int_equal(reader_open(content_badcount, SIZE, &rd), DRIVE_NOT_FOUND);
  /* A missing chunk record fails the read that needs it, not the others. */
  uint8_t buf[16];
  fake_reset(FAKE_READY);
  assert_int_equal(reader_open(content_hole, SIZE, &rd), DRIVE_OK);
  assert_int_equal(reader_read(rd, 0, buf, sizeof(buf)), 16);
  assert_true(reader_read(rd, 7 * CHUNK + 5, buf, sizeof(buf)) < 0);
  assert_int_equal(reader_read(rd, 8 * CHUNK, buf, sizeof(buf)), 16);
  reader_close(rd);
}

static atomic_int test_wakes;

static void count_wake(void *arg)
{
  atomic_fetch_add(&test_wakes, 1);
}

static void test_reader_again_and_wake(void **state)
{
  struct reader *rd;
  uint8_t buf[100];
  fake_reset(FAKE_SLOW);
  atomic_store(&test_wakes, 0);
  assert_int_equal(reader_open(content_ok, SIZE, &rd), DRIVE_OK);
  reader_set_wake(rd, count_wake, NULL);
  assert_int_equal(reader_read(rd, 0, buf, sizeof(buf)), READER_AGAIN);
  for(int i = 0; i < 500 && atomic_load(&test_wakes) == 0; i++)
    usleep(1000);
  assert_int_equal(atomic_load(&test_wakes), 1);
  assert_int_equal(reader_read(rd, 0, buf, sizeof(buf)), 100);
  assert_int_equal(buf[99], fake_byte(99));
  reader_close(rd);
}

/* ---- the HTTP responder ---- */

static struct file_rec test_file;

static int route_get(struct http_req *r)
{
  return download_respond(r, &test_file, false, NULL);
}

static const struct http_route test_routes[] = {
  {"GET", "/t", route_get, 0, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
static const struct http_route *const test_tables[] = {test_routes, NULL};
static int test_port;

static int setup_http(void **state)
{
  char err[256];
  setup_db(state);
  snprintf(test_file.id, sizeof(test_file.id), "%s", content_ok);
  snprintf(test_file.content_id, sizeof(test_file.content_id), "%s", content_ok);
  snprintf(test_file.name, sizeof(test_file.name), "t.bin");
  snprintf(test_file.mime_type, sizeof(test_file.mime_type), "application/octet-stream");
  memset(test_file.sha256, 'a', 64);
  test_file.size = SIZE;
  test_file.updated_at = 1700000000000;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  struct http_options opt = {.host = "127.0.0.1", .threads = 2, .tables = test_tables};
  for(int attempt = 0; attempt < 50; attempt++) {
    opt.port = 20000 + (int)((getpid() * 7 + attempt * 131) % 30000);
    opt.listen_fd = http_listen_open(opt.host, opt.port, err, sizeof(err));
    if(opt.listen_fd >= 0 && http_start(&opt, err, sizeof(err)) == 0) {
      test_port = opt.port;
      return 0;
    }
  }
  fail_msg("http_start: %s", err);
  return -1;
}

static int teardown_http(void **state)
{
  http_stop(2000);
  curl_global_cleanup();
  return teardown_db(state);
}

struct fetch {
  long status;
  uint8_t *body;
  size_t len, cap;
  char content_range[128];
  char content_type[160];
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
  struct fetch *f = arg;
  size_t k = size * n;
  if(f->len + k > f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 65536;
    while(cap < f->len + k)
      cap *= 2;
    uint8_t *nb = realloc(f->body, cap);
    if(!nb)
      return 0;
    f->body = nb;
    f->cap = cap;
  }
  memcpy(f->body + f->len, p, k);
  f->len += k;
  return k;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
  struct fetch *f = arg;
  size_t k = size * n;
  if(k > 15 && !strncasecmp(p, "Content-Range: ", 15))
    snprintf(f->content_range, sizeof(f->content_range), "%.*s", (int)(k - 17), p + 15);
  if(k > 14 && !strncasecmp(p, "Content-Type: ", 14))
    snprintf(f->content_type, sizeof(f->content_type), "%.*s", (int)(k - 16), p + 14);
  return k;
}

static void fetch(const char *range, bool head, struct fetch *f)
{
  char url[64], hdr[200];
  struct curl_slist *hl = NULL;
  memset(f, 0, sizeof(*f));
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/t", test_port);
  CURL *c = curl_easy_init();
  assert_non_null(c);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, f);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  if(head)
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if(range) {
    snprintf(hdr, sizeof(hdr), "Range: %s", range);
    hl = curl_slist_append(hl, hdr);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  }
  CURLcode rc = curl_easy_perform(c);
  if(rc != CURLE_OK)
    fail_msg("curl: %s", curl_easy_strerror(rc));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status);
  curl_slist_free_all(hl);
  curl_easy_cleanup(c);
}

static void expect_bytes(const uint8_t *p, uint64_t from, uint64_t len)
{
  for(uint64_t i = 0; i < len; i++)
    if(p[i] != fake_byte(from + i))
      fail_msg("body byte %llu (content %llu) differs", (unsigned long long)i,
               (unsigned long long)(from + i));
}

static void check_modes(int mode)
{
  struct fetch f;
  fake_reset(mode);
  fetch(NULL, false, &f);
  assert_int_equal(f.status, 200);
  assert_int_equal(f.len, SIZE);
  expect_bytes(f.body, 0, SIZE);
  free(f.body);

  fetch("bytes=39990-120009", false, &f);
  assert_int_equal(f.status, 206);
  assert_string_equal(f.content_range, "bytes 39990-120009/1000003");
  assert_int_equal(f.len, 120009 - 39990 + 1);
  expect_bytes(f.body, 39990, f.len);
  free(f.body);

  fetch("bytes=-5", false, &f);
  assert_int_equal(f.status, 206);
  assert_int_equal(f.len, 5);
  expect_bytes(f.body, SIZE - 5, 5);
  free(f.body);

  /* Multipart: find each part's bytes after its header. */
  fetch("bytes=0-9,500000-500009,999990-", false, &f);
  assert_int_equal(f.status, 206);
  assert_non_null(strstr(f.content_type, "multipart/byteranges; boundary="));
  const char *want[] = {"bytes 0-9/1000003", "bytes 500000-500009/1000003",
                        "bytes 999990-1000002/1000003"};
  uint64_t starts[] = {0, 500000, 999990}, lens[] = {10, 10, 13};
  for(int i = 0; i < 3; i++) {
    const uint8_t *h = memmem(f.body, f.len, want[i], strlen(want[i]));
    assert_non_null(h);
    const uint8_t *data = memmem(h, f.len - (size_t)(h - f.body), "\r\n\r\n", 4);
    assert_non_null(data);
    expect_bytes(data + 4, starts[i], lens[i]);
  }
  free(f.body);

  fetch(NULL, true, &f);
  assert_int_equal(f.status, 200);
  assert_int_equal(f.len, 0);
  free(f.body);
  if(mode != FAKE_READY) {
    assert_true(atomic_load(&fake_agains) > 10);
    assert_true(atomic_load(&fake_wakes) >= atomic_load(&fake_agains) - 1);
  }
  /* Every chunk reader was closed with its response. */
  for(int i = 0; i < 200 && atomic_load(&fake_open_now) != 0; i++)
    usleep(5000);
  assert_int_equal(atomic_load(&fake_open_now), 0);
}

static void test_http_ready(void **state)
{
  check_modes(FAKE_READY);
}

static void test_http_slow_suspends_and_resumes(void **state)
{
  check_modes(FAKE_SLOW);
}

static void test_http_wake_before_suspend(void **state)
{
  check_modes(FAKE_EAGER);
}

static void *parallel_fetch(void *arg)
{
  struct fetch f;
  intptr_t i = (intptr_t)arg;
  uint64_t from = (uint64_t)i * 77777;
  char range[64];
  snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)from);
  fetch(range, false, &f);
  bool ok = f.status == 206 && f.len == SIZE - from;
  for(size_t k = 0; ok && k < f.len; k++)
    ok = f.body[k] == fake_byte(from + k);
  free(f.body);
  return ok ? (void *)1 : NULL;
}

static void test_http_parallel_slow(void **state)
{
  pthread_t t[8];
  fake_reset(FAKE_SLOW);
  for(intptr_t i = 0; i < 8; i++)
    assert_int_equal(pthread_create(&t[i], NULL, parallel_fetch, (void *)i), 0);
  for(int i = 0; i < 8; i++) {
    void *ok;
    pthread_join(t[i], &ok);
    assert_non_null(ok);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_reader_whole_and_bounded),
    cmocka_unit_test(test_reader_reads_stop_at_chunk_ends),
    cmocka_unit_test(test_reader_range_touches_only_its_chunks),
    cmocka_unit_test(test_reader_bad_metadata),
    cmocka_unit_test(test_reader_again_and_wake),
    cmocka_unit_test(test_http_ready),
    cmocka_unit_test(test_http_slow_suspends_and_resumes),
    cmocka_unit_test(test_http_wake_before_suspend),
    cmocka_unit_test(test_http_parallel_slow),
  };
  log_set_level(LOG_ERROR);   /* no access log lines */
  int failed = cmocka_run_group_tests(tests, setup_http, teardown_http);
  return failed;
}
