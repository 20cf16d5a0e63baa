/* ft_buf: bounded growable buffer. */
#include "ft_buf.h"

#include <stdlib.h>
#include <string.h>

void ft_buf_init(struct ft_buf *b, size_t max)
{
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
}

int ft_buf_append(struct ft_buf *b, const void *p, size_t len)
{
  size_t need;

  if(len > b->max || b->len > b->max - len)
    return -1;
  need = b->len + len + 1; /* room for the terminating NUL */
  if(need > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    char *nd;
    while(cap < need)
      cap *= 2;
    nd = realloc(b->data, cap);
    if(!nd)
      return -1;
    b->data = nd;
    b->cap = cap;
  }
  if(len)
    memcpy(b->data + b->len, p, len);
  b->len += len;
  b->data[b->len] = '\0';
  return 0;
}

void ft_buf_free(struct ft_buf *b)
{
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}
