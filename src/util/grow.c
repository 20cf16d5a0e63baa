/* grow: see grow.h. */
#include "util/grow.h"
#include <stdint.h>
#include <stdlib.h>

void *grow_room(void *v, size_t *cap, size_t n, size_t size, size_t first)
{
  if(n < *cap)
    return v;
  if(size == 0 || *cap > SIZE_MAX / 2)
    return NULL;
  size_t ncap = *cap ? *cap * 2 : first;
  if(ncap == 0 || ncap > SIZE_MAX / size)
    return NULL;
  void *grown = realloc(v, ncap * size);
  if(grown)
    *cap = ncap;
  return grown;
}
