/* strlist: the comma lists of the configuration ("a, b,,c"), read the same
 * way by config, CORS and the Telegram backend: items are trimmed of spaces
 * and tabs, empty items are skipped. No allocation. */
#ifndef NETRA_STRLIST_H
#define NETRA_STRLIST_H
#include <stdbool.h>
#include <stddef.h>

struct strlist_iter {
  const char *p;  /* the rest of the list; NULL at the end */
};

/** Starts iterating `list` (NULL reads as an empty list). */
void strlist_begin(struct strlist_iter *it, const char *list);
/** The next non-empty trimmed item: *item points into the list, *len is its
 *  length (not NUL-terminated). False when the list is exhausted. */
bool strlist_next(struct strlist_iter *it, const char **item, size_t *len);
/** Copies the items into `items` (each of `itemsz` bytes, NUL-terminated).
 *  Returns the count, or -1 when there are more than `max` or one does not
 *  fit. */
int strlist_split(const char *list, char *items, size_t itemsz, int max);

#endif
