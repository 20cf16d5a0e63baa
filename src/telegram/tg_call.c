/* tg_call: a call's life on the loop thread: each attempt waits for its
 * paces, runs, and is judged; a 429 waits retry_after (holding the paces),
 * transient failures back off, and `done` runs exactly once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "telegram/tg_api_priv.h"
#include "util/log.h"
#include "util/metric_list.h"

#define TG_ERROR_BODY_MAX 65536 /* error page kept from a failed download */

void tg_call_free(struct tg_call *call)
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

static void tg_call_done(void *arg, CURL *easy, CURLcode rc);

/* What went wrong with an attempt, as the metrics' kind label. */
static const char *tg_call_error_kind(CURLcode rc, long code, enum tg_class cls)
{
  if(cls == TG_CLASS_RATE)
    return "rate_limited";
  if(rc == CURLE_OPERATION_TIMEDOUT || code == 408)
    return "timeout";
  if(code >= 500)
    return "server_error";
  if(code >= 400)
    return "client_error";
  if(code == 0)
    return "network";
  return "bad_reply";  /* a 2xx whose body was garbled, cut or not what was asked */
}

/* Counts an attempt for /metrics: the call, and unless it succeeded the
 * kind of failure and whether it will be retried. */
static void tg_call_count(const struct tg_call *call, CURLcode rc, long code, enum tg_class cls)
{
  const char *op[] = {"telegram", call->method};
  metric_inc(&metric_storage_calls, op);
  if(cls == TG_CLASS_OK || call->cancelled)
    return;
  const char *kind = tg_call_error_kind(rc, code, cls);
  const char *err[] = {"telegram", kind};
  metric_inc(&metric_storage_errors, err);
  if(cls == TG_CLASS_RATE) {
    const char *be[] = {"telegram"};
    metric_inc(&metric_storage_rate_limited, be);
  }
  bool again = (cls == TG_CLASS_RATE && call->rate_limited < call->opts.max_rate_limited) ||
               (cls == TG_CLASS_RETRY && call->failures + 1 < call->opts.max_attempts);
  if(again)
    metric_inc(&metric_storage_retries, err);
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
  if(tg_attempt_prepare(call) != 0) {
    tg_attempt_end(call);
    tg_reply_set_error(&call->res.reply, 0, "out of memory");
    tg_call_finish(call, TG_FAILED);
    return;
  }
  call->res.attempts++;
  tg_loop_start(loop, call->easy, tg_call_done, call);
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
  enum tg_class cls = tg_attempt_judge(call, rc);
  tg_call_count(call, rc, code, cls);
  tg_call_land(call, cls == TG_CLASS_OK);
  tg_attempt_end(call);
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

struct tg_call *tg_call_new(struct tg_api *api, enum tg_kind kind, const char *token,
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
  snprintf(call->method, sizeof(call->method), "%s", method);
  if(asprintf(&call->what, "%s (bot %s)", method, masked) < 0) {
    call->what = NULL;
    tg_call_free(call);
    return NULL;
  }
  return call;
}

struct tg_call *tg_call_post(struct tg_call *call)
{
  if(tg_loop_post(call->api->loop, tg_call_attempt, call) != 0) {
    tg_call_free(call);
    return NULL;
  }
  return call;
}

