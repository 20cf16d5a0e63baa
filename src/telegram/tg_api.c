/* tg_api: Bot API calls with retries on the tg_loop thread (see tg_api.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "telegram/tg_api.h"
#include "telegram/tg_retry.h"
#include "util/buf.h"
#include "util/log.h"

#define TG_CONNECT_TIMEOUT_MS 10000
#define TG_CALL_TIMEOUT_S 60      /* small JSON calls */
#define TG_STALL_TIME_S 60        /* uploads and downloads: abort when stalled this long */
#define TG_ERROR_BODY_MAX 65536   /* error page kept from a failed download */
#define TG_XFER_BUFFER (256 * 1024) /* fewer, larger writes for chunk-sized transfers */

struct tg_api {
  struct tg_loop *loop;
  char *base_url;
  uint64_t rng;      /* jitter, loop thread */
  atomic_int healthy;
};

enum tg_kind { TG_KIND_CALL, TG_KIND_DOC, TG_KIND_DOWNLOAD };

struct tg_call {
  struct tg_api *api;
  enum tg_kind kind;
  char *url;
  char *what;                /* "sendDocument (bot 123456:****)" for the log */
  char *form;                /* TG_KIND_CALL: urlencoded body */
  struct tg_param *params;   /* TG_KIND_DOC: owned copies */
  size_t nparams;
  char *doc_path, *doc_name;
  struct tg_call_opts opts;
  int failures;              /* transient failures counted against max_attempts */
  bool cancelled;            /* tg_call_cancel ran */
  bool pace_open;            /* the paces are taken for an attempt not landed yet */
  struct tg_timer *timer;    /* waiting for the next attempt */
  int rate_limited;
  tg_done_fn done;
  void *arg;
  /* Downloads: */
  uint64_t pos, stop, total, skip;
  tg_sink_fn sink;
  void *sink_arg;
  bool stopped;              /* the sink took less: ended early on purpose */
  bool bad_range;            /* a 206 for another range than asked */
  bool data_mode;            /* this attempt's body is file data */
  /* This attempt: */
  CURL *easy;
  curl_mime *mime;
  struct curl_slist *headers;
  buf_t body;
  int status;
  int retry_after_hdr;
  int64_t range_start;       /* from Content-Range, -1 when absent */
  char errbuf[CURL_ERROR_SIZE];
  struct tg_result res;
};

void tg_token_mask(const char *token, char out[TG_TOKEN_MASKED_MAX])
{
  const char *colon = strchr(token, ':');
  size_t n = colon ? (size_t)(colon - token) : 0;
  if(n == 0 || n > 20)
    snprintf(out, TG_TOKEN_MASKED_MAX, "****");
  else
    snprintf(out, TG_TOKEN_MASKED_MAX, "%.*s:****", (int)n, token);
}

struct tg_loop *tg_api_loop(struct tg_api *api)
{
  return api->loop;
}

bool tg_api_healthy(struct tg_api *api)
{
  return atomic_load(&api->healthy) != 0;
}

/* ---- one call's life ------------------------------------------------------ */

static void tg_call_free(struct tg_call *call)
{
  for(size_t i = 0; i < call->nparams; i++) {
    free((char *)call->params[i].name);
    free((char *)call->params[i].value);
  }
  free(call->params);
  free(call->url);
  free(call->what);
  free(call->form);
  free(call->doc_path);
  free(call->doc_name);
  buf_free(&call->body);
  tg_reply_clear(&call->res.reply);
  free(call);
}

static void tg_call_end_attempt(struct tg_call *call)
{
  if(call->easy)
    curl_easy_cleanup(call->easy);
  curl_mime_free(call->mime);
  curl_slist_free_all(call->headers);
  call->easy = NULL;
  call->mime = NULL;
  call->headers = NULL;
  buf_reset(&call->body);
}

/* Ends the attempt's charge on the paces (see tg_pace.h). */
static void tg_call_land(struct tg_call *call, bool arrived)
{
  if(!call->pace_open)
    return;
  call->pace_open = false;
  for(int i = 0; i < 2; i++)
    if(call->opts.pace[i])
      tg_pace_land(call->opts.pace[i], tg_loop_now(), arrived);
}

