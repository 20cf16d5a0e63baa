/* Unit tests for telegram/tg_loop + tg_api against a scripted HTTP server
 * in a thread: 429 honoured for exactly retry_after, 5xx / HTML pages /
 * dropped connections retried with backoff, bounded retries, 4xx at once,
 * sendDocument's multipart shape, downloads resumed with Range after a
 * truncated body, and cancellation at shutdown. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "telegram/tg_api.h"
#include "telegram/tg_retry.h"

#define TOKEN "123:ABC"
#define MAX_STEPS 8

/* One scripted answer: raw bytes to send, then maybe close. */
struct step {
  const char *raw;
  char *owned;       /* raw when built by script_reply */
  size_t len;        /* 0 = strlen(raw) */
  bool close_after;
};

struct script {
  int listen_fd;
  int port;
  pthread_t thread;
  atomic_bool stop;
  struct step steps[MAX_STEPS];
  int nsteps;
  atomic_int served;
  char requests[MAX_STEPS][4096]; /* head (+ start of body) of each request */
};

static bool read_request(int fd, char *out, size_t outsz)
{
  char buf[65536];
  size_t n = 0;
  char *end = NULL;
  while(!end) {
    ssize_t r = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
    if(r <= 0)
      return false;
    n += (size_t)r;
    buf[n] = 0;
    end = strstr(buf, "\r\n\r\n");
    if(!end && n >= sizeof(buf) - 1)
      return false;
  }
  size_t head = (size_t)(end + 4 - buf), body = 0;
  const char *cl = strcasestr(buf, "\r\nContent-Length:");
  if(cl && cl < end)
    body = strtoul(cl + 17, NULL, 10);
  /* Keep the head and as much of the body as fits (bodies hold no NUL here). */
  size_t kept = n < outsz - 1 ? n : outsz - 1;
  memcpy(out, buf, kept);
  out[kept] = 0;
  size_t have = n - head;
  while(have < body) {
    ssize_t r = recv(fd, buf, sizeof(buf), 0);
    if(r <= 0)
      return false;
    size_t k = (size_t)r < outsz - 1 - kept ? (size_t)r : outsz - 1 - kept;
    memcpy(out + kept, buf, k);
    kept += k;
    out[kept] = 0;
    have += (size_t)r;
  }
  return true;
}

static void *script_main(void *arg)
{
  struct script *s = arg;
  while(!atomic_load(&s->stop) && atomic_load(&s->served) < s->nsteps) {
    struct pollfd p = {s->listen_fd, POLLIN, 0};
    if(poll(&p, 1, 100) <= 0)
      continue;
    int fd = accept(s->listen_fd, NULL, NULL);
    if(fd < 0)
      continue;
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    for(;;) {
      int i = atomic_load(&s->served);
      if(i >= s->nsteps || !read_request(fd, s->requests[i], sizeof(s->requests[i])))
        break;
      const struct step *st = &s->steps[i];
      size_t len = st->len ? st->len : strlen(st->raw);
      if(len)
        (void)!send(fd, st->raw, len, MSG_NOSIGNAL);
      atomic_fetch_add(&s->served, 1);
      if(st->close_after)
        break;
    }
    close(fd);
  }
  return NULL;
}

static struct script *script_start(void)
{
  struct script *s = calloc(1, sizeof(*s));
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof(a);
  s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(listen(s->listen_fd, 8), 0);
  getsockname(s->listen_fd, (struct sockaddr *)&a, &alen);
  s->port = ntohs(a.sin_port);
  return s;
}

static void script_add(struct script *s, const char *raw, size_t len, bool close_after)
{
  s->steps[s->nsteps++] = (struct step){raw, NULL, len, close_after};
}

/* A reply with a correct Content-Length. */
static void script_reply(struct script *s, const char *status, const char *headers,
                         const char *body, bool close_after)
{
  char *raw = NULL;
  assert_true(asprintf(&raw, "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\n\r\n%s", status, headers,
                       strlen(body), body) > 0);
  s->steps[s->nsteps] = (struct step){raw, raw, 0, close_after};
  s->nsteps++;
}

