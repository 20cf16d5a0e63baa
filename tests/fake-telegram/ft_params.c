/* ft_params: request parameters. */
#include "ft_params.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ft_params_init(struct ft_params *p)
{
  p->count = 0;
}

void ft_params_free(struct ft_params *p)
{
  size_t i;
  for(i = 0; i < p->count; i++) {
    free(p->items[i].name);
    free(p->items[i].value);
  }
  p->count = 0;
}

static struct ft_param *find(const struct ft_params *p, const char *name)
{
  size_t i;
  for(i = 0; i < p->count; i++)
    if(!strcmp(p->items[i].name, name))
      return (struct ft_param *)&p->items[i];
  return NULL;
}

static struct ft_param *find_or_add(struct ft_params *p, const char *name)
{
  struct ft_param *it = find(p, name);

  if(it)
    return it;
  if(p->count >= FT_PARAMS_MAX || strlen(name) >= FT_PARAM_NAME_MAX)
    return NULL;
  it = &p->items[p->count];
  it->name = strdup(name);
  it->value = calloc(1, 1);
  it->len = 0;
  if(!it->name || !it->value) {
    free(it->name);
    free(it->value);
    return NULL;
  }
  p->count++;
  return it;
}

int ft_params_set(struct ft_params *p, const char *name, const char *value, size_t len)
{
  struct ft_param *it;

  if(len > FT_PARAM_VALUE_MAX)
    return -1;
  it = find_or_add(p, name);
  if(!it)
    return -1;
  it->len = 0;
  it->value[0] = '\0';
  return ft_params_append(p, name, value, len);
}

int ft_params_append(struct ft_params *p, const char *name, const char *data, size_t len)
{
  struct ft_param *it = find_or_add(p, name);
  char *nv;

  if(!it || len > FT_PARAM_VALUE_MAX || it->len > FT_PARAM_VALUE_MAX - len)
    return -1;
  if(!len)
    return 0;
  nv = realloc(it->value, it->len + len + 1);
  if(!nv)
    return -1;
  memcpy(nv + it->len, data, len);
  it->len += len;
  nv[it->len] = '\0';
  it->value = nv;
  return 0;
}

const char *ft_params_get(const struct ft_params *p, const char *name)
{
  struct ft_param *it = find(p, name);
  return it ? it->value : NULL;
}

static int hexval(char c)
{
  if(c >= '0' && c <= '9')
    return c - '0';
  if(c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if(c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decodes %XX and '+' from s into out (at most cap bytes with the NUL). */
static int url_decode(const char *s, size_t len, char *out, size_t cap, size_t *outlen)
{
  size_t i, o = 0;

  for(i = 0; i < len; i++) {
    char c = s[i];
    if(o + 1 >= cap)
      return -1;
    if(c == '+')
      c = ' ';
    else if(c == '%') {
      int hi, lo;
      if(i + 2 >= len)
        return -1;
      hi = hexval(s[i + 1]);
      lo = hexval(s[i + 2]);
      if(hi < 0 || lo < 0)
        return -1;
      c = (char)(hi * 16 + lo);
      i += 2;
    }
    out[o++] = c;
  }
  out[o] = '\0';
  *outlen = o;
  return 0;
}

int ft_params_parse_urlencoded(struct ft_params *p, const char *body, size_t len)
{
  char name[FT_PARAM_NAME_MAX];
  char *value = NULL;
  size_t pos = 0;
  int rc = -1;

  value = malloc(FT_PARAM_VALUE_MAX + 1);
  if(!value)
    goto out;
  while(pos < len) {
    const char *pair = body + pos;
    const char *amp = memchr(pair, '&', len - pos);
    size_t plen = amp ? (size_t)(amp - pair) : len - pos;
    const char *eq = memchr(pair, '=', plen);
    size_t nlen = eq ? (size_t)(eq - pair) : plen;
    size_t dn, dv = 0;

    pos += plen + (amp ? 1 : 0);
    if(!plen)
      continue;
    if(url_decode(pair, nlen, name, sizeof(name), &dn))
      goto out;
    if(eq && url_decode(eq + 1, plen - nlen - 1, value, FT_PARAM_VALUE_MAX + 1, &dv))
      goto out;
    if(!eq)
      value[0] = '\0';
    if(ft_params_set(p, name, value, dv))
      goto out;
  }
  rc = 0;
out:
  free(value);
  return rc;
}

int ft_params_parse_json(struct ft_params *p, const char *body, size_t len)
{
  json_t *root;
  const char *key;
  json_t *val;
  int rc = -1;

  root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
  if(!root || !json_is_object(root))
    goto out;
  json_object_foreach(root, key, val) {
    char num[64];
    char *dump = NULL;
    int r;

    if(json_is_string(val))
      r = ft_params_set(p, key, json_string_value(val), json_string_length(val));
    else if(json_is_integer(val)) {
      snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(val));
      r = ft_params_set(p, key, num, strlen(num));
    }
    else if(json_is_null(val))
      continue;
    else {
      /* true/false/reals/arrays/objects: keep the JSON text, as the Bot API
       * does for fields such as message_ids */
      dump = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
      r = dump ? ft_params_set(p, key, dump, strlen(dump)) : -1;
      free(dump);
    }
    if(r)
      goto out;
  }
  rc = 0;
out:
  json_decref(root);
  return rc;
}
