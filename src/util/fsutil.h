/* fsutil: small file-system helpers shared by the start-up code and the
 * stores. */
#ifndef NETRA_FSUTIL_H
#define NETRA_FSUTIL_H
#include <sys/types.h>

/** mkdir -p: creates `path` and any missing parents with `mode`; an
 *  existing directory is fine (its mode is left alone), anything else of
 *  that name fails with ENOTDIR. 0, or -1 with errno set. */
int fs_mkdir_p(const char *path, mode_t mode);

#endif