static void script_run(struct script *s)
{
  pthread_create(&s->thread, NULL, script_main, s);
}

static void script_free(struct script *s)
{
  atomic_store(&s->stop, true);
  pthread_join(s->thread, NULL);
  close(s->listen_fd);
  for(int i = 0; i < s->nsteps; i++)
    free(s->steps[i].owned);
  free(s);
}

static struct tg_api *api_for(struct script *s)
{
  char url[64], err[256];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d", s->port);
  struct tg_api *api = tg_api_new(url, err, sizeof(err));
  assert_non_null(api);
  return api;
}


static void test_retry_after_then_5xx_then_ok(void **state)
{
  struct script *s = script_start();
  script_reply(s, "429 Too Many Requests", "Retry-After: 1\r\n",
               "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after "
               "1\",\"parameters\":{\"retry_after\":1}}", false);
  script_reply(s, "502 Bad Gateway", "Content-Type: text/html\r\n",
               "<html><head><title>502 Bad Gateway</title></head></html>\n", false);
  script_reply(s, "200 OK", "", "{\"ok\":true,\"result\":{\"id\":123,\"is_bot\":true}}", false);
  script_run(s);
  struct tg_api *api = api_for(s);
  struct tg_result res;
  int64_t t0 = tg_loop_now();
  assert_int_equal(tg_call_sync(api, TOKEN, "getMe", NULL, 0, NULL, &res), TG_OK);
  int64_t took = tg_loop_now() - t0;
  assert_int_equal(res.attempts, 3);
  assert_true(res.reply.ok);
  assert_int_equal(json_integer_value(json_object_get(res.reply.result, "id")), 123);
  /* exactly retry_after, then a first backoff step (250..500 ms) */
  assert_true(took >= 1000 + TG_BACKOFF_BASE_MS / 2);
  assert_true(took < 1000 + TG_BACKOFF_BASE_MS + 1000);
  assert_non_null(strstr(s->requests[0], "POST /bot123:ABC/getMe HTTP/1.1"));
  tg_reply_clear(&res.reply);
  assert_true(tg_api_healthy(api));
  tg_api_free(api);
  script_free(s);
}

static void test_permanent_error_at_once(void **state)
{
  struct script *s = script_start();
  script_reply(s, "400 Bad Request", "",
               "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: chat not found\"}",
               false);
  script_run(s);
  struct tg_api *api = api_for(s);
  struct tg_result res;
  struct tg_param p[] = {{"chat_id", "-100 5&x=y"}};
  assert_int_equal(tg_call_sync(api, TOKEN, "getChat", p, 1, NULL, &res), TG_FAILED);
  assert_int_equal(res.attempts, 1);
  assert_true(res.reply.envelope);
  assert_int_equal(res.reply.error_code, 400);
  assert_string_equal(res.reply.description, "Bad Request: chat not found");
  /* parameters are form-encoded */
  assert_non_null(strstr(s->requests[0], "chat_id=-100%205%26x%3Dy"));
  tg_reply_clear(&res.reply);
  /* a method name that is not one is refused before anything is sent */
  assert_int_equal(tg_call_sync(api, TOKEN, "get/../Me", NULL, 0, NULL, &res), TG_FAILED);
  assert_int_equal(res.attempts, 0);
  tg_reply_clear(&res.reply);
  tg_api_free(api);
  script_free(s);
}

static void test_bounded_retries(void **state)
{
  struct script *s = script_start();
  static const char e500[] = "{\"ok\":false,\"error_code\":500,\"description\":\"Internal\"}";
  script_reply(s, "500 Internal Server Error", "", e500, false);
  script_add(s, "", 0, true);                 /* dropped without an answer */
  script_add(s, "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{\"ok\":true,", 0, true); /* cut */
  script_reply(s, "500 Internal Server Error", "", e500, false);
  script_run(s);
  struct tg_api *api = api_for(s);
  struct tg_result res;
  struct tg_call_opts opts = {.max_attempts = 3};
  assert_int_equal(tg_call_sync(api, TOKEN, "deleteMessage", NULL, 0, &opts, &res), TG_FAILED);
  assert_int_equal(res.attempts, 3);
  tg_reply_clear(&res.reply);
  tg_api_free(api);
  script_free(s);
}

