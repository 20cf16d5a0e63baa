/* parse: the value syntaxes of the configuration, also used by query
 * parameters: sizes with binary suffixes and booleans. */
#ifndef NETRA_PARSE_H
#define NETRA_PARSE_H
#include <stdbool.h>
#include <stdint.h>

/** A size in bytes with an optional K/M/G/T suffix (powers of 1024; "8M",
 *  "8MB" and "8MiB" alike). 0, or -1 for anything else or an overflow. */
int parse_size(const char *s, uint64_t *out);
/** true/false/1/0/yes/no/on/off, any case. 0, or -1 for anything else. */
int parse_bool(const char *s, bool *out);

#endif
