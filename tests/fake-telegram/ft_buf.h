/* ft_buf: a growable byte buffer with a hard maximum (curl's dynbuf idea),
 * used for every request body the fake keeps in memory. */
#ifndef FT_BUF_H
#define FT_BUF_H
#include <stddef.h>

struct ft_buf {
  char *data;   /* NUL-terminated when non-NULL */
  size_t len;
  size_t cap;
  size_t max;   /* len never exceeds this */
};

/** Prepares an empty buffer that may grow up to `max` bytes. */
void ft_buf_init(struct ft_buf *b, size_t max);
/** Appends `len` bytes; -1 when that would pass the maximum or memory ran out. */
int ft_buf_append(struct ft_buf *b, const void *p, size_t len);
/** Frees the storage; the buffer is empty afterwards. */
void ft_buf_free(struct ft_buf *b);

#endif
