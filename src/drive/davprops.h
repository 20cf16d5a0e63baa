/* davprops: WebDAV dead properties (table dav_props), per item of a user
 * ('' = the root collection). */
#ifndef NETRA_DAVPROPS_H
#define NETRA_DAVPROPS_H
#include "drive/drive.h"

/** Calls each(arg, ns, name, value) for the item's properties (or only the
 *  one named, when `name` is not NULL); stops when it returns non-zero. */
int davprops_each(const char *owner_id, const char *item_id, const char *ns, const char *name,
                  int (*each)(void *arg, const char *ns, const char *name, const char *value),
                  void *arg);
/** Calls each(arg, item_id) for every item of the owner that has dead
 *  properties (a listing asks only those for them). */
int davprops_items(const char *owner_id, int (*each)(void *arg, const char *item_id), void *arg);
/** Sets (value != NULL) or removes properties in one transaction: n entries
 *  of ns[i], name[i], value[i]. */
int davprops_apply(const char *owner_id, const char *item_id, size_t n, const char *const *ns,
                   const char *const *name, const char *const *value);
/** Copies every property of `from` to `to` (COPY). */
int davprops_copy(const char *owner_id, const char *from, const char *to);

#endif
