/* checksum: see checksum.h. */
#include <openssl/evp.h>
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
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if(!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
    EVP_MD_CTX_free(md);
    return -1;
  }
  c->state = md;
  return 0;
}

void checksum_update(struct checksum *c, const void *data, size_t n)
{
  if(!c->state || n == 0)
    return;
  if(c->kind == CHECKSUM_XXH128)
    XXH3_128bits_update(c->state, data, n);
  else
    EVP_DigestUpdate(c->state, data, n);
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
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if(!EVP_DigestFinal_ex(c->state, md, &len) || len != 32)
    return -1;
  to_hex(md, 32, out);
  return 0;
}

void checksum_free(struct checksum *c)
{
  if(!c->state)
    return;
  if(c->kind == CHECKSUM_XXH128)
    XXH3_freeState(c->state);
  else
    EVP_MD_CTX_free(c->state);
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
