/* disposition: the file name a download suggests, from its
 * Content-Disposition header (RFC 6266: filename* per RFC 8187 first, else
 * filename) or from its URL's path. The result is raw: the caller cleans it
 * like any name. Any directory part is dropped. Pure and bounded. */
#ifndef NETRA_DISPOSITION_H
#define NETRA_DISPOSITION_H
#include <stddef.h>

/** Longest Content-Disposition value read; longer ones are ignored. */
#define DISPOSITION_MAX 2048

/** The name in a Content-Disposition value into `out` (NUL-terminated).
 *  0, or -1 when it names none (or it does not fit). */
int disposition_filename(const char *value, char *out, size_t outsz);
/** The last segment of `url`'s path, percent-decoded (query and fragment
 *  ignored). 0, or -1 when it is empty or does not fit. */
int disposition_url_name(const char *url, char *out, size_t outsz);

#endif
