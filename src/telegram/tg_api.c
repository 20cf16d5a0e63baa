/* tg_api: Bot API calls with retries on the tg_loop thread (see tg_api.h).
 * This file: the API object, starting each kind of call, and blocking calls;
 * a call's life is in tg_call.c, one attempt's exchange in tg_attempt.c. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "telegram/tg_api_priv.h"

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

/* ---- starting calls --------------------------------------------------------- */

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
