/* render: the JSON shapes of API §2 for the objects the API returns, written
 * straight into a buffer (util/jsonw): a listing of thousands of rows never
 * builds a tree. The bytes are what jansson's compact dump would give. */
#ifndef NETRA_RENDER_H
#define NETRA_RENDER_H
#include <jansson.h>
#include <stddef.h>
#include "drive/files.h"
#include "drive/folders.h"
#include "http/http.h"
#include "util/buf.h"

/** Largest single object: names are at most 255 bytes, 6 per escape. */
#define RENDER_OBJECT_MAX (16 * 1024)

/** Appends a Folder object: {"_id","id","type":"folder","name",
 *  "parent_id"|null,"owner_id","size","created_at","updated_at","is_deleted",
 *  "is_starred","deleted_at"|null}. BUF_OK or a buf error. */
int render_folder(buf_t *out, const struct folder *f);
/** The same members without the braces (a tree node adds "children"). */
int render_folder_fields(buf_t *out, const struct folder *f);

/** Appends a File object: {"_id","id","type":"file","name","mime_type",
 *  "size","folder_id"|null,"owner_id","hash","created_at","updated_at",
 *  "is_deleted","is_starred","deleted_at"|null}. No storage internals. */
int render_file(buf_t *out, const struct file_rec *f);

/** Appends one node of the tree (an array of Folder objects, each with a
 *  "children" array): "{" its fields and the opened "children" array; the
 *  caller closes it with "]}" after its children. BUF_OK or a buf error. */
int render_tree_open(const struct folder *f, buf_t *out);

/** Breadcrumbs: [{"id","name"}, ...] in the given order. */
json_t *render_folder_path(const struct folder_crumb *crumbs, size_t count);

/** Replies with the JSON text in `body` (taken over), or 500 when `rc`, the
 *  result of writing it, is not BUF_OK. */
int render_reply(struct http_req *r, unsigned status, buf_t *body, int rc);
/** Replies with one Folder / File object. */
int render_reply_folder(struct http_req *r, unsigned status, const struct folder *f);
int render_reply_file(struct http_req *r, unsigned status, const struct file_rec *f);

#endif