/* ---- downloads ---- */

struct sink {
  char data[1000];
  uint64_t got;
  atomic_int done;
  enum tg_status st;
  uint64_t limit; /* take at most this many bytes in total (0 = all) */
};

static size_t sink_fn(void *arg, uint64_t off, const char *d, size_t n)
{
  struct sink *k = arg;
  if(k->limit && k->got + n > k->limit)
    n = (size_t)(k->limit - k->got);
  memcpy(k->data + off, d, n);
  k->got += n;
  return n;
}

static void sink_done(void *arg, struct tg_result *r)
{
  struct sink *k = arg;
  k->st = r->status;
  atomic_store(&k->done, 1);
}

static void test_send_document_multipart(void **state)
{
  struct script *s = script_start();
  script_reply(s, "200 OK", "", "{\"ok\":true,\"result\":{\"m\":1}}", false);
  script_run(s);
  char path[] = "/tmp/netra-doc-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "chunkdata", 9), 9);
  close(fd);
  struct tg_api *api = api_for(s);
  struct tg_param p[] = {{"chat_id", "-1001"}};
  struct sink *k = calloc(1, sizeof(*k));
  assert_non_null(tg_send_document(api, TOKEN, p, 1, path, "chunk-abc.bin", NULL, sink_done, k));
  while(!atomic_load(&k->done))
    usleep(1000);
  assert_int_equal(k->st, TG_OK);
  free(k);
  const char *req = s->requests[0];
  assert_non_null(strstr(req, "POST /bot123:ABC/sendDocument HTTP/1.1"));
  assert_non_null(strstr(req, "multipart/form-data; boundary="));
  assert_null(strstr(req, "Expect:")); /* no 100-continue round trip */
  assert_non_null(strstr(req, "Content-Disposition: form-data; name=\"chat_id\"\r\n\r\n-1001\r\n"));
  /* the file part carries a filename, or Telegram would not see a file */
  assert_non_null(strstr(req, "Content-Disposition: form-data; name=\"document\"; "
                              "filename=\"chunk-abc.bin\"\r\n"));
  assert_non_null(strstr(req, "\r\n\r\nchunkdata\r\n--"));
  tg_api_free(api);
  script_free(s);
  unlink(path);
}

static char file[1000];

