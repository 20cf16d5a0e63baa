/* folder_tree_keyed: the tree read in its stored order (migration 022,
 * drive/folder_key.h): a page of the owner's live folders in tree_key
 * order at a time, after the last key read; the ids of the folders open
 * are the walk's only other state (memory bounded by page and depth).
 * Used by folder_tree.c when every live folder of the owner has its key
 * and no operation of the owner is pending (folder_key_usable). Private
 * to drive/folder*.c. */
#ifndef NETRA_FOLDER_TREE_KEYED_H
#define NETRA_FOLDER_TREE_KEYED_H
#include "drive/folder_key.h"
#include "drive/folders.h"

struct tree_keyed {
  struct folder *rows;            /* the page being walked */
  size_t n, pos, room;
  bool end;                       /* a page came back short: nothing left */
  char last_key[FOLDER_KEY_MAX + 1];
  char (*open)[ID_LEN + 1];       /* the folders open, top last */
  size_t depth, cap;
};

/** Reads the next page of `owner`'s folders (the first: zeroed k). */
int tree_keyed_fetch(struct tree_keyed *k, const char *owner);
/** Up to `max` folders of the walk (folders.h folder_tree_next); *done
 *  once the last one closed. */
int tree_keyed_next(struct tree_keyed *k, const char *owner, size_t max, folder_tree_fn fn,
                    void *arg, bool *done);
void tree_keyed_free(struct tree_keyed *k);

#endif