static void tg_call_finish(struct tg_call *call, enum tg_status st)
{
  tg_call_land(call, false); /* an attempt that never ran */
  call->res.status = st;
  if(st == TG_FAILED) /* callers log with their context */
    log_debug("telegram: %s failed after %d attempt%s: %s", call->what, call->res.attempts,
              call->res.attempts == 1 ? "" : "s", call->res.reply.description);
  call->done(call->arg, &call->res);
  tg_call_free(call);
}

static size_t tg_call_header(char *b, size_t size, size_t nmemb, void *ud)
{
  struct tg_call *call = ud;
  size_t n = size * nmemb;
  char line[256];
  if(n >= sizeof(line))
    return n;
  memcpy(line, b, n);
  line[n] = 0;
  if(!strncmp(line, "HTTP/", 5)) {
    /* A new response (after a 100 Continue, say): forget the last one's. */
    call->retry_after_hdr = -1;
    call->range_start = -1;
  }
  else if(!strncasecmp(line, "Retry-After:", 12)) {
    long v = strtol(line + 12, NULL, 10);
    if(v >= 0 && v <= TG_RETRY_AFTER_MAX)
      call->retry_after_hdr = (int)v;
  }
  else if(!strncasecmp(line, "Content-Range:", 14)) {
    unsigned long long a, b2;
    if(sscanf(line + 14, " bytes %llu-%llu/", &a, &b2) == 2)
      call->range_start = (int64_t)a;
  }
  return n;
}

/* Decides at the first byte whether the body is file data or an error page. */
static void tg_download_begin_body(struct tg_call *call)
{
  long code = 0;
  curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &code);
  call->status = (int)code;
  call->data_mode = false;
  call->skip = 0;
  if(code == 206) {
    if(call->range_start != (int64_t)call->pos)
      call->bad_range = true;
    else
      call->data_mode = true;
  }
  else if(code == 200) {
    call->data_mode = true;
    call->skip = call->pos; /* the server ignored the Range: skip to ours */
  }
}

static size_t tg_call_write(char *data, size_t size, size_t nmemb, void *ud)
{
  struct tg_call *call = ud;
  size_t n = size * nmemb;
  if(call->kind != TG_KIND_DOWNLOAD)
    return buf_append(&call->body, data, n) == BUF_OK ? n : 0; /* oversized: abort */
  if(call->status == 0)
    tg_download_begin_body(call);
  if(call->bad_range)
    return 0;
  if(!call->data_mode) {
    buf_append(&call->body, data, n); /* keep what fits of the error page */
    return n;
  }
  size_t off = 0;
  if(call->skip) {
    off = call->skip < n ? (size_t)call->skip : n;
    call->skip -= off;
  }
  size_t avail = n - off, want = avail;
  if(want > call->stop - call->pos)
    want = (size_t)(call->stop - call->pos);
  size_t took = want ? call->sink(call->sink_arg, call->pos, data + off, want) : 0;
  call->pos += took;
  if(took < avail) {
    /* At the stop, or the sink has enough: end the transfer, successfully. */
    call->stopped = true;
    return 0;
  }
  return n;
}

static void tg_call_attempt(void *arg);
static void tg_call_done(void *arg, CURL *easy, CURLcode rc);

