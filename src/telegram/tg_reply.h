/* tg_reply: strict parsing of a Bot API reply. Every method answers
 * {"ok":true,"result":...} or {"ok":false,"error_code":N,"description":"...",
 * "parameters":{"retry_after":N}}; anything else (an HTML page from a proxy,
 * a truncated body, a JSON array) is an error that carries the HTTP status. */
#ifndef NETRA_TG_REPLY_H
#define NETRA_TG_REPLY_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define TG_REPLY_MAX (1024 * 1024) /* cap on a JSON reply body we read */
#define TG_DESC_MAX 200            /* description kept (truncated beyond) */
#define TG_RETRY_AFTER_MAX 3600    /* a longer retry_after is clamped */

struct tg_reply {
  bool ok;                       /* ok:true with a result and HTTP 200 */
  bool envelope;                 /* the body was a well-formed envelope */
  int http_status;
  int error_code;                /* !ok: error_code, or the HTTP status */
  int retry_after;               /* seconds from parameters or Retry-After; -1 = none */
  char description[TG_DESC_MAX]; /* !ok: printable one-line text */
  json_t *result;                /* ok: owned reference */
};

/** Parses `len` bytes of a reply that came with `http_status`. `r` must be
 *  zeroed or hold an earlier reply (its result is released).
 *  `retry_after_header` is the Retry-After header in seconds (-1 when
 *  absent); the JSON parameters win when both are there. Always fills `r`
 *  (release it with tg_reply_clear); returns 0 when r->ok, else -1. */
int tg_reply_parse(struct tg_reply *r, int http_status, const char *body, size_t len,
                   int retry_after_header);

/** Releases the result and resets `r`. */
void tg_reply_clear(struct tg_reply *r);

/** Sets `r` (zeroed or an earlier reply) to an error that never reached
 *  the Bot API (transport failure, cancelled call): error_code 0. */
void tg_reply_set_error(struct tg_reply *r, int http_status, const char *why);

#endif
