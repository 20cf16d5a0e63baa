/* mime: the MIME type of uploaded content (API §5): sniffed from the first
 * bytes with libmagic, with the name's extension as the fallback and as the
 * tie-breaker for what sniffing cannot tell apart (text formats, zip-based
 * office files). Text named as text is settled by libmagic's built-in
 * checks without its rule file, where the rules could not change the
 * answer (DECISIONS, "Small uploads"). */
#ifndef NETRA_MIME_H
#define NETRA_MIME_H
#include <stddef.h>

/** Bytes of the file's beginning worth sniffing. */
#define MIME_HEAD_MAX 8192

/** Writes the type of content starting with `head` (n bytes) named `name`. */
void mime_sniff(const char *head, size_t n, const char *name, char *out, size_t outsz);
/** The same with every libmagic rule, never the text shortcut (for tests
 *  comparing the two). */
void mime_sniff_full(const char *head, size_t n, const char *name, char *out, size_t outsz);
/** Releases the libmagic handles (at shutdown). */
void mime_shutdown(void);

#endif
