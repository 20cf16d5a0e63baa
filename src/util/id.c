#include "util/id.h"
#include "util/b64.h"
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define ID_TOKEN_MAX_BYTES 64

static pthread_once_t id_once = PTHREAD_ONCE_INIT;

static void id_sodium_init(void)
{
  /* main() normally did this already; sodium_init is idempotent. Without a
   * working CSPRNG no id is safe to hand out, so stop. */
  if(sodium_init() < 0)
    abort();
}

void id_new(char out[ID_LEN + 1])
{
  unsigned char raw[16];
  pthread_once(&id_once, id_sodium_init);
  randombytes_buf(raw, sizeof(raw));
  b64url_encode(raw, sizeof(raw), out, ID_LEN + 1);
  sodium_memzero(raw, sizeof(raw));
}

bool id_valid(const char *s)
{
  if(!s)
    return false;
  size_t i = 0;
  for(; i < ID_LEN; i++) {
    char c = s[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if(!ok)
      return false; /* also stops at an early NUL */
  }
  return s[i] == 0;
}

void id_token(char *out, size_t nbytes_random, size_t outsz)
{
  unsigned char raw[ID_TOKEN_MAX_BYTES];
  char enc[B64URL_ENCLEN(ID_TOKEN_MAX_BYTES) + 1];
  if(!outsz)
    return;
  if(nbytes_random > ID_TOKEN_MAX_BYTES)
    nbytes_random = ID_TOKEN_MAX_BYTES;
  pthread_once(&id_once, id_sodium_init);
  randombytes_buf(raw, nbytes_random);
  size_t n = b64url_encode(raw, nbytes_random, enc, sizeof(enc));
  if(n > outsz - 1)
    n = outsz - 1;
  memcpy(out, enc, n);
  out[n] = 0;
  sodium_memzero(raw, sizeof(raw));
  sodium_memzero(enc, sizeof(enc));
}
