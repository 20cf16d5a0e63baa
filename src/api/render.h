/* render: the JSON shapes of API §2 for the objects the API returns. One
 * function per object; the file renderer joins the folder ones here. */
#ifndef NETRA_RENDER_H
#define NETRA_RENDER_H
#include <jansson.h>
#include <stddef.h>
#include "drive/files.h"
#include "drive/folders.h"
#include "util/buf.h"

/** A Folder object: {"_id","id","type":"folder","name","parent_id"|null,
 *  "owner_id","size","created_at","updated_at","is_deleted","is_starred",
 *  "deleted_at"|null}. New reference, NULL when out of memory. */
json_t *render_folder(const struct folder *f);

/** Appends the tree as JSON text: an array of Folder objects, each with a
 *  "children" array, siblings in the tree's order. Iterative with an explicit
 *  stack, so any depth is fine. BUF_OK or a buf error. */
int render_folder_tree(const struct folder_tree *t, buf_t *out);

/** Breadcrumbs: [{"id","name"}, ...] in the given order. */
json_t *render_folder_path(const struct folder_crumb *crumbs, size_t count);

/** A File object: {"_id","id","type":"file","name","mime_type","size",
 *  "folder_id"|null,"owner_id","hash","created_at","updated_at","is_deleted",
 *  "is_starred","deleted_at"|null}. No storage internals. New reference. */
json_t *render_file(const struct file_rec *f);

#endif
