/* mail: outgoing email over SMTP (libcurl) from one background thread.
 *
 * Request threads only format a message and append it to a bounded queue;
 * the worker sends it, with timeouts and a few retries, so no request ever
 * waits on a mail server. Messages are plain text in UTF-8 with CRLF line
 * endings; every header value is checked so user-supplied text can never
 * start a new header. libcurl performs the SMTP dot-stuffing of the body
 * (a line starting with "." goes out as ".."), so the text is queued as is. */
#ifndef NETRA_MAIL_H
#define NETRA_MAIL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Messages waiting at most; mail_queue refuses beyond this. */
#define MAIL_QUEUE_MAX 256

/** Starts the worker for `smtp_url` (smtp:// or smtps://, credentials may be
 *  in the URL) sending as `from` ("addr@host" or "Name <addr@host>"). With a
 *  NULL or empty URL, mail stays disabled and this returns 0. Returns 0, or
 *  -1 with a message in err. */
int mail_start(const char *smtp_url, const char *from, char *err, size_t errlen);

/** True when mail_start started a worker (SMTP is configured). */
bool mail_enabled(void);

/** Formats and queues a message. `to` must be a plain address, `subject`
 *  printable ASCII, `body` UTF-8 text with '\n' line ends (converted to CRLF).
 *  Returns 0 when queued, -1 when mail is disabled, a value would break the
 *  message format, or the queue is full (each logged). */
int mail_queue(const char *to, const char *subject, const char *body);

/** Stops the worker: keeps sending what is queued for up to `grace_ms`,
 *  then drops the rest (logged) and joins. A no-op when not started. */
void mail_stop(int grace_ms);

/** Builds the full message text (headers, blank line, body) into a malloc'd
 *  *out. `from_header` is the From value, `msgid_domain` the right-hand side
 *  of the Message-ID. Returns 0, or -1 for invalid input. Exposed for tests. */
int mail_format(char **out, const char *from_header, const char *msgid_domain, const char *to,
                const char *subject, const char *body, int64_t now_ms);

#endif
