#include "util/buf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int buf_grow(buf_t *b, size_t extra);

void buf_init(buf_t *b, size_t max)
{
  b->data = NULL;
  b->len = b->cap = 0;
  b->max = max;
}

int buf_reserve(buf_t *b, size_t n)
{
  return n > b->len ? buf_grow(b, n - b->len) : BUF_OK;
}

void buf_free(buf_t *b)
{
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void buf_reset(buf_t *b)
{
  b->len = 0;
  if(b->data)
    b->data[0] = 0;
}

/* Makes room for `extra` more bytes plus the terminating NUL. */
static int buf_grow(buf_t *b, size_t extra)
{
  if(extra > b->max || b->len > b->max - extra)
    return BUF_TOO_BIG;
  size_t need = b->len + extra + 1;
  if(need <= b->cap)
    return BUF_OK;
  size_t cap = b->cap ? b->cap : 64;
  while(cap < need)
    cap *= 2;
  char *p = realloc(b->data, cap);
  if(!p)
    return BUF_NOMEM;
  b->data = p;
  b->cap = cap;
  return BUF_OK;
}

int buf_append(buf_t *b, const void *p, size_t n)
{
  /* The common case, room already there, without the bound arithmetic. */
  if(n >= b->cap - b->len || b->len + n > b->max) {
    int rc = buf_grow(b, n);
    if(rc)
      return rc;
  }
  if(n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = 0;
  return BUF_OK;
}

int buf_puts(buf_t *b, const char *s)
{
  return buf_append(b, s, strlen(s));
}

int buf_vprintf(buf_t *b, const char *fmt, va_list ap)
{
  /* One pass into the room already there (the common case): measuring
   * first with vsnprintf(NULL, 0) costs as much as the printing itself. */
  va_list ap2;
  va_copy(ap2, ap);
  size_t room = b->cap > b->len ? b->cap - b->len : 0;
  int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap2);
  va_end(ap2);
  if(n < 0) {
    if(room)
      b->data[b->len] = 0;
    return BUF_NOMEM;
  }
  if((size_t)n < room && b->len + (size_t)n <= b->max) {
    b->len += (size_t)n;
    return BUF_OK;
  }
  if(room)
    b->data[b->len] = 0;   /* unchanged on failure, as the header promises */
  int rc = buf_grow(b, (size_t)n);
  if(rc)
    return rc;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return BUF_OK;
}

int buf_printf(buf_t *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int rc = buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

char *buf_steal(buf_t *b)
{
  char *p = b->data;
  if(!p)
    p = calloc(1, 1);
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}
