/* tg_api_priv: the state behind tg_api.h, shared by tg_api.c (the API
 * object and starting calls), tg_call.c (a call's life over its attempts:
 * pacing, retries, cancel) and tg_attempt.c (one attempt's HTTP exchange).
 * Private to those files. */
#ifndef NETRA_TG_API_PRIV_H
#define NETRA_TG_API_PRIV_H
#include <stdatomic.h>
#include "telegram/tg_api.h"
#include "telegram/tg_retry.h"
#include "util/buf.h"

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
  char method[24];           /* "sendDocument": the metrics' op label */
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

/* tg_call.c */
/** A call of `kind` for `method` (for the log) with its options defaulted;
 *  the caller fills in its URL and body, then tg_call_post. NULL when out
 *  of memory. */
struct tg_call *tg_call_new(struct tg_api *api, enum tg_kind kind, const char *token,
                            const char *method, const struct tg_call_opts *opts,
                            tg_done_fn done, void *arg);
/** Posts the call's first attempt to the loop: the call, or NULL (freed,
 *  `done` never runs). */
struct tg_call *tg_call_post(struct tg_call *call);
/** Frees a call whose `done` has run or never will. */
void tg_call_free(struct tg_call *call);

/* tg_attempt.c */
/** Sets up a curl easy handle for the call's next attempt. -1 when out of
 *  memory (then tg_attempt_end cleans up). */
int tg_attempt_prepare(struct tg_call *call);
/** Fills call->res.reply from the finished attempt and classifies it. */
enum tg_class tg_attempt_judge(struct tg_call *call, CURLcode rc);
/** Releases the attempt's handle, form and body. */
void tg_attempt_end(struct tg_call *call);

#endif
