/* grow: room for one more element at the end of a growable array. */
#ifndef NETRA_GROW_H
#define NETRA_GROW_H
#include <stddef.h>

/** The array `v` (room for `*cap` elements of `size` bytes, `n` in use)
 *  with room for one more: `v` itself while n < *cap, else the array
 *  reallocated to twice its room (`first` elements when it had none) and
 *  *cap updated. NULL when out of memory or the size would overflow: then
 *  `v` and *cap are unchanged and still the caller's. */
void *grow_room(void *v, size_t *cap, size_t n, size_t size, size_t first);

#endif
