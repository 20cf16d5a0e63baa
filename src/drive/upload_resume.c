/* upload_resume: see upload.h ("resuming after a restart"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/hasher.h"
#include "drive/upload.h"
#include "drive/upload_priv.h"

void upload_set_resumable(struct upload *u)
{
  u->resumable = true;
}

int upload_stored_prefix(struct upload *u, size_t first, struct upload_prefix *out)
{
  memset(out, 0, sizeof(*out));
  pthread_mutex_lock(&u->lock);
  size_t n = u->prefix;
  out->chunk_size = u->chunk_size;
  out->bytes = u->prefix_bytes;
  out->count = n;
  out->first = first < n ? first : n;
  memcpy(out->hash_state, u->prefix_state, sizeof(out->hash_state));
  memcpy(out->head, u->head, u->head_len);
  out->head_len = u->head_len;
  if(n > out->first) {
    out->pieces = calloc(n - out->first, sizeof(*out->pieces));
    for(size_t i = out->first; out->pieces && i < n; i++) {
      struct upload_piece *p = &out->pieces[i - out->first];
      const struct upload_chunk *c = &u->chunks[i];
      memcpy(p->locator, c->locator, sizeof(p->locator));
      memcpy(p->staged_id, c->staged_id, sizeof(p->staged_id));
      memcpy(p->checksum, c->checksum, sizeof(p->checksum));
      p->size = c->size;
    }
  }
  pthread_mutex_unlock(&u->lock);
  if(n > out->first && !out->pieces) {
    memset(out, 0, sizeof(*out));
    return DRIVE_INTERNAL;
  }
  return DRIVE_OK;
}

struct upload *upload_resume(const char *owner_id, const char *folder_id,
                             const struct upload_prefix *p)
{
  if(p->first != 0 || p->head_len > sizeof(p->head) || (p->count && !p->pieces))
    return NULL;
  struct upload *u = upload_new(owner_id, folder_id);
  if(!u)
    return NULL;
  size_t cap = p->count > 16 ? p->count : 16;
  hasher_stream_free(u->hash);
  u->hash = hasher_stream_resume(p->hash_state);
  u->chunks = calloc(cap, sizeof(*u->chunks));
  if(!u->hash || !u->chunks) {
    upload_free(u);   /* no chunk adopted yet: releases nothing */
    return NULL;
  }
  u->capchunks = cap;
  for(size_t i = 0; i < p->count; i++) {
    struct upload_chunk *c = &u->chunks[i];
    const struct upload_piece *q = &p->pieces[i];
    memcpy(c->locator, q->locator, sizeof(c->locator));
    memcpy(c->staged_id, q->staged_id, sizeof(c->staged_id));
    memcpy(c->checksum, q->checksum, sizeof(c->checksum));
    c->size = q->size;
    c->stored = true;
  }
  u->nchunks = u->prefix = p->count;
  u->chunk_size = p->chunk_size;
  u->size = u->prefix_bytes = p->bytes;
  memcpy(u->prefix_state, p->hash_state, sizeof(u->prefix_state));
  memcpy(u->head, p->head, p->head_len);
  u->head_len = p->head_len;
  u->resumable = true;
  return u;
}

void upload_keep_stored(struct upload *u, size_t n)
{
  pthread_mutex_lock(&u->lock);
  u->kept = n < u->nchunks ? n : u->nchunks;
  pthread_mutex_unlock(&u->lock);
}

void upload_prefix_free(struct upload_prefix *p)
{
  free(p->pieces);
  p->pieces = NULL;
}
