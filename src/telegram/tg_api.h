/* tg_api: Bot API calls on the tg_loop thread, with the retry policy built
 * in: a 429 waits exactly retry_after (and holds back the paces the call
 * names), 5xx / timeouts / dropped connections / truncated or garbled bodies
 * back off exponentially with jitter, a bounded number of times; 4xx fail at
 * once. Calls may be started from any thread; their callbacks always run on
 * the loop thread, exactly once. Reply bodies are capped (TG_REPLY_MAX). */
#ifndef NETRA_TG_API_H
#define NETRA_TG_API_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "telegram/tg_loop.h"
#include "telegram/tg_pace.h"
#include "telegram/tg_reply.h"

#define TG_DEFAULT_ATTEMPTS 8      /* attempts allowed for transient failures */
#define TG_DEFAULT_RATE_LIMITED 30 /* 429s tolerated before giving up */
#define TG_TOKEN_MASKED_MAX 40

struct tg_api;
struct tg_call;

struct tg_param {
  const char *name;
  const char *value;
};

struct tg_call_opts {
  int max_attempts;        /* 0 = TG_DEFAULT_ATTEMPTS */
  int max_rate_limited;    /* 0 = TG_DEFAULT_RATE_LIMITED */
  struct tg_pace *pace[2]; /* waited for and taken before each attempt, landed
                            * when it ends, blocked by a 429 (loop-thread
                            * state; NULL = none) */
  bool first_paced;        /* the caller took the paces for the first attempt:
                            * the call lands them when that attempt ends, or
                            * the caller does when no call is returned */
  long timeout_s;          /* whole-exchange limit; 0 = the default for the kind */
};

enum tg_status { TG_OK = 0, TG_FAILED, TG_CANCELLED };

struct tg_result {
  enum tg_status status;
  struct tg_reply reply; /* the last reply: ok + result, or the error */
  int attempts;
};

/** A call finished. `res` (and reply.result) live until the callback returns. */
typedef void (*tg_done_fn)(void *arg, struct tg_result *res);

/** Download data at offset `off` of the file; returns how many bytes it took.
 *  Taking fewer than `n` ends the download early, successfully. Runs inside
 *  a curl callback: it must not start transfers. */
typedef size_t (*tg_sink_fn)(void *arg, uint64_t off, const char *data, size_t n);

/** Starts the loop thread for the Bot API at `base_url` (no trailing slash).
 *  curl_global_init must have been called (see tg_loop_new). */
struct tg_api *tg_api_new(const char *base_url, char *err, size_t errlen);
/** Cancels what is pending (callbacks run with TG_CANCELLED), stops, frees. */
void tg_api_free(struct tg_api *api);
/** The loop the calls run on (for the caller's own posts and timers). */
struct tg_loop *tg_api_loop(struct tg_api *api);
/** False after a call could not reach the server, until one does. */
bool tg_api_healthy(struct tg_api *api);

/** Calls `method` with form parameters. Returns the call when started
 *  (`done` will run), NULL when not (then `done` never runs). The handle is
 *  only for tg_call_cancel on the loop thread, until `done` has run. */
struct tg_call *tg_call(struct tg_api *api, const char *token, const char *method,
                        const struct tg_param *params, size_t nparams,
                        const struct tg_call_opts *opts, tg_done_fn done, void *arg);

/** sendDocument as multipart/form-data: `params` plus a "document" file part
 *  read from `path` (at each attempt) under the name `filename`. */
struct tg_call *tg_send_document(struct tg_api *api, const char *token,
                                 const struct tg_param *params, size_t nparams, const char *path,
                                 const char *filename, const struct tg_call_opts *opts,
                                 tg_done_fn done, void *arg);

/** Downloads bytes [start, stop) of a `total`-byte file at `file_path` (from
 *  getFile) into `sink`, with a Range header unless the whole file is
 *  wanted. A retry resumes where the data stopped. */
struct tg_call *tg_download(struct tg_api *api, const char *token, const char *file_path,
                            uint64_t start, uint64_t stop, uint64_t total,
                            const struct tg_call_opts *opts, tg_sink_fn sink, void *sink_arg,
                            tg_done_fn done, void *arg);

/** Gives up a call (loop thread, before its `done` ran): a wait for a retry
 *  ends, a transfer in flight is aborted, except a document whose body was
 *  sent whole (it may be stored already: it runs to its answer, so the
 *  message is never lost). `done` then runs on a later turn with
 *  TG_CANCELLED, or with the real outcome when the exchange completed. */
void tg_call_cancel(struct tg_call *call);

/** Blocking tg_call for threads other than the loop's (start-up checks,
 *  deletes). Fills `out`; out->reply.result is the caller's (release with
 *  tg_reply_clear). Returns out->status, TG_FAILED when it cannot start. */
enum tg_status tg_call_sync(struct tg_api *api, const char *token, const char *method,
                            const struct tg_param *params, size_t nparams,
                            const struct tg_call_opts *opts, struct tg_result *out);

/** "123456:****": a token for messages (the bot id is public, the secret not). */
void tg_token_mask(const char *token, char out[TG_TOKEN_MASKED_MAX]);

#endif
