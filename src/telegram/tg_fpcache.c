/* tg_fpcache: a small fixed table of getFile answers (see tg_fpcache.h). */
#include <stdlib.h>
#include <string.h>
#include "telegram/tg_fpcache.h"

static struct tg_fpcache_slot *tg_fpcache_slot(struct tg_fpcache *c, const char *file_id)
{
  uint32_t h = 2166136261u; /* FNV-1a */
  for(const char *p = file_id; *p; p++)
    h = (h ^ (unsigned char)*p) * 16777619u;
  return &c->slots[h % TG_FPCACHE_SLOTS];
}

const char *tg_fpcache_get(struct tg_fpcache *c, const char *file_id, int64_t now)
{
  struct tg_fpcache_slot *s = tg_fpcache_slot(c, file_id);
  if(!s->path || strcmp(s->file_id, file_id))
    return NULL;
  if(now - s->at >= TG_FPCACHE_TTL_MS || now < s->at) {
    free(s->path);
    s->path = NULL;
    return NULL;
  }
  return s->path;
}

int tg_fpcache_put(struct tg_fpcache *c, const char *file_id, const char *path, int64_t now)
{
  struct tg_fpcache_slot *s = tg_fpcache_slot(c, file_id);
  if(strlen(file_id) >= sizeof(s->file_id))
    return -1;
  char *copy = strdup(path);
  if(!copy)
    return -1;
  free(s->path);
  s->path = copy;
  strcpy(s->file_id, file_id);
  s->at = now;
  return 0;
}

void tg_fpcache_drop(struct tg_fpcache *c, const char *file_id)
{
  struct tg_fpcache_slot *s = tg_fpcache_slot(c, file_id);
  if(s->path && !strcmp(s->file_id, file_id)) {
    free(s->path);
    s->path = NULL;
  }
}

void tg_fpcache_clear(struct tg_fpcache *c)
{
  for(size_t i = 0; i < TG_FPCACHE_SLOTS; i++) {
    free(c->slots[i].path);
    c->slots[i].path = NULL;
  }
}