static int tg_call_prepare(struct tg_call *call)
{
  CURL *e = curl_easy_init();
  if(!e)
    return -1;
  call->easy = e;
  call->status = 0;
  call->retry_after_hdr = -1;
  call->range_start = -1;
  call->bad_range = false;
  call->stopped = false;
  call->data_mode = false;
  call->errbuf[0] = 0;
  buf_reset(&call->body);
  call->headers = curl_slist_append(NULL, "Expect:"); /* no 100-continue round trip */
  if(!call->headers)
    return -1;
  curl_easy_setopt(e, CURLOPT_URL, call->url);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "NetraDrive");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->headers);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, tg_call_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, tg_call_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, call);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->errbuf);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)TG_CONNECT_TIMEOUT_MS);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  if(call->opts.timeout_s > 0)
    curl_easy_setopt(e, CURLOPT_TIMEOUT, call->opts.timeout_s);
  if(call->kind == TG_KIND_CALL) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, call->form);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(call->form));
    if(call->opts.timeout_s <= 0)
      curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)TG_CALL_TIMEOUT_S);
    return 0;
  }
  /* Big transfers: no overall limit, but give up on a stalled one. */
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)TG_STALL_TIME_S);
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)TG_XFER_BUFFER);
  curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, (long)TG_XFER_BUFFER);
  if(call->kind == TG_KIND_DOWNLOAD) {
    char range[64];
    if(call->pos > 0 || call->stop < call->total) {
      snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)call->pos,
               (unsigned long long)call->stop - 1);
      curl_easy_setopt(e, CURLOPT_RANGE, range); /* curl copies it */
    }
    return 0;
  }
  curl_mime *mime = curl_mime_init(e);
  if(!mime)
    return -1;
  call->mime = mime;
  for(size_t i = 0; i < call->nparams; i++) {
    curl_mimepart *p = curl_mime_addpart(mime);
    if(!p || curl_mime_name(p, call->params[i].name) != CURLE_OK ||
       curl_mime_data(p, call->params[i].value, CURL_ZERO_TERMINATED) != CURLE_OK)
      return -1;
  }
  curl_mimepart *doc = curl_mime_addpart(mime);
  /* A part is a file only when it has a filename: set one explicitly. */
  if(!doc || curl_mime_name(doc, "document") != CURLE_OK ||
     curl_mime_filedata(doc, call->doc_path) != CURLE_OK ||
     curl_mime_filename(doc, call->doc_name) != CURLE_OK ||
     curl_mime_type(doc, "application/octet-stream") != CURLE_OK)
    return -1;
  curl_easy_setopt(e, CURLOPT_MIMEPOST, mime);
  return 0;
}

static void tg_call_attempt(void *arg)
{
  struct tg_call *call = arg;
  struct tg_loop *loop = call->api->loop;
  call->timer = NULL; /* it fired (or this is the first attempt) */
  if(tg_loop_stopping(loop) || call->cancelled) {
    tg_reply_set_error(&call->res.reply, 0,
                       call->cancelled ? "cancelled" : "cancelled: shutting down");
    tg_call_finish(call, TG_CANCELLED);
    return;
  }
  int64_t now = tg_loop_now(), wait = 0;
  bool paced = call->opts.first_paced && call->res.attempts == 0;
  for(int i = 0; i < 2 && !paced; i++)
    if(call->opts.pace[i]) {
      int64_t w = tg_pace_delay(call->opts.pace[i], now);
      if(w > wait)
        wait = w;
    }
  if(wait > 0 && (call->timer = tg_loop_timer(loop, wait, tg_call_attempt, call)))
    return;
  for(int i = 0; i < 2 && !paced; i++)
    if(call->opts.pace[i]) {
      tg_pace_take(call->opts.pace[i], now);
      call->pace_open = true;
    }
  if(tg_call_prepare(call) != 0) {
    tg_call_end_attempt(call);
    tg_reply_set_error(&call->res.reply, 0, "out of memory");
    tg_call_finish(call, TG_FAILED);
    return;
  }
  call->res.attempts++;
  tg_loop_start(loop, call->easy, tg_call_done, call);
}

/* Fills res.reply from this attempt and classifies it. */
static enum tg_class tg_call_judge(struct tg_call *call, CURLcode rc)
{
  struct tg_reply *rep = &call->res.reply;
  if(call->kind == TG_KIND_DOWNLOAD && call->data_mode) {
    if(call->stopped || (rc == CURLE_OK && call->pos >= call->stop)) {
      tg_reply_clear(rep);
      rep->ok = true;
      rep->http_status = call->status;
      return TG_CLASS_OK;
    }
    tg_reply_set_error(rep, call->status,
                       rc != CURLE_OK ? (call->errbuf[0] ? call->errbuf : curl_easy_strerror(rc))
                                      : "download ended early");
    return tg_classify(rc, call->status, false);
  }
  if(call->bad_range) {
    tg_reply_set_error(rep, call->status, "download answered another range than asked");
    return TG_CLASS_RETRY;
  }
  if(rc != CURLE_OK && !(call->kind == TG_KIND_DOWNLOAD && call->status >= 300)) {
    tg_reply_set_error(rep, call->status,
                       rc == CURLE_WRITE_ERROR ? "reply too large"
                       : call->errbuf[0]       ? call->errbuf
                                               : curl_easy_strerror(rc));
    return tg_classify(rc, call->status, false);
  }
  tg_reply_parse(rep, call->status, call->body.data, call->body.len, call->retry_after_hdr);
  if(call->kind == TG_KIND_DOWNLOAD) /* an error status: never file data */
    return tg_classify(CURLE_OK, rep->envelope ? rep->error_code : call->status, false);
  if(rep->ok)
    return TG_CLASS_OK;
  return tg_classify(CURLE_OK, rep->envelope ? rep->error_code : call->status, false);
}

