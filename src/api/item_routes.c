/* items: /api/v1/{item_type}/{id}/{rename|move|star|unstar|bin|restore}
 * (API §6; bin and restore also answer under the folder and file routes) and
 * DELETE /api/v1/bin. The item type picks a handler from item_kinds; singular
 * and plural both work, anything else is 404. */
#include <string.h>
#include "api/api.h"
#include "api/item_routes.h"
#include "drive/bin.h"

static const struct item_kind {
  const char *one;
  const char *many;
  item_action_fn act;
} item_kinds[] = {
  {"folder", "folders", api_folder_item_action},
  {"file", "files", api_file_item_action},
};

static int items_dispatch(struct http_req *r, enum item_action action)
{
  if(!api_settled(r))
    return 0;
  const char *type = http_param(r, "item_type");
  const struct item_kind *kind = NULL;
  for(size_t i = 0; i < sizeof(item_kinds) / sizeof(item_kinds[0]); i++) {
    if(!strcmp(type, item_kinds[i].one) || !strcmp(type, item_kinds[i].many))
      kind = &item_kinds[i];
  }
  if(!kind)
    return http_reply_error(r, HTTP_NOT_FOUND, "Not Found");
  /* Rename and move read a JSON body; the other actions ignore any body. */
  json_t *body = NULL;
  if(action == ITEM_RENAME || action == ITEM_MOVE) {
    body = http_json_body(r, false);
    if(!body)
      return 0; /* it replied */
  }
  int rc = kind->act(r, action, http_param(r, "id"), body);
  json_decref(body);
  return rc;
}

static int items_rename(struct http_req *r)
{
  return items_dispatch(r, ITEM_RENAME);
}

static int items_move(struct http_req *r)
{
  return items_dispatch(r, ITEM_MOVE);
}

static int items_star(struct http_req *r)
{
  return items_dispatch(r, ITEM_STAR);
}

static int items_unstar(struct http_req *r)
{
  return items_dispatch(r, ITEM_UNSTAR);
}

static int items_bin(struct http_req *r)
{
  return items_dispatch(r, ITEM_BIN);
}

static int items_restore(struct http_req *r)
{
  return items_dispatch(r, ITEM_RESTORE);
}

/* DELETE /api/v1/bin: empties the caller's bin. */
static int items_bin_empty(struct http_req *r)
{
  if(!api_settled(r))
    return 0;
  int rc = drive_bin_empty(api_user_id(r));
  if(rc)
    return api_reply_error(r, rc, NULL);
  return http_reply_json(r, HTTP_OK, json_pack("{s:s}", "message", "Bin emptied"));
}

const struct http_route api_item_routes[] = {
  {"PUT", "/api/v1/{item_type}/{id}/rename", items_rename, HTTP_AUTH, NULL},
  {"PUT", "/api/v1/{item_type}/{id}/move", items_move, HTTP_AUTH, NULL},
  {"PUT", "/api/v1/{item_type}/{id}/star", items_star, HTTP_AUTH, NULL},
  {"PUT", "/api/v1/{item_type}/{id}/unstar", items_unstar, HTTP_AUTH, NULL},
  {"PUT", "/api/v1/{item_type}/{id}/bin", items_bin, HTTP_AUTH, NULL},
  {"PUT", "/api/v1/{item_type}/{id}/restore", items_restore, HTTP_AUTH, NULL},
  {"DELETE", "/api/v1/bin", items_bin_empty, HTTP_AUTH, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
