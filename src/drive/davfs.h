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

/** A resumable walk over a folder's children in davfs_children's order, a
 *  page at a time: each page is its own query after the last row seen, so
 *  a reply can stream a folder of any size in bounded memory. */
enum { DAVFS_FOLDERS, DAVFS_FILES, DAVFS_DONE };
struct davfs_cursor {
  char owner_id[ID_LEN + 1];
  char parent_id[ID_LEN + 1];    /* "" = root */
  int phase;                     /* DAVFS_FOLDERS, DAVFS_FILES, DAVFS_DONE */
  bool any;                      /* a row of this phase was seen: last* hold it */
  char last[NAME_MAX_BYTES + 1];
  int64_t last_created;
  char last_id[ID_LEN + 1];
  char **fnames;                 /* the folders' names (the duplicate rule) */
  size_t nf, capf;
  struct davfs_entry e;          /* the row handed to `each` */
};

void davfs_cursor_init(struct davfs_cursor *cur, const char *owner_id, const char *parent_id);
/** Calls `each` for up to `limit` more children (0: all the rest of the
 *  current phase). DRIVE_OK, each's non-zero result, or a fault. */
int davfs_cursor_next(struct davfs_cursor *cur, size_t limit,
                      int (*each)(const struct davfs_entry *e, void *arg), void *arg);
bool davfs_cursor_done(const struct davfs_cursor *cur);
void davfs_cursor_free(struct davfs_cursor *cur);

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
