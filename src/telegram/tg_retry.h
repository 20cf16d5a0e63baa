/* tg_retry: what to do after one attempt of a Bot API call or download, and
 * how long to wait before the next. Pure functions, so the policy can be
 * unit-tested without a network. */
#ifndef NETRA_TG_RETRY_H
#define NETRA_TG_RETRY_H
#include <stdbool.h>
#include <stdint.h>

enum tg_class {
  TG_CLASS_OK = 0,  /* done */
  TG_CLASS_RATE,    /* 429: wait exactly retry_after, then again */
  TG_CLASS_RETRY,   /* 5xx, timeout, dropped connection, truncated or garbled body */
  TG_CLASS_FAIL     /* permanent (4xx, bad request, local error) */
};

#define TG_BACKOFF_BASE_MS 500
#define TG_BACKOFF_CAP_MS 30000

/** Classifies an attempt. `curl_code` is libcurl's result for the transfer
 *  (0 = the exchange completed); `status` the Bot API error_code or the HTTP
 *  status; `well_formed` whether the body was what the call expects (a
 *  valid envelope, or every requested byte of a download). */
enum tg_class tg_classify(int curl_code, int status, bool well_formed);

/** Delay before retry number `retry` (1 = the first retry): exponential from
 *  TG_BACKOFF_BASE_MS, capped at TG_BACKOFF_CAP_MS, with "equal jitter"
 *  (half fixed, half random from `rnd`) so parallel transfers that failed
 *  together do not come back together. */
int64_t tg_backoff_ms(int retry, uint32_t rnd);

/** A small xorshift generator for jitter (not for secrets). */
uint32_t tg_rand(uint64_t *state);

#endif
