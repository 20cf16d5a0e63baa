/* config_source: where a setting's value comes from and reading it as a
 * typed value, for config.c (internal to the config module). A value is
 * looked up flag > environment > .env > default; every reader reports a bad
 * value as one line "LABEL: why (got 'value')", LABEL being the flag or the
 * variable it came from. */
#ifndef NETRA_CONFIG_SOURCE_H
#define NETRA_CONFIG_SOURCE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_KIB 1024ull
#define CFG_MIB (1024ull * 1024)

struct cfg_ctx;

/** Reads the flags (`argv` starts after the subcommand) and ./.env, and
 *  keeps `err` for the readers' messages. NULL on error, with `err` set. */
struct cfg_ctx *cfg_open(int argc, char **argv, char *err, size_t errlen);
/** Frees what cfg_open read; NULL is fine. */
void cfg_close(struct cfg_ctx *c);

/** Writes "LABEL: message" to the error buffer; returns -1, for
 *  `return cfg_fail(...)`. */
int cfg_fail(struct cfg_ctx *c, const char *label, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
/** Copies a user value for an error message: bounded, one line, printable. */
const char *cfg_show(const char *v, char out[72]);

/** The raw value of `var`, or NULL when unset or empty; `*label` names where
 *  it came from. A variable present in the environment, even empty, hides
 *  the .env entry. */
const char *cfg_get(struct cfg_ctx *c, const char *var, const char **label);

/* Typed readers: `def` when unset, else the value checked; 0 or -1 with the
 * error set. */
/** A strict decimal integer in [min, max]. */
int cfg_int(struct cfg_ctx *c, const char *var, long def, long min, long max, long *out);
int cfg_int32(struct cfg_ctx *c, const char *var, long def, long min, long max, int *out);
/** A size with an optional K/M/G/T suffix (parse_size). */
int cfg_size(struct cfg_ctx *c, const char *var, uint64_t def, uint64_t *out);
/** true/false/1/0/yes/no/on/off (parse_bool). */
int cfg_bool(struct cfg_ctx *c, const char *var, bool def, bool *out);
/** A heap copy of the value, or of `def` (NULL stays NULL). */
int cfg_str(struct cfg_ctx *c, const char *var, const char *def, char **out);

#endif