static void tg_call_done(void *arg, CURL *easy, CURLcode rc)
{
  struct tg_call *call = arg;
  struct tg_api *api = call->api;
  long code = 0;
  (void)easy;
  uint64_t pos_before = call->pos;
  curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &code);
  if(call->status == 0)
    call->status = (int)code;
  if(code > 0)
    atomic_store(&api->healthy, 1);
  else if(rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
          rc == CURLE_OPERATION_TIMEDOUT)
    atomic_store(&api->healthy, 0);
  enum tg_class cls = tg_call_judge(call, rc);
  tg_call_land(call, cls == TG_CLASS_OK);
  tg_call_end_attempt(call);
  if((tg_loop_stopping(api->loop) || call->cancelled) && cls != TG_CLASS_OK) {
    tg_reply_set_error(&call->res.reply, 0,
                       call->cancelled ? "cancelled" : "cancelled: shutting down");
    tg_call_finish(call, TG_CANCELLED);
    return;
  }
  int64_t delay;
  switch(cls) {
  case TG_CLASS_OK:
    tg_call_finish(call, TG_OK);
    return;
  case TG_CLASS_RATE:
    if(++call->rate_limited > call->opts.max_rate_limited) {
      tg_call_finish(call, TG_FAILED);
      return;
    }
    /* Honour retry_after exactly, and keep the chat (and bot) quiet meanwhile. */
    delay = call->res.reply.retry_after >= 0 ? (int64_t)call->res.reply.retry_after * 1000
                                             : tg_backoff_ms(call->rate_limited, tg_rand(&api->rng));
    for(int i = 0; i < 2; i++)
      if(call->opts.pace[i])
        tg_pace_block(call->opts.pace[i], tg_loop_now() + delay);
    log_info("telegram: %s rate limited, retrying in %lld ms", call->what, (long long)delay);
    break;
  case TG_CLASS_RETRY:
    /* A download that made progress has not failed as such: resume it. */
    if(call->kind == TG_KIND_DOWNLOAD && call->pos > pos_before)
      call->failures = 0;
    if(++call->failures >= call->opts.max_attempts) {
      tg_call_finish(call, TG_FAILED);
      return;
    }
    delay = tg_backoff_ms(call->failures, tg_rand(&api->rng));
    log_debug("telegram: %s: %s; retry %d in %lld ms", call->what, call->res.reply.description,
              call->failures, (long long)delay);
    break;
  default:
    tg_call_finish(call, TG_FAILED);
    return;
  }
  if(!(call->timer = tg_loop_timer(api->loop, delay, tg_call_attempt, call)))
    tg_call_finish(call, TG_FAILED);
}

void tg_call_cancel(struct tg_call *call)
{
  struct tg_loop *loop = call->api->loop;
  if(call->cancelled)
    return;
  call->cancelled = true;
  if(call->timer) {
    /* Waiting to retry: end it on the next turn instead. */
    tg_loop_timer_cancel(loop, call->timer);
    call->timer = tg_loop_timer(loop, 0, tg_call_attempt, call);
    if(!call->timer)
      log_error("telegram: out of memory cancelling %s", call->what);
  }
  else if(call->easy) {
    /* A document whose body has all gone out may be stored already, and
     * the message would be lost to us: let that exchange finish (the
     * caller gets its real outcome). Before that, Telegram has nothing. */
    curl_off_t total = -1, sent = 0;
    curl_easy_getinfo(call->easy, CURLINFO_CONTENT_LENGTH_UPLOAD_T, &total);
    curl_easy_getinfo(call->easy, CURLINFO_SIZE_UPLOAD_T, &sent);
    log_debug("telegram: cancelling %s with %lld of %lld bytes sent", call->what,
              (long long)sent, (long long)total);
    if(call->kind != TG_KIND_DOC || (total > 0 && sent < total))
      tg_loop_abort(loop, call->easy);
  }
  /* else the first attempt is still posted: it sees the flag */
}

/* ---- starting calls --------------------------------------------------------- */

