#include "util/b64.h"
#include <stdint.h>

static const char b64_alphabet[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Maps a character to its 6-bit value, or -1 when it is not in the alphabet. */
static int b64_value(unsigned char c)
{
  if(c >= 'A' && c <= 'Z') return c - 'A';
  if(c >= 'a' && c <= 'z') return c - 'a' + 26;
  if(c >= '0' && c <= '9') return c - '0' + 52;
  if(c == '-') return 62;
  if(c == '_') return 63;
  return -1;
}

size_t b64url_encode(const void *in, size_t n, char *out, size_t outsz)
{
  const unsigned char *p = in;
  /* Guard the length arithmetic against absurd sizes. */
  if(n > (SIZE_MAX / 4) - 4 || outsz < B64URL_ENCLEN(n) + 1) {
    if(outsz)
      out[0] = 0;
    return 0;
  }
  size_t o = 0, i = 0;
  for(; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    out[o++] = b64_alphabet[v >> 18 & 63];
    out[o++] = b64_alphabet[v >> 12 & 63];
    out[o++] = b64_alphabet[v >> 6 & 63];
    out[o++] = b64_alphabet[v & 63];
  }
  if(n - i == 1) {
    uint32_t v = (uint32_t)p[i] << 16;
    out[o++] = b64_alphabet[v >> 18 & 63];
    out[o++] = b64_alphabet[v >> 12 & 63];
  }
  else if(n - i == 2) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
    out[o++] = b64_alphabet[v >> 18 & 63];
    out[o++] = b64_alphabet[v >> 12 & 63];
    out[o++] = b64_alphabet[v >> 6 & 63];
  }
  out[o] = 0;
  return o;
}

int b64url_decode(const char *in, size_t n, unsigned char *out, size_t outsz, size_t *outlen)
{
  /* One leftover character carries only 6 bits: never a whole byte. */
  if(n % 4 == 1)
    return -1;
  size_t need = (n / 4) * 3 + (n % 4 ? n % 4 - 1 : 0);
  if(need > outsz)
    return -1;
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for(size_t i = 0; i < n; i++) {
    int v = b64_value((unsigned char)in[i]);
    if(v < 0)
      return -1;
    acc = (acc << 6 | (uint32_t)v) & 0xffffff;
    bits += 6;
    if(bits >= 8) {
      bits -= 8;
      out[o++] = (unsigned char)(acc >> bits);
    }
  }
  /* Leftover bits must be zero, so every byte string has exactly one encoding
   * (keeps JWT signatures and ids canonical). */
  if(bits && (acc & ((1u << bits) - 1)))
    return -1;
  if(outlen)
    *outlen = o;
  return 0;
}
