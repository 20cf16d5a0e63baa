/* fetch: downloads over HTTP(S) for uploads from a URL. Every transfer runs
 * on one thread with libcurl's multi interface, so no request thread ever
 * waits on a remote server. The owner's callbacks run on that thread; other
 * threads hand work to it with fetch_post.
 *
 * The SSRF guard lives here: only http and https (redirects too, at most
 * `max_redirects`), and unless private addresses are allowed, the address
 * of every connection (the URL's and each redirect's, as resolved) is
 * checked in libcurl's open-socket callback, right before connect, so a
 * DNS answer that changes after a check cannot get through. Environment
 * proxies are ignored (the proxy's address would be the one checked). */
#ifndef NETRA_FETCH_H
#define NETRA_FETCH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util/cidr.h"

#define FETCH_URL_MAX 8192      /* longest URL accepted */
#define FETCH_HEADER_MAX 1024   /* longest ETag / Last-Modified / Content-Disposition kept */

/* Outcomes for done(); the error text says more. */
enum {
  FETCH_OK = 0,
  FETCH_ERR = -1,           /* the transfer failed (network, source, guard) */
  FETCH_ERR_TOO_BIG = -2,   /* over max_size */
  FETCH_ERR_ABORTED = -3,   /* the owner's callback or fetch_abort stopped it */
};

/* What data() returns. */
enum { FETCH_DATA_OK = 0, FETCH_DATA_PAUSE = 1, FETCH_DATA_ABORT = -1 };

/** The final response's head (after redirects). Strings are "" when absent. */
struct fetch_head {
  long status;
  int64_t content_length;   /* -1 = not announced */
  bool accept_ranges;       /* Accept-Ranges: bytes */
  int64_t range_start;      /* a 206's Content-Range first byte; -1 = none */
  const char *etag, *last_modified, *disposition;
};

struct fetch_ops {
  /** The head, before the first body byte; non-zero aborts (FETCH_ERR_ABORTED). */
  int (*head)(void *arg, const struct fetch_head *h);
  /** Body bytes: FETCH_DATA_OK (consumed), FETCH_DATA_PAUSE (not consumed:
   *  offered again after fetch_resume) or FETCH_DATA_ABORT. */
  int (*data)(void *arg, const char *p, size_t n);
  /** The end, exactly once: FETCH_OK or an error with a sentence for the
   *  user. The transfer is freed once this returns. */
  void (*done)(void *arg, int rc, const char *error);
};

struct fetch_request {
  const char *url;
  bool allow_private;       /* ALLOW_PRIVATE_URLS: skip the address check */
  const struct cidr_list *allowed; /* internal ranges allowed all the same (NULL: none) */
  long connect_timeout_s;   /* to connect, per attempt */
  long idle_timeout_s;      /* abort after this long without a byte (pauses of ours excluded) */
  long max_redirects;
  uint64_t max_size;        /* 0 = no limit; checked against Content-Length too */
  uint64_t range_from;      /* > 0: ask for the bytes from here on (Range) ... */
  const char *if_range;     /* ... only if the source still has this version
                             * (If-Range: an ETag or a Last-Modified date) */
};

struct fetch;

/** Starts the fetch thread (call once, after curl_global_init). 0 or -1. */
int fetch_start(void);
/** Stops the thread; transfers still running end with FETCH_ERR_ABORTED. */
void fetch_stop(void);
/** Runs fn(arg) on the fetch thread soon. Any thread; never blocks for
 *  long. 0, or -1 (out of memory, or stopped). */
int fetch_post(void (*fn)(void *), void *arg);

/** Fetch thread only (from a posted function or a callback of another
 *  transfer): starts a GET. NULL with *error set when it cannot start. */
struct fetch *fetch_begin(const struct fetch_request *rq, const struct fetch_ops *ops, void *arg,
                          const char **error);
/** Fetch thread only, not inside this transfer's callbacks: goes on after
 *  data() asked for a pause. */
void fetch_resume(struct fetch *f);
/** Fetch thread only, not inside this transfer's callbacks: stops it now;
 *  done() runs with FETCH_ERR_ABORTED before this returns. */
void fetch_abort(struct fetch *f);

/** Checks a URL before any job exists: a well-formed http(s) URL whose
 *  host, when it is an IP literal, is allowed. 0, or -1 with a sentence
 *  for the user in `why`. */
int fetch_check_url(const char *url, bool allow_private, const struct cidr_list *allowed,
                    char *why, size_t whysz);
/** The URL without what may be secret (userinfo, query, fragment), for logs. */
void fetch_redact(const char *url, char *out, size_t outsz);

#endif
