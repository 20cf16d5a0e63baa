/* checksum: the integrity checksum kept with every stored chunk, so fsck can
 * tell a damaged chunk from a good one. Two kinds: SHA-256 (chunks sent to
 * Telegram, where it also names the document) and XXH3-128 (local chunks:
 * ten times faster than SHA-256, which matters because every uploaded byte
 * is already SHA-256'd once for the file's hash, and a second SHA-256 pass
 * per chunk cost a fifth of a 1 GiB upload's time on two cores). The stored
 * text says which it is: 64 hex digits for SHA-256 (as before this module),
 * "xxh128:" and 32 hex digits for XXH3-128. */
#ifndef NETRA_CHECKSUM_H
#define NETRA_CHECKSUM_H
#include <stddef.h>

#define CHECKSUM_TEXT_MAX 72   /* the longest stored text, with its NUL */

enum checksum_kind { CHECKSUM_SHA256, CHECKSUM_XXH128 };

struct checksum {
  enum checksum_kind kind;
  void *state;   /* EVP_MD_CTX or XXH3_state_t */
};

/** Starts a checksum of this kind. 0, or -1 (out of memory). */
int checksum_init(struct checksum *c, enum checksum_kind kind);

/** Adds bytes. */
void checksum_update(struct checksum *c, const void *data, size_t n);

/** Writes the stored text form (see above) into out. 0, or -1. The
 *  checksum can't be updated afterwards; checksum_free it. */
int checksum_final(struct checksum *c, char out[CHECKSUM_TEXT_MAX]);

/** Releases it; safe on a zeroed or already freed struct. */
void checksum_free(struct checksum *c);

/** Room for an exported state: "sha256-state:" and 27 words in hex. */
#define CHECKSUM_STATE_MAX 232

/** Writes the running state of a SHA-256 checksum as text, so another
 *  process can go on from here (an upload resumed after a restart). The
 *  text holds the bytes not yet in a full block: keep it as private as the
 *  data. 0, or -1 (not SHA-256). */
int checksum_export(const struct checksum *c, char out[CHECKSUM_STATE_MAX]);

/** Starts a SHA-256 checksum that goes on from an exported state. 0, or -1
 *  (malformed text, out of memory). */
int checksum_import(struct checksum *c, const char *state);

/** Which kind a stored text is: 0 with *kind, or -1 when it is neither. */
int checksum_kind_of(const char *text, enum checksum_kind *kind);

#endif
