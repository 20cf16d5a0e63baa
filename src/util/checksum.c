/* checksum: see checksum.h.
 *
 * SHA-256 runs on OpenSSL's SHA256_CTX rather than EVP: the same assembly
 * (SHA extensions where the CPU has them), but a plain struct whose state
 * can be written out and read back (checksum_export), which EVP does not
 * offer. Those functions are deprecated in OpenSSL 3, hence the define. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "util/checksum.h"

#define XXH128_PREFIX "xxh128:"

static void to_hex(const unsigned char *d, size_t n, char *out)
{
  static const char digits[] = "0123456789abcdef";
  for(size_t i = 0; i < n; i++) {
    out[2 * i] = digits[d[i] >> 4];
    out[2 * i + 1] = digits[d[i] & 15];
  }
  out[2 * n] = '\0';
}

static int all_hex(const char *s, size_t n)
{
  for(size_t i = 0; i < n; i++)
    if(!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return 0;
  return s[n] == '\0';
}

int checksum_init(struct checksum *c, enum checksum_kind kind)
{
  c->kind = kind;
  c->state = NULL;
  if(kind == CHECKSUM_XXH128) {
    XXH3_state_t *x = XXH3_createState();
    if(!x || XXH3_128bits_reset(x) != XXH_OK) {
      XXH3_freeState(x);
      return -1;
    }
    c->state = x;
    return 0;
  }
  SHA256_CTX *sha = malloc(sizeof(*sha));
  if(!sha || !SHA256_Init(sha)) {
    free(sha);
    return -1;
  }
  c->state = sha;
  return 0;
}

void checksum_update(struct checksum *c, const void *data, size_t n)
{
  if(!c->state || n == 0)
    return;
  if(c->kind == CHECKSUM_XXH128)
    XXH3_128bits_update(c->state, data, n);
  else
    SHA256_Update(c->state, data, n);
}

int checksum_final(struct checksum *c, char out[CHECKSUM_TEXT_MAX])
{
  out[0] = '\0';
  if(!c->state)
    return -1;
  if(c->kind == CHECKSUM_XXH128) {
    XXH128_canonical_t canon;
    XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(c->state));
    memcpy(out, XXH128_PREFIX, sizeof(XXH128_PREFIX) - 1);
    to_hex(canon.digest, sizeof(canon.digest), out + sizeof(XXH128_PREFIX) - 1);
    return 0;
  }
  unsigned char md[SHA256_DIGEST_LENGTH];
  if(!SHA256_Final(md, c->state))
    return -1;
  to_hex(md, sizeof(md), out);
  return 0;
}

void checksum_free(struct checksum *c)
{
  if(!c->state)
    return;
  if(c->kind == CHECKSUM_XXH128)
    XXH3_freeState(c->state);
  else {
    OPENSSL_cleanse(c->state, sizeof(SHA256_CTX));
    free(c->state);
  }
  c->state = NULL;
}

int checksum_kind_of(const char *text, enum checksum_kind *kind)
{
  size_t plen = sizeof(XXH128_PREFIX) - 1;
  if(!strncmp(text, XXH128_PREFIX, plen) && all_hex(text + plen, 32)) {
    *kind = CHECKSUM_XXH128;
    return 0;
  }
  if(all_hex(text, 64)) {
    *kind = CHECKSUM_SHA256;
    return 0;
  }
  return -1;
}

/* The SHA256_CTX fields in order, as 32-bit words: h[8], Nl, Nh, data[16],
 * num (md_len is always 32 for SHA-256). */
#define SHA_STATE_PREFIX "sha256-state:"
#define SHA_STATE_WORDS 27

int checksum_export(const struct checksum *c, char out[CHECKSUM_STATE_MAX])
{
  out[0] = '\0';
  if(!c->state || c->kind != CHECKSUM_SHA256)
    return -1;
  const SHA256_CTX *x = c->state;
  uint32_t w[SHA_STATE_WORDS];
  for(int i = 0; i < 8; i++)
    w[i] = x->h[i];
  w[8] = x->Nl;
  w[9] = x->Nh;
  for(int i = 0; i < 16; i++)
    w[10 + i] = x->data[i];
  w[26] = x->num;
  size_t n = sizeof(SHA_STATE_PREFIX) - 1;
  memcpy(out, SHA_STATE_PREFIX, n);
  for(int i = 0; i < SHA_STATE_WORDS; i++, n += 8)
    snprintf(out + n, CHECKSUM_STATE_MAX - n, "%08x", (unsigned)w[i]);
  return 0;
}

int checksum_import(struct checksum *c, const char *state)
{
  size_t plen = sizeof(SHA_STATE_PREFIX) - 1;
  uint32_t w[SHA_STATE_WORDS];
  c->kind = CHECKSUM_SHA256;
  c->state = NULL;
  if(strncmp(state, SHA_STATE_PREFIX, plen) || !all_hex(state + plen, 8 * SHA_STATE_WORDS))
    return -1;
  for(int i = 0; i < SHA_STATE_WORDS; i++) {
    char word[9];
    memcpy(word, state + plen + 8 * i, 8);
    word[8] = '\0';
    w[i] = (uint32_t)strtoul(word, NULL, 16);
  }
  if(w[26] >= SHA256_CBLOCK)   /* bytes waiting in the block buffer */
    return -1;
  SHA256_CTX *x = malloc(sizeof(*x));
  if(!x || !SHA256_Init(x)) {
    free(x);
    return -1;
  }
  for(int i = 0; i < 8; i++)
    x->h[i] = w[i];
  x->Nl = w[8];
  x->Nh = w[9];
  for(int i = 0; i < 16; i++)
    x->data[i] = w[10 + i];
  x->num = w[26];
  c->state = x;
  return 0;
}
