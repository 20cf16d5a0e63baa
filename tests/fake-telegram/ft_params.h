/* ft_params: the named request parameters of one Bot API call, merged from
 * the query string and the body (urlencoded, JSON or multipart text parts).
 * Later values replace earlier ones, so the body wins over the query. All
 * sizes are bounded. */
#ifndef FT_PARAMS_H
#define FT_PARAMS_H
#include <stddef.h>

#define FT_PARAMS_MAX 64           /* distinct names per request */
#define FT_PARAM_NAME_MAX 128      /* bytes in a name */
#define FT_PARAM_VALUE_MAX 65536   /* bytes in one value */

struct ft_param {
  char *name;
  char *value;   /* NUL-terminated */
  size_t len;
};

struct ft_params {
  struct ft_param items[FT_PARAMS_MAX];
  size_t count;
};

/** Empties the set. */
void ft_params_init(struct ft_params *p);
/** Frees every name and value. */
void ft_params_free(struct ft_params *p);
/** Sets name=value (replacing); -1 when a limit is hit or memory ran out. */
int ft_params_set(struct ft_params *p, const char *name, const char *value, size_t len);
/** Appends bytes to the value of `name` (creating it empty first); bounded. */
int ft_params_append(struct ft_params *p, const char *name, const char *data, size_t len);
/** The value of `name`, or NULL. */
const char *ft_params_get(const struct ft_params *p, const char *name);
/** Parses an application/x-www-form-urlencoded body; -1 when malformed. */
int ft_params_parse_urlencoded(struct ft_params *p, const char *body, size_t len);
/** Parses a JSON object body; nested values are kept as their JSON text,
 *  strings as their content; -1 when it is not a JSON object. */
int ft_params_parse_json(struct ft_params *p, const char *body, size_t len);

#endif
