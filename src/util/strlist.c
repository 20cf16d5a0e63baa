/* strlist: see strlist.h. */
#include <string.h>
#include "util/strlist.h"

void strlist_begin(struct strlist_iter *it, const char *list)
{
  it->p = list;
}

static bool strlist_blank(char c)
{
  return c == ' ' || c == '\t';
}

bool strlist_next(struct strlist_iter *it, const char **item, size_t *len)
{
  while(it->p) {
    const char *p = it->p;
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    it->p = end ? end + 1 : NULL;
    while(n && strlist_blank(*p))
      p++, n--;
    while(n && strlist_blank(p[n - 1]))
      n--;
    if(n) {
      *item = p;
      *len = n;
      return true;
    }
  }
  return false;
}

int strlist_split(const char *list, char *items, size_t itemsz, int max)
{
  struct strlist_iter it;
  const char *item;
  size_t len;
  int n = 0;
  strlist_begin(&it, list);
  while(strlist_next(&it, &item, &len)) {
    if(n == max || len >= itemsz)
      return -1;
    memcpy(items + (size_t)n * itemsz, item, len);
    items[(size_t)n * itemsz + len] = 0;
    n++;
  }
  return n;
}
