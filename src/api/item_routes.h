/* items: the item actions of API §6 (/api/v1/{item_type}/{id}/{action}).
 * items.c parses the route and dispatches by item type to a handler that
 * each resource module (folders.c, files.c) provides. */
#ifndef NETRA_ITEMS_H
#define NETRA_ITEMS_H
#include <jansson.h>
#include "http/http.h"

enum item_action {
  ITEM_RENAME = 0,  /* body {"new_name"} */
  ITEM_MOVE,        /* body {"new_parent_id"}: null/absent/"root" = root */
  ITEM_STAR,
  ITEM_UNSTAR,
  ITEM_BIN,         /* replies {"message"} */
  ITEM_RESTORE      /* replies {"message"} */
};

/** Performs `action` on item `id` of the caller (r->user_id) and replies:
 *  200 with the updated object (bin, restore: {"message"}), or an error.
 *  `body` is the parsed JSON body for rename and move (borrowed); the other
 *  actions take none and may be given NULL. */
typedef int (*item_action_fn)(struct http_req *r, enum item_action action, const char *id,
                              const json_t *body);

/** The folder side (api/folders.c). */
int api_folder_item_action(struct http_req *r, enum item_action action, const char *id,
                           const json_t *body);

/** The file side (api/files.c). */
int api_file_item_action(struct http_req *r, enum item_action action, const char *id,
                         const json_t *body);

#endif
