/* davfs: a user's drive seen as a WebDAV tree of names. Folders are found
 * by their exact name under a parent (live siblings never share one). Files
 * may share a name in a folder, but a WebDAV path names one thing, so:
 * a live folder keeps the name, then the oldest live file with it (by
 * created_at, then id); every other file with that name is shown as
 * "stem~XXXXXXXX.ext", XXXXXXXX the first 8 characters of its id (stable,
 * as ids never change). docs/DECISIONS.md "WebDAV names". */
#ifndef NETRA_DAVFS_H
#define NETRA_DAVFS_H
#include <stdbool.h>
#include "drive/files.h"
#include "drive/folders.h"

/** Room for a name with its suffix. */
#define DAVFS_NAME_MAX (NAME_MAX_BYTES + 16)

/** One child of a folder as WebDAV shows it. */
struct davfs_entry {
  bool is_folder;
  struct folder fo;             /* is_folder */
  struct file_rec fi;           /* !is_folder */
  char name[DAVFS_NAME_MAX];    /* the name in the path */
};

/** The live folder named exactly `name` under `parent_id` (NULL = root).
 *  DRIVE_OK, DRIVE_NOT_FOUND or a fault. */
int davfs_folder(const char *owner_id, const char *parent_id, const char *name,
                 struct folder *out);

/** The live file whose WebDAV name under `parent_id` is `name` (the rule
 *  above; a folder of that name wins, so then DRIVE_NOT_FOUND). */
int davfs_file(const char *owner_id, const char *parent_id, const char *name,
               struct file_rec *out);

/** Calls `each` for every live child of `parent_id` (folders, then files by
 *  name), until it returns non-zero (that becomes the result). */
int davfs_children(const char *owner_id, const char *parent_id,
                   int (*each)(const struct davfs_entry *e, void *arg), void *arg);

/** True when `parent_id` has a live child (folder or file). */
int davfs_has_children(const char *owner_id, const char *parent_id, bool *out);

/** A new file `name` in `folder_id` (NULL = root) with the content of the
 *  owner's live file `file_id`: the content gains a reference, no bytes are
 *  copied. Sizes and usage follow. Fills *out. DRIVE_INVALID (*why) for a
 *  bad name, DRIVE_NOT_FOUND for a missing file or folder. */
int davfs_copy_file(const char *owner_id, const char *file_id, const char *folder_id,
                    const char *name, struct file_rec *out, const char **why);

/** Sets a live file's modification time (updated_at, ms). */
int davfs_set_mtime(const char *owner_id, const char *file_id, int64_t mtime_ms);

#endif
