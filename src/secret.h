/* secret: the key that signs tokens. SECRET_KEY wins when set; otherwise the
 * key lives in $DATA_DIR/secret_key, generated there on the first start, so
 * a restart keeps everyone logged in without any setup. */
#ifndef NETRA_SECRET_H
#define NETRA_SECRET_H
#include <stddef.h>

/* The shortest key accepted, from SECRET_KEY or the file. */
#define SECRET_MIN_LEN 16

/** Sets *key (malloc'd) from `data_dir`/secret_key, creating the directory
 *  (0700) and a fresh random key file (0600) when there is none, and logs
 *  which it did; a no-op when *key is set already (SECRET_KEY). Returns 0,
 *  or -1 with one line in `err`. */
int secret_ensure(const char *data_dir, char **key, char *err, size_t errlen);

#endif