static void test_download_resumes_with_range(void **state)
{
  static char r1[2000], r2[2000];
  for(int i = 0; i < 1000; i++)
    file[i] = (char)(i * 13 + 1);
  struct script *s = script_start();
  /* the first answer stops after 400 of 1000 bytes and closes */
  int h1 = sprintf(r1, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
  memcpy(r1 + h1, file, 400);
  int h2 = sprintf(r2, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 400-999/1000\r\n"
                       "Content-Length: 600\r\n\r\n");
  memcpy(r2 + h2, file + 400, 600);
  script_add(s, r1, (size_t)h1 + 400, true);
  script_add(s, r2, (size_t)h2 + 600, false);
  script_run(s);
  struct tg_api *api = api_for(s);
  struct sink *k = calloc(1, sizeof(*k));
  assert_non_null(tg_download(api, TOKEN, "documents/file_1.bin", 0, 1000, 1000, NULL, sink_fn, k,
                              sink_done, k));
  while(!atomic_load(&k->done))
    usleep(1000);
  assert_int_equal(k->st, TG_OK);
  assert_int_equal(k->got, 1000);
  assert_memory_equal(k->data, file, 1000);
  assert_non_null(strstr(s->requests[0], "GET /file/bot123:ABC/documents/file_1.bin HTTP/1.1"));
  assert_null(strstr(s->requests[0], "Range:")); /* the whole file: no Range */
  assert_non_null(strstr(s->requests[1], "Range: bytes=400-999"));
  free(k);
  tg_api_free(api);
  script_free(s);
}

static void test_download_part_and_ignored_range(void **state)
{
  static char r1[2000];
  struct script *s = script_start();
  /* a server that ignores Range and sends everything */
  int h1 = sprintf(r1, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
  memcpy(r1 + h1, file, 1000);
  script_add(s, r1, (size_t)h1 + 1000, false);
  script_run(s);
  struct tg_api *api = api_for(s);
  struct sink *k = calloc(1, sizeof(*k));
  assert_non_null(tg_download(api, TOKEN, "documents/file_1.bin", 100, 300, 1000, NULL, sink_fn, k,
                              sink_done, k));
  while(!atomic_load(&k->done))
    usleep(1000);
  assert_int_equal(k->st, TG_OK);
  assert_int_equal(k->got, 200);
  assert_memory_equal(k->data + 100, file + 100, 200);
  assert_non_null(strstr(s->requests[0], "Range: bytes=100-299"));
  /* hostile file_path values are refused before any request */
  static const char *const bad[] = {"../secret", "a/../../b", "a b", "a?x=1", "a#f", "", "a//b"};
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_null(tg_download(api, TOKEN, bad[i], 0, 10, 10, NULL, sink_fn, k, sink_done, k));
  assert_null(tg_download(api, TOKEN, "a", 5, 5, 10, NULL, sink_fn, k, sink_done, k));
  free(k);
  tg_api_free(api);
  script_free(s);
}

static void test_download_error_status(void **state)
{
  struct script *s = script_start();
  script_reply(s, "404 Not Found", "",
               "{\"ok\":false,\"error_code\":404,\"description\":\"Not Found\"}", false);
  script_run(s);
  struct tg_api *api = api_for(s);
  struct sink *k = calloc(1, sizeof(*k));
  assert_non_null(tg_download(api, TOKEN, "documents/x", 0, 10, 10, NULL, sink_fn, k, sink_done, k));
  while(!atomic_load(&k->done))
    usleep(1000);
  assert_int_equal(k->st, TG_FAILED);
  assert_int_equal(k->got, 0); /* the error page is not file data */
  free(k);
  tg_api_free(api);
  script_free(s);
}

/* ---- shutdown and unreachable servers ---- */

static void test_stop_cancels_waiting_calls(void **state)
{
  struct script *s = script_start();
  script_reply(s, "429 Too Many Requests", "",
               "{\"ok\":false,\"error_code\":429,\"description\":\"x\",\"parameters\":"
               "{\"retry_after\":60}}", false);
  script_run(s);
  struct tg_api *api = api_for(s);
  struct sink *k = calloc(1, sizeof(*k));
  assert_non_null(tg_call(api, TOKEN, "getMe", NULL, 0, NULL, sink_done, k));
  while(atomic_load(&s->served) < 1)
    usleep(1000);
  usleep(50000);
  int64_t t0 = tg_loop_now();
  tg_api_free(api); /* must not wait the 60 s */
  assert_true(tg_loop_now() - t0 < 2000);
  assert_int_equal(atomic_load(&k->done), 1);
  assert_int_equal(k->st, TG_CANCELLED);
  free(k);
  script_free(s);
}

static struct tg_call *to_cancel;
static void cancel_on_loop(void *arg)
{
  (void)arg;
  tg_call_cancel(to_cancel);
  tg_call_cancel(to_cancel); /* twice is harmless */
}

static void test_cancel_waiting_and_running_calls(void **state)
{
  struct script *s = script_start();
  script_reply(s, "429 Too Many Requests", "",
               "{\"ok\":false,\"error_code\":429,\"description\":\"x\",\"parameters\":"
               "{\"retry_after\":60}}", false);
  script_add(s, "", 0, false); /* the next request gets no answer at all */
  script_run(s);
  struct tg_api *api = api_for(s);
  /* waiting 60 s for a retry */
  struct sink *k = calloc(1, sizeof(*k));
  to_cancel = tg_call(api, TOKEN, "getMe", NULL, 0, NULL, sink_done, k);
  assert_non_null(to_cancel);
  while(atomic_load(&s->served) < 1)
    usleep(1000);
  usleep(50000);
  int64_t t0 = tg_loop_now();
  tg_loop_post(tg_api_loop(api), cancel_on_loop, NULL);
  while(!atomic_load(&k->done))
    usleep(1000);
  assert_int_equal(k->st, TG_CANCELLED);
  assert_true(tg_loop_now() - t0 < 1000);
  /* a transfer in flight (the server never answers) */
  memset(k, 0, sizeof(*k));
  to_cancel = tg_call(api, TOKEN, "getChat", NULL, 0, NULL, sink_done, k);
  while(atomic_load(&s->served) < 2)
    usleep(1000);
  t0 = tg_loop_now();
  tg_loop_post(tg_api_loop(api), cancel_on_loop, NULL);
  while(!atomic_load(&k->done))
    usleep(1000);
  assert_int_equal(k->st, TG_CANCELLED);
  assert_true(tg_loop_now() - t0 < 1000);
  free(k);
  tg_api_free(api);
  script_free(s);
}

static void test_unreachable(void **state)
{
  struct script *s = script_start();
  int port = s->port;
  close(s->listen_fd); /* nothing listens there now */
  free(s);
  char url[64], err[256];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
  struct tg_api *api = tg_api_new(url, err, sizeof(err));
  struct tg_result res;
  struct tg_call_opts opts = {.max_attempts = 2};
  assert_int_equal(tg_call_sync(api, TOKEN, "getMe", NULL, 0, &opts, &res), TG_FAILED);
  assert_int_equal(res.attempts, 2);
  assert_false(res.reply.envelope);
  assert_int_equal(res.reply.error_code, 0);
  assert_false(tg_api_healthy(api));
  tg_reply_clear(&res.reply);
  tg_api_free(api);
}

/* ---- the loop itself ---- */

static int order[16], norder;
static struct tg_loop *the_loop;
static void mark(void *arg)
{
  order[norder++] = (int)(intptr_t)arg;
}
static void add_timers(void *arg)
{
  (void)arg;
  tg_loop_timer(the_loop, 60, mark, (void *)3);
  tg_loop_timer(the_loop, 20, mark, (void *)2);
  tg_loop_timer(the_loop, 0, mark, (void *)1);
  tg_loop_timer(the_loop, 100000, mark, (void *)4); /* fires at stop */
}

static void test_loop_posts_and_timers(void **state)
{
  char err[128];
  the_loop = tg_loop_new(err, sizeof(err));
  assert_false(tg_loop_on_thread(the_loop));
  norder = 0;
  tg_loop_post(the_loop, add_timers, NULL);
  usleep(300000);
  assert_int_equal(norder, 3);
  assert_int_equal(order[0], 1);
  assert_int_equal(order[1], 2);
  assert_int_equal(order[2], 3);
  tg_loop_free(the_loop);
  assert_int_equal(norder, 4);
  assert_int_equal(order[3], 4);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_retry_after_then_5xx_then_ok),
    cmocka_unit_test(test_permanent_error_at_once),
    cmocka_unit_test(test_bounded_retries),
    cmocka_unit_test(test_send_document_multipart),
    cmocka_unit_test(test_download_resumes_with_range),
    cmocka_unit_test(test_download_part_and_ignored_range),
    cmocka_unit_test(test_download_error_status),
    cmocka_unit_test(test_stop_cancels_waiting_calls),
    cmocka_unit_test(test_cancel_waiting_and_running_calls),
    cmocka_unit_test(test_unreachable),
    cmocka_unit_test(test_loop_posts_and_timers),
  };
  /* Once, before any thread, as main does: tg_loop does not. */
  if(curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return 1;
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return failed;
}
