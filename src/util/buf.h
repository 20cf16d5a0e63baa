/* buf: a bounded growable byte buffer (in the spirit of curl's dynbuf).
 * Every buffer that holds outside input has a maximum size; appending past it
 * fails with BUF_TOO_BIG and leaves the buffer unchanged. */
#ifndef NETRA_BUF_H
#define NETRA_BUF_H
#include <stddef.h>
#include <stdarg.h>

#define BUF_OK 0
#define BUF_NOMEM (-1)
#define BUF_TOO_BIG (-2)

typedef struct buf {
  char *data;   /* always NUL-terminated when non-NULL */
  size_t len;
  size_t cap;
  size_t max;   /* hard limit on len */
} buf_t;

/** Initialises an empty buffer that may grow up to `max` bytes. */
void buf_init(buf_t *b, size_t max);
/** Makes room for `n` bytes in all (within the maximum), so appends up to
 *  that need no reallocation. BUF_OK or an error. */
int buf_reserve(buf_t *b, size_t n);
/** Frees the storage; the buffer may be reused after buf_init. */
void buf_free(buf_t *b);
/** Empties the buffer, keeping its storage. */
void buf_reset(buf_t *b);
/** Appends `n` bytes. */
int buf_append(buf_t *b, const void *p, size_t n);
/** Appends a NUL-terminated string. */
int buf_puts(buf_t *b, const char *s);
/** Appends printf-formatted text. */
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf_t *b, const char *fmt, va_list ap);
/** Hands the storage to the caller (who frees it); the buffer becomes empty. */
char *buf_steal(buf_t *b);

#endif