static struct tg_call *tg_call_new(struct tg_api *api, enum tg_kind kind, const char *token,
                                   const char *method, const struct tg_call_opts *opts,
                                   tg_done_fn done, void *arg)
{
  char masked[TG_TOKEN_MASKED_MAX];
  struct tg_call *call = calloc(1, sizeof(*call));
  if(!call)
    return NULL;
  call->api = api;
  call->kind = kind;
  call->done = done;
  call->arg = arg;
  if(opts)
    call->opts = *opts;
  if(call->opts.max_attempts <= 0)
    call->opts.max_attempts = TG_DEFAULT_ATTEMPTS;
  if(call->opts.max_rate_limited <= 0)
    call->opts.max_rate_limited = TG_DEFAULT_RATE_LIMITED;
  /* The caller's charge for the first attempt is ours to land once posted. */
  call->pace_open = call->opts.first_paced && (call->opts.pace[0] || call->opts.pace[1]);
  buf_init(&call->body, kind == TG_KIND_DOWNLOAD ? TG_ERROR_BODY_MAX : TG_REPLY_MAX);
  tg_reply_clear(&call->res.reply);
  tg_token_mask(token, masked);
  if(asprintf(&call->what, "%s (bot %s)", method, masked) < 0) {
    call->what = NULL;
    tg_call_free(call);
    return NULL;
  }
  return call;
}

static struct tg_call *tg_call_post(struct tg_call *call)
{
  if(tg_loop_post(call->api->loop, tg_call_attempt, call) != 0) {
    tg_call_free(call);
    return NULL;
  }
  return call;
}

/* Bot API method names are letters only; tokens were checked by config. */
static bool tg_method_ok(const char *m)
{
  if(!*m || strlen(m) > 64)
    return false;
  for(; *m; m++)
    if(!((*m >= 'a' && *m <= 'z') || (*m >= 'A' && *m <= 'Z')))
      return false;
  return true;
}

struct tg_call *tg_call(struct tg_api *api, const char *token, const char *method,
                        const struct tg_param *params, size_t nparams,
                        const struct tg_call_opts *opts, tg_done_fn done, void *arg)
{
  if(!tg_method_ok(method))
    return NULL;
  struct tg_call *call = tg_call_new(api, TG_KIND_CALL, token, method, opts, done, arg);
  buf_t form;
  buf_init(&form, TG_REPLY_MAX);
  if(!call)
    goto fail;
  if(asprintf(&call->url, "%s/bot%s/%s", api->base_url, token, method) < 0) {
    call->url = NULL;
    goto fail;
  }
  for(size_t i = 0; i < nparams; i++) {
    char *v = curl_easy_escape(NULL, params[i].value, 0);
    int rc = v ? buf_printf(&form, "%s%s=%s", i ? "&" : "", params[i].name, v) : BUF_NOMEM;
    curl_free(v);
    if(rc != BUF_OK)
      goto fail;
  }
  if(buf_puts(&form, "") != BUF_OK)
    goto fail;
  call->form = buf_steal(&form);
  return tg_call_post(call);
fail:
  buf_free(&form);
  if(call)
    tg_call_free(call);
  return NULL;
}

struct tg_call *tg_send_document(struct tg_api *api, const char *token,
                                 const struct tg_param *params, size_t nparams, const char *path,
                                 const char *filename, const struct tg_call_opts *opts,
                                 tg_done_fn done, void *arg)
{
  struct tg_call *call = tg_call_new(api, TG_KIND_DOC, token, "sendDocument", opts, done, arg);
  if(!call)
    return NULL;
  call->params = calloc(nparams ? nparams : 1, sizeof(*call->params));
  if(!call->params || asprintf(&call->url, "%s/bot%s/sendDocument", api->base_url, token) < 0)
    goto fail;
  for(size_t i = 0; i < nparams; i++) {
    call->params[i].name = strdup(params[i].name);
    call->params[i].value = strdup(params[i].value);
    call->nparams++;
    if(!call->params[i].name || !call->params[i].value)
      goto fail;
  }
  call->doc_path = strdup(path);
  call->doc_name = strdup(filename);
  if(!call->doc_path || !call->doc_name)
    goto fail;
  return tg_call_post(call);
fail:
  tg_call_free(call);
  return NULL;
}

