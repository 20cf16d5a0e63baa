/* dotenv: see dotenv.h. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/dotenv.h"

static bool dotenv_blank(char ch)
{
  return ch == ' ' || ch == '\t';
}

/* Parses the value part of a line into `out` (at most strlen(p) + 1 bytes).
 * Returns NULL or the reason the line is malformed. */
static const char *dotenv_value(const char *p, char *out)
{
  size_t o = 0;
  if(*p == '\'' || *p == '"') {
    char q = *p++;
    for(;; p++) {
      if(!*p)
        return "unterminated quoted value";
      if(*p == q)
        break;
      if(q == '"' && *p == '\\' && p[1]) {
        p++;
        out[o++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p == 'r' ? '\r' : *p;
        continue;
      }
      out[o++] = *p;
    }
    p++;
    while(dotenv_blank(*p))
      p++;
    if(*p && *p != '#')
      return "unexpected text after the closing quote";
    out[o] = 0;
    return NULL;
  }
  /* A '#' starts a comment only at the start or after a blank, so URLs
   * with fragments ("http://a#b") survive unquoted. */
  for(; *p; p++) {
    if(*p == '#' && (o == 0 || dotenv_blank(out[o - 1])))
      break;
    out[o++] = *p;
  }
  while(o && dotenv_blank(out[o - 1]))
    o--;
  out[o] = 0;
  return NULL;
}

/* Makes room for one more variable, up to DOTENV_MAX_VARS. */
static int dotenv_grow(struct dotenv *env)
{
  if(env->n < env->cap)
    return 0;
  size_t cap = env->cap ? env->cap * 2 : 16;
  if(cap > DOTENV_MAX_VARS)
    cap = DOTENV_MAX_VARS;
  struct dotenv_var *v = realloc(env->vars, cap * sizeof(*v));
  if(!v)
    return -1;
  env->vars = v;
  env->cap = cap;
  return 0;
}

/* Parses one line (already without its newline); empty and comment lines
 * are skipped. Returns 0 or -1 with the error set. */
static int dotenv_line(struct dotenv *env, const char *path, char *line, int lineno, char *err,
                       size_t errlen)
{
  size_t len = strlen(line);
  if(len && line[len - 1] == '\r')
    line[--len] = 0;
  char *p = line;
  while(dotenv_blank(*p))
    p++;
  if(!*p || *p == '#')
    return 0;
  if(!strncmp(p, "export", 6) && dotenv_blank(p[6])) {
    p += 6;
    while(dotenv_blank(*p))
      p++;
  }
  char *key = p;
  if(!(isalpha((unsigned char)*p) || *p == '_'))
    goto malformed;
  while(isalnum((unsigned char)*p) || *p == '_')
    p++;
  size_t klen = (size_t)(p - key);
  while(dotenv_blank(*p))
    p++;
  if(*p != '=')
    goto malformed;
  p++;
  while(dotenv_blank(*p))
    p++;
  if(env->n == DOTENV_MAX_VARS) {
    snprintf(err, errlen, "%s: too many variables (at most %d)", path, DOTENV_MAX_VARS);
    return -1;
  }
  char *k = strndup(key, klen);
  char *v = malloc(strlen(p) + 1);
  if(!k || !v || dotenv_grow(env)) {
    free(k);
    free(v);
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
  }
  const char *why = dotenv_value(p, v);
  if(why) {
    free(k);
    free(v);
    snprintf(err, errlen, "%s line %d: %s", path, lineno, why);
    return -1;
  }
  env->vars[env->n].key = k;
  env->vars[env->n].val = v;
  env->n++;
  return 0;
malformed:
  snprintf(err, errlen, "%s line %d: expected KEY=VALUE", path, lineno);
  return -1;
}

int dotenv_load(struct dotenv *env, const char *path, char *err, size_t errlen)
{
  int rc = -1;
  char *data = NULL;
  memset(env, 0, sizeof(*env));
  if(!err)
    errlen = 0;
  FILE *f = fopen(path, "rb");
  if(!f) {
    if(errno == ENOENT)
      return 0;
    snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    return -1;
  }
  data = malloc(DOTENV_MAX_BYTES + 1);
  if(!data) {
    snprintf(err, errlen, "%s: out of memory", path);
    goto out;
  }
  size_t n = fread(data, 1, DOTENV_MAX_BYTES + 1, f);
  if(ferror(f)) {
    snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    goto out;
  }
  if(n > DOTENV_MAX_BYTES) {
    snprintf(err, errlen, "%s: file is larger than %d bytes", path, DOTENV_MAX_BYTES);
    goto out;
  }
  if(memchr(data, 0, n)) {
    snprintf(err, errlen, "%s: file contains a NUL byte", path);
    goto out;
  }
  data[n] = 0;
  int lineno = 1;
  for(char *line = data; line; lineno++) {
    char *nl = strchr(line, '\n');
    if(nl)
      *nl = 0;
    if(dotenv_line(env, path, line, lineno, err, errlen))
      goto out;
    line = nl ? nl + 1 : NULL;
  }
  rc = 0;
out:
  if(rc)
    dotenv_free(env);
  free(data);
  fclose(f);
  return rc;
}

const char *dotenv_get(const struct dotenv *env, const char *key)
{
  for(size_t i = env->n; i-- > 0;) /* the last assignment wins */
    if(!strcmp(env->vars[i].key, key))
      return env->vars[i].val;
  return NULL;
}

void dotenv_free(struct dotenv *env)
{
  for(size_t i = 0; i < env->n; i++) {
    free(env->vars[i].key);
    free(env->vars[i].val);
  }
  free(env->vars);
  memset(env, 0, sizeof(*env));
}
