/* dav_props: dead properties (PROPPATCH) and lock discovery, rendered into
 * a PROPFIND answer. */
#ifndef NETRA_DAV_PROPS_H
#define NETRA_DAV_PROPS_H
#include "util/buf.h"

/** Appends every dead property of the item as an element with its value. */
void dav_props_all(const char *user_id, const char *item_id, buf_t *b);
/** Appends every dead property's name as an empty element. */
void dav_props_names(const char *user_id, const char *item_id, buf_t *b);
/** Appends one dead property; 0 when it exists, 1 when not. */
int dav_props_one(const char *user_id, const char *item_id, const char *ns, const char *name,
                  buf_t *b);

#endif