/* file_path comes from the server: accept only what a path can be, so it
 * cannot smuggle a query, a fragment or a "../" into the URL. */
static bool tg_file_path_ok(const char *p)
{
  if(!*p || strlen(p) > 1024 || strstr(p, "..") || strstr(p, "//"))
    return false;
  for(; *p; p++) {
    char c = *p;
    if(!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '/' || c == '.' || c == '_' || c == '-' || c == ':' || c == '~'))
      return false;
  }
  return true;
}

struct tg_call *tg_download(struct tg_api *api, const char *token, const char *file_path,
                            uint64_t start, uint64_t stop, uint64_t total,
                            const struct tg_call_opts *opts, tg_sink_fn sink, void *sink_arg,
                            tg_done_fn done, void *arg)
{
  if(!tg_file_path_ok(file_path) || start >= stop || stop > total)
    return NULL;
  struct tg_call *call = tg_call_new(api, TG_KIND_DOWNLOAD, token, "download", opts, done, arg);
  if(!call)
    return NULL;
  if(asprintf(&call->url, "%s/file/bot%s%s%s", api->base_url, token,
              file_path[0] == '/' ? "" : "/", file_path) < 0) {
    call->url = NULL;
    tg_call_free(call);
    return NULL;
  }
  call->pos = start;
  call->stop = stop;
  call->total = total;
  call->sink = sink;
  call->sink_arg = sink_arg;
  return tg_call_post(call);
}

/* ---- blocking calls ---------------------------------------------------------- */

struct tg_sync {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool done;
  struct tg_result *out;
};

static void tg_sync_done(void *arg, struct tg_result *res)
{
  struct tg_sync *s = arg;
  pthread_mutex_lock(&s->lock);
  s->out->status = res->status;
  s->out->attempts = res->attempts;
  s->out->reply = res->reply;
  /* A copy of its own: the call's reference goes when this returns. */
  s->out->reply.result = res->reply.result ? json_deep_copy(res->reply.result) : NULL;
  if(res->reply.result && !s->out->reply.result) {
    s->out->status = TG_FAILED;
    s->out->reply.ok = false;
    snprintf(s->out->reply.description, sizeof(s->out->reply.description), "out of memory");
  }
  s->done = true;
  pthread_cond_signal(&s->cond);
  pthread_mutex_unlock(&s->lock);
}

enum tg_status tg_call_sync(struct tg_api *api, const char *token, const char *method,
                            const struct tg_param *params, size_t nparams,
                            const struct tg_call_opts *opts, struct tg_result *out)
{
  struct tg_sync s = {.done = false, .out = out};
  memset(out, 0, sizeof(*out));
  tg_reply_clear(&out->reply);
  out->status = TG_FAILED;
  if(tg_loop_on_thread(api->loop)) { /* would wait for itself */
    tg_reply_set_error(&out->reply, 0, "blocking call on the transfer thread");
    return TG_FAILED;
  }
  pthread_mutex_init(&s.lock, NULL);
  pthread_cond_init(&s.cond, NULL);
  if(!tg_call(api, token, method, params, nparams, opts, tg_sync_done, &s)) {
    tg_reply_set_error(&out->reply, 0, "cannot start the call");
  }
  else {
    pthread_mutex_lock(&s.lock);
    while(!s.done)
      pthread_cond_wait(&s.cond, &s.lock);
    pthread_mutex_unlock(&s.lock);
  }
  pthread_cond_destroy(&s.cond);
  pthread_mutex_destroy(&s.lock);
  return out->status;
}

/* ---- lifecycle --------------------------------------------------------------- */

struct tg_api *tg_api_new(const char *base_url, char *err, size_t errlen)
{
  struct tg_api *api = calloc(1, sizeof(*api));
  if(!api || !(api->base_url = strdup(base_url))) {
    snprintf(err, errlen, "telegram: out of memory");
    free(api);
    return NULL;
  }
  api->rng = (uint64_t)tg_loop_now() * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)api;
  atomic_init(&api->healthy, 1);
  api->loop = tg_loop_new(err, errlen);
  if(!api->loop) {
    free(api->base_url);
    free(api);
    return NULL;
  }
  return api;
}

void tg_api_free(struct tg_api *api)
{
  if(!api)
    return;
  tg_loop_free(api->loop);
  free(api->base_url);
  free(api);
}
