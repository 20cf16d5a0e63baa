#include "util/jsonx.h"
#include <stdio.h>
#include <string.h>

json_t *jsonx_parse_object(const char *data, size_t len, char *err, size_t errlen)
{
  return jsonx_parse_object_ex(data, len, 0, err, errlen);
}

json_t *jsonx_parse_object_ex(const char *data, size_t len, unsigned flags, char *err,
                              size_t errlen)
{
  json_error_t jerr;
  if(!data || !len) {
    snprintf(err, errlen, "Request body must be a JSON object");
    return NULL;
  }
  /* No JSON_DECODE_ANY: a bare scalar is already a parse error; jansson also
   * checks UTF-8 and refuses \u0000 unless JSON_ALLOW_NUL is given. */
  json_t *j = json_loadb(data, len, (flags & JSONX_ALLOW_NUL) ? JSON_ALLOW_NUL : 0, &jerr);
  if(!j) {
    /* Only the place: jansson's text ("end of file expected near 'x'") is a
     * library's internals, not something to echo to a client. */
    snprintf(err, errlen, "(line %d, column %d)", jerr.line, jerr.column);
    return NULL;
  }
  if(!json_is_object(j)) {
    json_decref(j);
    snprintf(err, errlen, "Request body must be a JSON object");
    return NULL;
  }
  return j;
}

/* Common lookup: 1 when absent or null, else the field through *v. */
static int jsonx_field(const json_t *obj, const char *key, json_t **v)
{
  *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
  return (!*v || json_is_null(*v)) ? 1 : 0;
}

int jsonx_get_str(const json_t *obj, const char *key, const char **out)
{
  json_t *v;
  if(jsonx_field(obj, key, &v))
    return 1;
  if(!json_is_string(v))
    return -1;
  /* A C string would silently end at the NUL. */
  if(strlen(json_string_value(v)) != json_string_length(v))
    return -2;
  *out = json_string_value(v);
  return 0;
}

int jsonx_get_int(const json_t *obj, const char *key, int64_t *out)
{
  json_t *v;
  if(jsonx_field(obj, key, &v))
    return 1;
  if(!json_is_integer(v))
    return -1;
  *out = (int64_t)json_integer_value(v);
  return 0;
}

int jsonx_get_bool(const json_t *obj, const char *key, bool *out)
{
  json_t *v;
  if(jsonx_field(obj, key, &v))
    return 1;
  if(!json_is_boolean(v))
    return -1;
  *out = json_is_true(v);
  return 0;
}
