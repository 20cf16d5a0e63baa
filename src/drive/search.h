/* search: case-insensitive substring search over the names of a user's live
 * files and folders (API §5 GET /files/search).
 *
 * The query is literal text: it is trimmed, normalised to NFC (as names are
 * by name_clean), case-folded with utf8_fold (the folding behind name_key)
 * and matched as a substring of name_key. Queries of
 * three characters or more go through the FTS5 trigram index of migration
 * 002 (passed as one quoted FTS5 string, so no FTS syntax applies) and are
 * confirmed with instr(); shorter ones scan the owner's indexed names with
 * instr(), which is literal too. Results come best match first: the exact
 * name, then names starting with the query, then the rest, each group by
 * name. */
#ifndef NETRA_SEARCH_H
#define NETRA_SEARCH_H
#include <stddef.h>
#include <stdint.h>
#include "drive/drive.h"
#include "drive/files.h"
#include "drive/folders.h"

/** Default and largest number of folders (and of files) returned. */
#define SEARCH_LIMIT_DEFAULT 100
#define SEARCH_LIMIT_MAX 1000

/** Longest raw query (bytes) that is looked at (utf8_nfc takes up to
 *  UTF8_NFC_MAX). NFC and folding together shrink text at most threefold
 *  (U+212A KELVIN SIGN, 3 bytes, folds to "k"; "I" + U+0307 composes to U+0130,
 *  which folds to "i"; Hangul jamo L+V+T, 9 bytes, compose to one 3-byte
 *  syllable), so a longer query ends up longer than NAME_MAX_BYTES and cannot
 *  match any name. */
#define SEARCH_QUERY_MAX 1024

/** Turns the `len` raw bytes of a query into the folded text that is matched
 *  against name_key: ASCII whitespace around it is trimmed, then it is
 *  normalised to NFC and case-folded into `out` (SEARCH_QUERY_MAX + 1 bytes
 *  suffice). DRIVE_OK;
 *  DRIVE_MISSING when nothing is left after trimming; DRIVE_INVALID when it
 *  is not UTF-8 or holds a NUL byte. A query longer than any name can be
 *  leaves `out` empty: it matches nothing (search_names refuses ""). */
int search_prepare(const char *raw, size_t len, char *out, size_t outsz);

/** Writes `text` as one FTS5 string ("..." with each '"' doubled), so the
 *  MATCH operand is a single literal phrase whatever the text holds. Returns
 *  0, or -1 when `out` is too small (2 * strlen(text) + 3 always suffices). */
int search_fts_quote(const char *text, char *out, size_t outsz);
/** PostgreSQL's counterpart: `text` as a LIKE pattern matching it as a
 *  substring ('%', '_' and backslash escaped with a backslash). Same returns. */
int search_like(const char *text, char *out, size_t outsz);

/** Number of UTF-8 characters (code points) in the NUL-terminated `s`. */
size_t search_char_count(const char *s);

/** Receives the hits; a non-zero return stops the search and becomes its
 *  result. Folders come first, then files. */
struct search_sink {
  int (*folder)(const struct folder *f, void *arg);
  int (*file)(const struct file_rec *f, void *arg);
  void *arg;
};

/** Finds the owner's live folders and files whose name contains `key` (a
 *  query from search_prepare: folded, non-empty), at most `limit`
 *  (1..SEARCH_LIMIT_MAX) of each, best match first. DRIVE_OK, a sink's code,
 *  or a db fault code. */
int search_names(const char *owner_id, const char *key, int64_t limit,
                 const struct search_sink *sink);

#endif
