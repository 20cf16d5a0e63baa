/* urlname: the name a file fetched from a URL gets: the one asked for, else
 * the reply's Content-Disposition, else the URL's last path segment, the
 * first the upload accepts ("download" when none is usable). */
#ifndef NETRA_URLNAME_H
#define NETRA_URLNAME_H
#include "drive/tasks.h"
#include "drive/upload.h"

/** Sets the name on `up` and shows it on `task`. `asked` and `disposition`
 *  may be NULL or "". */
void urlname_choose(struct upload *up, struct task *task, const char *asked,
                    const char *disposition, const char *url);

#endif
