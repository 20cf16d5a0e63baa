#include "util/names.h"
#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

/* Decodes one code point from the `n` bytes at `s`. Returns its length in
 * bytes (1–4) or 0 when the sequence is not strict UTF-8. The ranges follow
 * the Unicode well-formed byte sequence table (Table 3-7). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
  unsigned char b0 = s[0];
  if(b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if(b0 >= 0xC2 && b0 <= 0xDF)
    len = 2;
  else if(b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if(b0 == 0xE0) lo = 0xA0;      /* overlong */
    else if(b0 == 0xED) hi = 0x9F; /* surrogates */
  }
  else if(b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if(b0 == 0xF0) lo = 0x90;      /* overlong */
    else if(b0 == 0xF4) hi = 0x8F; /* above U+10FFFF */
  }
  else
    return 0; /* continuation byte, C0/C1 overlong lead, or F5..FF */
  if(n < len || s[1] < lo || s[1] > hi)
    return 0;
  uint32_t v = b0 & (0x7F >> len);
  for(size_t i = 1; i < len; i++) {
    if(i > 1 && (s[i] & 0xC0) != 0x80)
      return 0;
    v = v << 6 | (s[i] & 0x3F);
  }
  *cp = v;
  return len;
}

/* Encodes `cp` (a valid scalar value) into `out`; returns the byte count. */
static size_t utf8_encode(uint32_t cp, unsigned char *out)
{
  if(cp < 0x80) {
    out[0] = (unsigned char)cp;
    return 1;
  }
  if(cp < 0x800) {
    out[0] = (unsigned char)(0xC0 | cp >> 6);
    out[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if(cp < 0x10000) {
    out[0] = (unsigned char)(0xE0 | cp >> 12);
    out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (unsigned char)(0xF0 | cp >> 18);
  out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
  out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
  out[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

bool utf8_valid(const char *s, size_t n)
{
  const unsigned char *p = (const unsigned char *)s;
  uint32_t cp;
  while(n) {
    size_t len = utf8_decode(p, n, &cp);
    if(!len)
      return false;
    p += len;
    n -= len;
  }
  return true;
}

/* In blocks where upper and lower case alternate, the capital is the even
 * (or, with odd_upper, the odd) code point and the small letter follows it. */
static uint32_t fold_pair(uint32_t cp, bool odd_upper)
{
  return ((cp & 1) == (odd_upper ? 1u : 0u)) ? cp + 1 : cp;
}

/* Simple case folding (Unicode CaseFolding.txt, status C and S) restricted to
 * the blocks we cover; U+0130 folds to plain 'i' so that "İ" matches "i". Every
 * target is no longer in UTF-8 than its source. */
static uint32_t fold_cp(uint32_t cp)
{
  if(cp < 0x80)
    return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  if(cp < 0x100) {
    if(cp == 0xB5)
      return 0x3BC; /* micro sign -> Greek mu */
    if((cp >= 0xC0 && cp <= 0xDE) && cp != 0xD7)
      return cp + 32;
    return cp;
  }
  if(cp < 0x180) { /* Latin Extended-A */
    if(cp == 0x130) return 'i';
    if(cp == 0x178) return 0xFF;
    if(cp == 0x17F) return 's'; /* long s */
    if(cp <= 0x137 || (cp >= 0x14A && cp <= 0x177))
      return fold_pair(cp, false); /* U+0131 dotless i is odd: kept */
    if((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
      return fold_pair(cp, true);
    return cp; /* U+0138 kra, U+0149 */
  }
  if(cp >= 0x370 && cp < 0x400) { /* Greek and Coptic */
    switch(cp) {
    case 0x370: case 0x372: case 0x376: return cp + 1;
    case 0x37F: return 0x3F3;
    case 0x386: return 0x3AC;
    case 0x388: case 0x389: case 0x38A: return cp + 37;
    case 0x38C: return 0x3CC;
    case 0x38E: case 0x38F: return cp + 63;
    case 0x3C2: return 0x3C3; /* final sigma */
    case 0x3CF: return 0x3D7;
    case 0x3D0: return 0x3B2;
    case 0x3D1: return 0x3B8;
    case 0x3D5: return 0x3C6;
    case 0x3D6: return 0x3C0;
    case 0x3F0: return 0x3BA;
    case 0x3F1: return 0x3C1;
    case 0x3F4: return 0x3B8;
    case 0x3F5: return 0x3B5;
    case 0x3F7: return 0x3F8;
    case 0x3F9: return 0x3F2;
    case 0x3FA: return 0x3FB;
    case 0x3FD: case 0x3FE: case 0x3FF: return cp - 130;
    default: break;
    }
    if((cp >= 0x391 && cp <= 0x3A1) || (cp >= 0x3A3 && cp <= 0x3AB))
      return cp + 32;
    if(cp >= 0x3D8 && cp <= 0x3EF)
      return fold_pair(cp, false);
    return cp;
  }
  if(cp >= 0x400 && cp < 0x530) { /* Cyrillic, Cyrillic Supplement */
    if(cp <= 0x40F) return cp + 80;
    if(cp <= 0x42F) return cp + 32;
    if((cp >= 0x460 && cp <= 0x481) || (cp >= 0x48A && cp <= 0x4BF) || cp >= 0x4D0)
      return fold_pair(cp, false);
    if(cp == 0x4C0) return 0x4CF;
    if(cp >= 0x4C1 && cp <= 0x4CE)
      return fold_pair(cp, true);
    return cp;
  }
  if(cp == 0x1E9E) return 0xDF;  /* capital sharp s */
  if(cp == 0x212A) return 'k';   /* Kelvin sign */
  if(cp == 0x212B) return 0xE5;  /* Angstrom sign */
  return cp;
}

int utf8_fold(const char *in, char *out, size_t outsz)
{
  const unsigned char *p = (const unsigned char *)in;
  size_t n = strlen(in), o = 0;
  int rc = -1;
  if(!outsz)
    return -1;
  /* Folding never grows a string, so this check covers the whole output. */
  if(outsz < n + 1)
    goto out;
  while(n) {
    uint32_t cp;
    unsigned char enc[4];
    size_t len = utf8_decode(p, n, &cp);
    if(!len)
      goto out;
    size_t elen = utf8_encode(fold_cp(cp), enc);
    memcpy(out + o, enc, elen); /* o <= read offset, so in == out is safe */
    o += elen;
    p += len;
    n -= len;
  }
  rc = 0;
out:
  out[rc ? 0 : o] = 0;
  return rc;
}

int utf8_nfc(const char *in, size_t n, char *out, size_t outsz)
{
  /* A canonical decomposition has at most 1.5 code points per UTF-8 byte of
   * its character (U+01D5: 2 bytes, 3 code points), so 2 per input byte is
   * room enough; the scratch stays on the stack: no allocation to fail. */
  utf8proc_int32_t cps[2 * UTF8_NFC_MAX];
  const utf8proc_option_t opts = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
  size_t o = 0;
  if(!outsz)
    return -1;
  out[0] = 0;
  if(n > UTF8_NFC_MAX || !utf8_valid(in, n))
    return -1;
  utf8proc_ssize_t count = utf8proc_decompose((const utf8proc_uint8_t *)in, (utf8proc_ssize_t)n,
                                              cps, 2 * UTF8_NFC_MAX, opts);
  if(count < 0 || count > 2 * UTF8_NFC_MAX)
    return -1;
  count = utf8proc_normalize_utf32(cps, count, opts);
  if(count < 0)
    return -1;
  for(utf8proc_ssize_t i = 0; i < count; i++) {
    unsigned char enc[4];
    size_t elen = utf8_encode((uint32_t)cps[i], enc);
    if(o + elen + 1 > outsz) {
      out[0] = 0;
      return -1;
    }
    memcpy(out + o, enc, elen); /* `in` was read whole into cps, so in == out is safe */
    o += elen;
  }
  out[o] = 0;
  return (int)o;
}

/* Bidirectional formatting characters (Bidi_Control): shown nowhere, they
 * reorder what follows, so "photo<U+202E>gpj.exe" displays as "photoexe.jpg". */
static bool name_is_bidi_control(uint32_t cp)
{
  return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

const char *name_clean(const char *in, char *out, size_t outsz)
{
  char nfc[NAME_MAX_BYTES + 1];
  if(!in)
    return "Name is required";
  size_t n = strlen(in);
  while(n && *in == ' ') {
    in++;
    n--;
  }
  while(n && in[n - 1] == ' ')
    n--;
  if(!n)
    return "Name must not be empty";
  if(n > NAME_MAX_BYTES)
    return "Name must be at most 255 bytes long";
  if(!utf8_valid(in, n))
    return "Name must be valid UTF-8";
  /* One spelling per name: "cafe" + U+0301 and "caf" + U+00E9 must be the
   * same sibling, stored and folded alike. The input is valid and short, so
   * a failure here only means the NFC form outgrew the limit. */
  int len = utf8_nfc(in, n, nfc, sizeof(nfc));
  if(len < 0)
    return "Name must be at most 255 bytes long";
  n = (size_t)len;
  const unsigned char *p = (const unsigned char *)nfc;
  size_t left = n;
  while(left) {
    uint32_t cp;
    size_t clen = utf8_decode(p, left, &cp);
    if(cp == '/')
      return "Name must not contain '/'";
    if(cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
      return "Name must not contain control characters";
    if(name_is_bidi_control(cp))
      return "Name must not contain bidirectional control characters";
    p += clen;
    left -= clen;
  }
  if((n == 1 && nfc[0] == '.') || (n == 2 && nfc[0] == '.' && nfc[1] == '.'))
    return "Name must not be '.' or '..'";
  if(outsz < n + 1)
    return "Name is too long";
  memcpy(out, nfc, n + 1);
  return NULL;
}
