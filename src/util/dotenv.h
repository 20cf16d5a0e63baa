/* dotenv: reads a .env file of KEY=VALUE lines into a private table; nothing
 * is copied into the process environment, so loading has no global side
 * effects. The syntax:
 *   # comment            blank lines and comment lines are skipped
 *   export KEY=value     "export " is allowed and ignored
 *   KEY = value # note   unquoted values end at " #" and are trimmed
 *   KEY='literal'        single quotes keep everything between them
 *   KEY="a\n\"b\""       double quotes understand \n \t \r \" \\
 * Keys are [A-Za-z_][A-Za-z0-9_]*; the last assignment of a key wins. */
#ifndef NETRA_DOTENV_H
#define NETRA_DOTENV_H
#include <stddef.h>

#define DOTENV_MAX_BYTES (1024 * 1024) /* a larger file is refused */
#define DOTENV_MAX_VARS 512            /* so are more assignments */

struct dotenv_var {
  char *key;
  char *val;
};

struct dotenv {
  struct dotenv_var *vars;  /* in file order */
  size_t n, cap;
};

/** Reads `path` into `env` (which must be zeroed or freed). A missing file
 *  gives an empty table; an unreadable or malformed one is an error, since
 *  silently ignoring it hides mistakes. Returns 0, or -1 with one line in
 *  `err` ("PATH line N: why" or "PATH: why"; `err` may be NULL when
 *  `errlen` is 0). */
int dotenv_load(struct dotenv *env, const char *path, char *err, size_t errlen);

/** The value of the last assignment of `key`, or NULL when there is none. */
const char *dotenv_get(const struct dotenv *env, const char *key);

/** Frees the table; `env` is empty afterwards. */
void dotenv_free(struct dotenv *env);

#endif
