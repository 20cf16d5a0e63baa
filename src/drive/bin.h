/* bin: emptying a user's bin and the automatic purge of old bin items. */
#ifndef NETRA_BIN_H
#define NETRA_BIN_H
#include <stdint.h>
#include "drive/drive.h"

/** Permanently deletes everything in the owner's bin, folders and files, in
 *  one transaction. */
int drive_bin_empty(const char *owner_id);

/** Permanently deletes, for every user, the items binned directly before
 *  `cutoff_ms` and everything binned with them, in small transactions so
 *  requests are not held up. Returns DRIVE_OK or the first fault. */
int drive_purge_bin_older_than(db_t *db, int64_t cutoff_ms);

#endif
