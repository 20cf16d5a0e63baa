/* Deterministic, bounded fuzz tests for the parsers that read outside input:
 * multipart bodies, Range / conditional headers and HTTP dates, JSON request
 * bodies and form bodies, Bot API replies, chunk locators, JWTs, names and
 * UTF-8 folding, base64url. A fixed-seed xorshift PRNG makes every run the
 * same, so a failure reproduces (the failing input is printed). Inputs are
 * copied into exactly-sized heap blocks, so under ASan a read past the end is
 * a report. Every test checks properties (round trips, split invariance,
 * bounds, agreement with an oracle), not only "no crash". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <utf8proc.h>
#include "http/http.h"
#include "http/range.h"
#include "telegram/tg_locator.h"
#include "telegram/tg_reply.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/jsonx.h"
#include "util/jwt.h"
#include "util/multipart.h"
#include "util/names.h"

/* Iteration counts: the whole program stays under a second in the normal
 * build and under five seconds with ASan + UBSan. */
enum {
  MP_VALID_ITERS = 1200,      /* valid bodies, each fed whole and in 3 random splits */
  MP_MUTATE_ITERS = 6000,     /* mutated bodies, fed whole and split */
  MP_CT_ITERS = 20000,        /* Content-Type boundary extraction */
  RANGE_ITERS = 10000,        /* generated Range headers with an oracle */
  RANGE_MUTATE_ITERS = 10000,
  DATE_ITERS = 20000,
  JSON_GEN_ITERS = 4000,      /* random jansson values dumped and re-read */
  JSON_MUTATE_ITERS = 10000,
  FORM_ITERS = 3000,
  TG_REPLY_ITERS = 10000,
  TG_LOCATOR_ITERS = 5000,
  JWT_TOKENS = 600,           /* signed tokens ... */
  JWT_MUTATIONS = 25,         /* ... each mutated this many times */
  JWT_GARBAGE_ITERS = 3000,
  UTF8_ITERS = 10000,
  B64_ITERS = 10000
};

/* ---- PRNG ---- */

/* xorshift64* (Vigna): tiny, and the same sequence on every platform. */
typedef struct {
  uint64_t s;
} rng_t;

static rng_t rng_seed(uint64_t seed)
{
  rng_t r = {seed ? seed : 1};   /* xorshift state must not be 0 */
  return r;
}

static uint64_t rnd(rng_t *r)
{
  uint64_t x = r->s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  r->s = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static size_t below(rng_t *r, size_t n)
{
  return n ? (size_t)(rnd(r) % n) : 0;
}

static uint64_t below64(rng_t *r, uint64_t n)
{
  return n ? rnd(r) % n : 0;
}

static bool chance(rng_t *r, unsigned pct)
{
  return rnd(r) % 100 < pct;
}

static const char *pick(rng_t *r, const char *const *v, size_t n)
{
  return v[below(r, n)];
}
#define PICK(r, arr) pick((r), (arr), sizeof(arr) / sizeof((arr)[0]))
#define COUNT(arr) (sizeof(arr) / sizeof((arr)[0]))

/* ---- failure context ---- */

/* The input being tried, printed when a property fails so that the case can
 * be replayed by hand. */
static const char *fz_what = "";
static const void *fz_data;
static size_t fz_len;
static unsigned long fz_iter;

static void fz_case(const char *what, unsigned long iter, const void *data, size_t len)
{
  fz_what = what;
  fz_iter = iter;
  fz_data = data;
  fz_len = len;
}

static void fz_dump(void)
{
  const unsigned char *p = fz_data;
  char line[8200];
  size_t o = 0;
  for(size_t i = 0; p && i < fz_len && o + 5 < sizeof(line); i++) {
    if(p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
      line[o++] = (char)p[i];
    else
      o += (size_t)snprintf(line + o, sizeof(line) - o, "\\x%02x", p[i]);
  }
  line[o] = 0;
  print_error("fuzz case %s, iteration %lu, %zu bytes: \"%s\"\n", fz_what, fz_iter, fz_len, line);
}

#define FZ_ASSERT(c)                                  \
  do {                                                \
    if(!(c)) {                                        \
      fz_dump();                                      \
      fail_msg("property failed: %s", #c);            \
    }                                                 \
  } while(0)

/* ---- helpers ---- */

static void bput(buf_t *b, const void *p, size_t n)
{
  assert_int_equal(buf_append(b, p, n), BUF_OK);
}

static void bputs(buf_t *b, const char *s)
{
  bput(b, s, strlen(s));
}

static const char *bdata(const buf_t *b)
{
  return b->data ? b->data : "";
}

/* An exactly-sized heap copy (plus a NUL when `nul`): ASan reports any read
 * past it. */
static char *dup_exact(const void *p, size_t n, bool nul)
{
  char *d = malloc(n + nul + (n + nul == 0));
  assert_non_null(d);
  if(n)
    memcpy(d, p, n);
  if(nul)
    d[n] = 0;
  return d;
}

/* Bytes that matter to parsers: separators, quotes, escapes, digits, NUL,
 * DEL and UTF-8 lead / continuation bytes. */
static const char fz_special[] = "\r\n\t -\"\\{}[]:,;=/0129<>%+.eEW*"
                                 "\x00\x7f\x80\xbf\xc3\xe2\xf0\xff";

/* Applies 1..4 random edits to b[0..*len), never growing past `cap` (b has
 * cap + 1 bytes: a NUL is kept after the data). `frags` are strings worth
 * splicing in (boundary pieces, keywords). */
static void mutate(rng_t *r, char *b, size_t *len, size_t cap, const char *const *frags,
                   size_t nfrags)
{
  size_t n = *len;
  for(size_t e = 1 + below(r, 4); e > 0; e--) {
    size_t at = below(r, n + 1);
    switch(below(r, 9)) {
    case 0:   /* flip one bit */
      if(n)
        b[below(r, n)] ^= (char)(1u << below(r, 8));
      break;
    case 1:   /* any byte */
      if(n)
        b[below(r, n)] = (char)rnd(r);
      break;
    case 2:   /* a special byte in place */
      if(n)
        b[below(r, n)] = fz_special[below(r, sizeof(fz_special) - 1)];
      break;
    case 3:   /* delete a run */
      if(at < n) {
        size_t k = 1 + below(r, n - at < 16 ? n - at : 16);
        memmove(b + at, b + at + k, n - at - k);
        n -= k;
      }
      break;
    case 4:   /* insert a special byte */
      if(n < cap) {
        memmove(b + at + 1, b + at, n - at);
        b[at] = fz_special[below(r, sizeof(fz_special) - 1)];
        n++;
      }
      break;
    case 5:
    case 6: { /* insert a fragment */
      const char *f = nfrags ? frags[below(r, nfrags)] : "\r\n";
      size_t fl = strlen(f);
      if(n + fl <= cap) {
        memmove(b + at + fl, b + at, n - at);
        memcpy(b + at, f, fl);
        n += fl;
      }
      break;
    }
    case 7:   /* truncate */
      if(chance(r, 50))
        n = at;
      break;
    default: { /* duplicate a slice somewhere */
      char tmp[32];
      if(!n)
        break;
      size_t from = below(r, n), k = 1 + below(r, n - from < sizeof(tmp) ? n - from : sizeof(tmp));
      if(n + k > cap)
        break;
      memcpy(tmp, b + from, k);
      memmove(b + at + k, b + at, n - at);
      memcpy(b + at, tmp, k);
      n += k;
      break;
    }
    }
  }
  b[n] = 0;
  *len = n;
}

/* Encodes a scalar value as UTF-8 (written independently of names.c). */
static size_t enc_utf8(uint32_t cp, unsigned char *out)
{
  if(cp < 0x80) {
    out[0] = (unsigned char)cp;
    return 1;
  }
  if(cp < 0x800) {
    out[0] = (unsigned char)(0xC0 | (cp >> 6));
    out[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if(cp < 0x10000) {
    out[0] = (unsigned char)(0xE0 | (cp >> 12));
    out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (unsigned char)(0xF0 | (cp >> 18));
  out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Reference strict UTF-8 check, independent of names.c: decode by the lead
 * byte's leading ones, then refuse overlongs, surrogates and > U+10FFFF. */
static bool ref_utf8_valid(const void *data, size_t n)
{
  const unsigned char *s = data;
  size_t i = 0;
  while(i < n) {
    unsigned c = s[i];
    size_t len;
    uint32_t cp, min;
    if(c < 0x80) {
      i++;
      continue;
    }
    if((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
      min = 0x80;
    }
    else if((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
      min = 0x800;
    }
    else if((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
      min = 0x10000;
    }
    else
      return false;
    if(n - i < len)
      return false;
    for(size_t k = 1; k < len; k++) {
      if((s[i + k] & 0xC0) != 0x80)
        return false;
      cp = cp << 6 | (s[i + k] & 0x3F);
    }
    if(cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

/* Writes one random code point (never NUL) as UTF-8; with `junk`, sometimes
 * a sequence that is not UTF-8 instead. Returns the byte count (1..4). */
static size_t put_cp(rng_t *r, unsigned char *out, bool junk)
{
  static const unsigned char bad[][5] = {
      {2, 0xC0, 0x80},       {2, 0xC1, 0xBF},       {3, 0xE0, 0x80, 0x80}, {3, 0xED, 0xA0, 0x80},
      {3, 0xED, 0xBF, 0xBF}, {4, 0xF0, 0x80, 0x80, 0x80}, {4, 0xF4, 0x90, 0x80, 0x80},
      {4, 0xF5, 0x80, 0x80, 0x80}, {1, 0x80}, {1, 0xBF}, {1, 0xFE}, {1, 0xFF}, {1, 0xC3},
      {2, 0xE2, 0x82},       {3, 0xF0, 0x9F, 0x98}, {2, 0xC3, 0x28}};
  static const uint32_t special[] = {0x1E9E, 0x212A, 0x212B, 0x130, 0x131, 0x17F, 0xB5, 0x3C2,
                                     0xFF,   0x178,  0x7FF,  0x800, 0xFFFF, 0x10000, 0x10FFFF,
                                     0xD7FF, 0xE000, 0xFEFF, 0x85,  0x9F,   0xA0,    0x2028};
  if(junk && chance(r, 12)) {
    const unsigned char *b = bad[below(r, COUNT(bad))];
    memcpy(out, b + 1, b[0]);
    return b[0];
  }
  uint32_t cp;
  switch(below(r, 8)) {
  case 0: cp = 0x20 + (uint32_t)below(r, 0x5F); break;          /* printable ASCII */
  case 1: cp = 1 + (uint32_t)below(r, 0x7F); break;             /* any ASCII but NUL */
  case 2: cp = 0x80 + (uint32_t)below(r, 0x180); break;         /* Latin-1, Latin Ext-A */
  case 3: cp = 0x370 + (uint32_t)below(r, 0x1C0); break;        /* Greek, Cyrillic */
  case 4: cp = special[below(r, COUNT(special))]; break;
  case 5: cp = 0x800 + (uint32_t)below(r, 0xD800 - 0x800); break;
  case 6: cp = 0x10000 + (uint32_t)below(r, 0x100000); break;
  default: cp = (chance(r, 50) ? 'a' : 'A') + (uint32_t)below(r, 26); break;
  }
  return enc_utf8(cp, out);
}

/* Appends `n` random code points (see put_cp) to b. */
static void put_text(rng_t *r, buf_t *b, size_t n, bool junk)
{
  unsigned char cp[4];
  while(n--)
    bput(b, cp, put_cp(r, cp, junk));
}

/* ==== multipart ==== */

/* Records parser callbacks as one log: "B<name>|<f or -><filename>|<type>\n"
 * at a part's start, "D" + bytes for a run of data (adjacent runs merged, so
 * the log does not depend on how the input was split), "E" at a part's end. */
struct mp_rec {
  buf_t log;
  bool in_part, in_data;
  bool order_ok;      /* begin / data / end came in a legal order */
  bool fields_ok;     /* part fields NUL-terminated and consistent */
  bool overflow;      /* the log hit its cap */
  size_t data_bytes;
  int begins, ends;
  int refuse_begin;   /* part_begin call that refuses (1-based), 0 = never */
};

static void rec_add(struct mp_rec *c, const void *p, size_t n)
{
  if(buf_append(&c->log, p, n))
    c->overflow = true;
}

static int rec_begin(void *arg, const struct mp_part *part)
{
  struct mp_rec *c = arg;
  if(c->in_part)
    c->order_ok = false;
  c->in_part = true;
  c->in_data = false;
  c->begins++;
  if(!memchr(part->name, 0, sizeof(part->name)) ||
     !memchr(part->filename, 0, sizeof(part->filename)) ||
     !memchr(part->content_type, 0, sizeof(part->content_type)) ||
     (!part->has_filename && part->filename[0]))
    c->fields_ok = false;
  else if(buf_printf(&c->log, "B%s|%c%s|%s\n", part->name, part->has_filename ? 'f' : '-',
                     part->filename, part->content_type))
    c->overflow = true;
  return c->refuse_begin && c->begins == c->refuse_begin ? -1 : 0;
}

static int rec_data(void *arg, const char *d, size_t n)
{
  struct mp_rec *c = arg;
  if(!c->in_part || n == 0)
    c->order_ok = false;
  if(!c->in_data)
    rec_add(c, "D", 1);
  rec_add(c, d, n);
  c->in_data = true;
  c->data_bytes += n;
  return 0;
}

static int rec_end(void *arg)
{
  struct mp_rec *c = arg;
  if(!c->in_part)
    c->order_ok = false;
  c->in_part = c->in_data = false;
  c->ends++;
  rec_add(c, "E", 1);
  return 0;
}

static const struct mp_callbacks rec_cbs = {rec_begin, rec_data, rec_end};

/* Feeds `len` bytes to a fresh parser, whole (split == NULL) or in random
 * pieces, each copied to its own heap block. Stops at the first error, as
 * the upload route does. Checks the invariants that hold for any input. */
static int mp_run(const char *boundary, const char *body, size_t len, rng_t *split,
                  int refuse_begin, struct mp_rec *c, bool *done)
{
  static struct mp_parser p;   /* 17 KiB: off the stack */
  memset(c, 0, sizeof(*c));
  buf_init(&c->log, 1 << 20);
  c->order_ok = c->fields_ok = true;
  c->refuse_begin = refuse_begin;
  assert_int_equal(mp_init(&p, boundary, &rec_cbs, c), 0);
  size_t off = 0, data_at_done = SIZE_MAX;
  int rc = MP_OK;
  while(off < len && rc == MP_OK) {
    size_t n = len - off;
    if(split) {
      switch(below(split, 4)) {
      case 0: n = 1; break;
      case 1: n = 1 + below(split, n < 16 ? n : 16); break;
      case 2: n = 1 + below(split, n); break;
      default: break;
      }
      if(chance(split, 5))
        FZ_ASSERT(mp_feed(&p, "", 0) == MP_OK);   /* an empty feed changes nothing */
    }
    char *piece = dup_exact(body + off, n, false);
    rc = mp_feed(&p, piece, n);
    free(piece);
    off += n;
    FZ_ASSERT(rc == MP_OK || rc == MP_ERR_SYNTAX || rc == MP_ERR_CALLBACK);
    FZ_ASSERT(rc != MP_ERR_SYNTAX || (p.error && p.error[0]));
    FZ_ASSERT(c->data_bytes <= off);   /* never more data than was fed */
    if(mp_done(&p)) {
      if(data_at_done == SIZE_MAX)
        data_at_done = c->data_bytes;
      FZ_ASSERT(c->data_bytes == data_at_done);   /* nothing after the close */
    }
  }
  *done = mp_done(&p);
  FZ_ASSERT(c->order_ok && c->fields_ok && !c->overflow);
  FZ_ASSERT(c->ends <= c->begins && c->begins <= c->ends + 1);
  FZ_ASSERT(!(*done && rc == MP_OK) || !c->in_part);
  return rc;
}

static void rec_free(struct mp_rec *c)
{
  buf_free(&c->log);
}

static bool rec_equal(const struct mp_rec *a, const struct mp_rec *b)
{
  return a->log.len == b->log.len && !memcmp(bdata(&a->log), bdata(&b->log), a->log.len) &&
         a->data_bytes == b->data_bytes && a->begins == b->begins && a->ends == b->ends;
}

/* ---- generating valid bodies, with the log the parser must produce ---- */

static const char mp_bchars[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'()+_,-./:=?";

static void gen_boundary(rng_t *r, char out[MP_BOUNDARY_MAX + 1])
{
  size_t n;
  if(chance(r, 20)) {   /* the browsers' shape: a long run of dashes first */
    n = (size_t)snprintf(out, MP_BOUNDARY_MAX + 1, "----WebKitFormBoundary");
    while(n < 38)
      out[n++] = mp_bchars[below(r, 62)];
    out[n] = 0;
    return;
  }
  switch(below(r, 4)) {
  case 0: n = 1 + below(r, 3); break;
  case 1: n = MP_BOUNDARY_MAX; break;
  default: n = 1 + below(r, MP_BOUNDARY_MAX); break;
  }
  for(size_t i = 0; i < n; i++)
    out[i] = chance(r, 25) ? '-' : mp_bchars[below(r, sizeof(mp_bchars) - 1)];
  out[n] = 0;
}

/* Appends up to `max` bytes of data: random bytes mixed with CR, LF, dashes
 * and slices of the delimiter, the inputs most likely to confuse the search. */
static void gen_mp_data(rng_t *r, buf_t *b, const char *delim, size_t dlen, size_t max)
{
  static const char *const seps[] = {"\r", "\n", "\r\n", "--", "-", "\r\n\r\n", "\n\r", "\r\r\n"};
  static const char *const after[] = {"\r", "-", "x", "\n"};
  size_t target = b->len + below(r, max + 1);
  while(b->len < target) {
    switch(below(r, 6)) {
    case 0: {
      char tmp[32];
      size_t n = 1 + below(r, sizeof(tmp));
      for(size_t i = 0; i < n; i++)
        tmp[i] = (char)rnd(r);
      bput(b, tmp, n);
      break;
    }
    case 1: bputs(b, PICK(r, seps)); break;
    case 2: {   /* any slice of the delimiter */
      size_t from = below(r, dlen);
      bput(b, delim + from, 1 + below(r, dlen - from));
      break;
    }
    case 3: bput(b, delim, dlen); break;   /* broken again by mp_scrub */
    case 4:     /* all of the delimiter but its last byte, then something else */
      bput(b, delim, dlen - 1);
      bputs(b, PICK(r, after));
      break;
    default: bputs(b, "hello, world "); break;
    }
  }
}

/* Breaks every delimiter inside generated data: no delimiter holds a NUL. */
static void mp_scrub(buf_t *b, const char *delim, size_t dlen)
{
  char *p;
  while(b->len >= dlen && (p = memmem(b->data, b->len, delim, dlen)) != NULL)
    p[dlen - 1] = '\0';
}

/* A parameter value as the part must report it, with the pieces that trip
 * naive parameter parsers (backslashes, ';', '=', other keys). No '"': a
 * browser sends it as %22, which is kept as sent. */
static void gen_param(rng_t *r, char *out, size_t outsz)
{
  static const char *const pieces[] = {
      "a", "Z", "file", "report 2024.pdf", "x.bin", " ", "\t", "\xc3\xa9", "\xe6\x97\xa5",
      "\xf0\x9f\x98\x80", "\\", ";", "=", "name=", " name=evil", "; filename=evil.exe",
      "filename=", "--", "'", "%22"};
  size_t o = 0;
  for(size_t k = below(r, 6); k > 0; k--) {
    const char *p = PICK(r, pieces);
    size_t n = strlen(p);
    if(o + n >= outsz)
      break;
    memcpy(out + o, p, n);
    o += n;
  }
  out[o] = 0;
}

/* A parameter on the wire: a token when it can be one, else a quoted string
 * as browsers write it (backslashes raw). */
static void put_param(rng_t *r, buf_t *b, const char *key, const char *v)
{
  static const char *const seps[] = {"; ", ";", ";\t", " ; "};
  bputs(b, PICK(r, seps));
  bputs(b, key);
  bputs(b, "=");
  static const char tchars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_";
  bool token = *v && strspn(v, tchars) == strlen(v);
  if(token && chance(r, 40)) {
    bputs(b, v);
    return;
  }
  bputs(b, "\"");
  bputs(b, v);
  bputs(b, "\"");
}

struct mp_case {
  char boundary[MP_BOUNDARY_MAX + 1];
  char delim[MP_BOUNDARY_MAX + 5];
  size_t dlen;
  int nparts;
  buf_t wire;   /* the body as sent */
  buf_t want;   /* the log the parser must produce */
};

static void gen_mp_part(rng_t *r, struct mp_case *c, buf_t *tmp)
{
  static const char *const cd_names[] = {"Content-Disposition", "content-disposition",
                                         "CONTENT-DISPOSITION", "Content-disposition"};
  static const char *const ct_names[] = {"Content-Type", "content-type", "CONTENT-TYPE"};
  static const char *const colons[] = {": ", ":", ":\t", ":  "};
  static const char *const types[] = {"application/octet-stream", "text/plain; charset=utf-8",
                                      "image/png", "", "multipart/mixed; boundary=\"in\""};
  static const char *const junk[] = {"X-Junk: whatever", "Content-Length: 5",
                                     "Content-Transfer-Encoding: binary"};
  char name[64], fname[64];
  bool has_fn = chance(r, 60);
  const char *ct = chance(r, 50) ? PICK(r, types) : NULL;
  gen_param(r, name, sizeof(name));
  gen_param(r, fname, sizeof(fname));

  buf_t lines[3];
  size_t nlines = 0;
  buf_init(&lines[nlines], 4096);
  buf_t *cd = &lines[nlines++];
  bputs(cd, PICK(r, cd_names));
  bputs(cd, PICK(r, colons));
  bputs(cd, chance(r, 80) ? "form-data" : "Form-Data");
  /* RFC 7578 fixes no order for the parameters. */
  bool fn_first = has_fn && chance(r, 50);
  if(fn_first)
    put_param(r, cd, "filename", fname);
  put_param(r, cd, "name", name);
  if(has_fn && !fn_first)
    put_param(r, cd, "filename", fname);
  if(ct) {
    buf_init(&lines[nlines], 4096);
    bputs(&lines[nlines], PICK(r, ct_names));
    bputs(&lines[nlines], PICK(r, colons));
    bputs(&lines[nlines++], ct);
  }
  if(chance(r, 20)) {
    buf_init(&lines[nlines], 4096);
    bputs(&lines[nlines++], PICK(r, junk));
  }
  /* Header lines in a random order. */
  for(size_t i = nlines; i > 1; i--) {
    size_t j = below(r, i);
    buf_t t = lines[i - 1];
    lines[i - 1] = lines[j];
    lines[j] = t;
  }
  for(size_t i = 0; i < nlines; i++) {
    bput(&c->wire, bdata(&lines[i]), lines[i].len);
    bputs(&c->wire, "\r\n");
    buf_free(&lines[i]);
  }
  bputs(&c->wire, "\r\n");
  assert_int_equal(buf_printf(&c->want, "B%s|%c%s|%s\n", name, has_fn ? 'f' : '-',
                              has_fn ? fname : "", ct ? ct : ""),
                   BUF_OK);

  buf_reset(tmp);
  gen_mp_data(r, tmp, c->delim, c->dlen, chance(r, 10) ? 3000 : 200);
  mp_scrub(tmp, c->delim, c->dlen);
  bput(&c->wire, bdata(tmp), tmp->len);
  if(tmp->len) {
    bputs(&c->want, "D");
    bput(&c->want, bdata(tmp), tmp->len);
  }
  bputs(&c->want, "E");
  bput(&c->wire, c->delim, c->dlen);
}

static void gen_multipart(rng_t *r, struct mp_case *c)
{
  static const char *const pads[] = {" ", "\t", " \t "};
  buf_t tmp;
  buf_init(&tmp, 1 << 16);
  gen_boundary(r, c->boundary);
  c->dlen = (size_t)snprintf(c->delim, sizeof(c->delim), "\r\n--%s", c->boundary);
  buf_reset(&c->wire);
  buf_reset(&c->want);
  if(chance(r, 30)) {
    /* A preamble, scrubbed with the CRLF the parser assumes before it. */
    bputs(&tmp, "\r\n");
    gen_mp_data(r, &tmp, c->delim, c->dlen, 64);
    mp_scrub(&tmp, c->delim, c->dlen);
    bput(&c->wire, tmp.data + 2, tmp.len - 2);
    bput(&c->wire, c->delim, c->dlen);
  }
  else
    bput(&c->wire, c->delim + 2, c->dlen - 2);
  c->nparts = (int)below(r, 6);
  for(int i = 0; i < c->nparts; i++) {
    if(chance(r, 10))
      bputs(&c->wire, PICK(r, pads));   /* transport padding */
    bputs(&c->wire, "\r\n");
    gen_mp_part(r, c, &tmp);
  }
  bputs(&c->wire, "--");
  if(chance(r, 30)) {   /* an epilogue: anything at all */
    bputs(&c->wire, "\r\n");
    gen_mp_data(r, &c->wire, c->delim, c->dlen, 64);
  }
  buf_free(&tmp);
}

/* Valid bodies give the expected parts and bytes, fed whole or split at
 * random; a refusing callback stops the parse. */
static void test_multipart_valid_splits(void **state)
{
  rng_t r = rng_seed(0x6d756c7469706172ULL);
  struct mp_case c;
  struct mp_rec rec;
  buf_init(&c.wire, 1 << 20);
  buf_init(&c.want, 1 << 20);
  for(unsigned long it = 0; it < MP_VALID_ITERS; it++) {
    bool done;
    gen_multipart(&r, &c);
    fz_case("multipart valid", it, c.wire.data, c.wire.len);
    for(int s = 0; s < 4; s++) {
      int rc = mp_run(c.boundary, bdata(&c.wire), c.wire.len, s ? &r : NULL, 0, &rec, &done);
      FZ_ASSERT(rc == MP_OK && done);
      FZ_ASSERT(rec.log.len == c.want.len && !memcmp(bdata(&rec.log), bdata(&c.want), c.want.len));
      FZ_ASSERT(rec.begins == c.nparts && rec.ends == c.nparts);
      rec_free(&rec);
    }
    if(c.nparts > 0) {
      int refuse = 1 + (int)below(&r, (size_t)c.nparts);
      int rc = mp_run(c.boundary, bdata(&c.wire), c.wire.len, &r, refuse, &rec, &done);
      FZ_ASSERT(rc == MP_ERR_CALLBACK && !done && rec.begins == refuse);
      rec_free(&rec);
    }
  }
  buf_free(&c.wire);
  buf_free(&c.want);

  /* Found by this test: text inside a quoted value that looks like another
   * parameter ("; name=") used to be taken for it. */
  static const char quoted[] =
      "--b\r\nContent-Disposition: form-data; filename=\"a; name=x.txt\"; name=\"file\"\r\n"
      "\r\nz\r\n--b\r\nContent-Disposition: form-data; name=\"n filename=q\"\r\n\r\n\r\n--b--";
  static const char want[] = "Bfile|fa; name=x.txt|\nDzEBn filename=q|-|\nE";
  bool done;
  fz_case("multipart quoted params", 0, quoted, sizeof(quoted) - 1);
  FZ_ASSERT(mp_run("b", quoted, sizeof(quoted) - 1, NULL, 0, &rec, &done) == MP_OK && done);
  FZ_ASSERT(rec.log.len == sizeof(want) - 1 && !memcmp(rec.log.data, want, sizeof(want) - 1));
  rec_free(&rec);
}

/* Mutated bodies never crash or over-report, and the outcome (callbacks,
 * bytes, result) does not depend on how the body was split. */
static void test_multipart_mutations(void **state)
{
  rng_t r = rng_seed(0x6d7574617465ULL);
  struct mp_case c;
  struct mp_rec whole, split;
  buf_init(&c.wire, 1 << 20);
  buf_init(&c.want, 1 << 20);
  for(unsigned long it = 0; it < MP_MUTATE_ITERS; it++) {
    gen_multipart(&r, &c);
    char dash[MP_BOUNDARY_MAX + 3], half[MP_BOUNDARY_MAX + 5];
    snprintf(dash, sizeof(dash), "--%s", c.boundary);
    snprintf(half, sizeof(half), "%.*s", (int)(c.dlen / 2 + 1), c.delim);
    const char *frags[] = {c.boundary, dash, c.delim, half, "\r\n", "\r\n\r\n", "--", "\r", "\n",
                           "Content-Disposition: form-data; name=\"m\"\r\n\r\n",
                           "Content-Type: x\r\n", "; filename=\"f\"", " \t"};
    size_t cap = c.wire.len + 512, len = c.wire.len;
    char *m = malloc(cap + 1);
    assert_non_null(m);
    memcpy(m, bdata(&c.wire), len);
    mutate(&r, m, &len, cap, frags, COUNT(frags));
    fz_case("multipart mutated", it, m, len);
    bool done1, done2;
    int rc1 = mp_run(c.boundary, m, len, NULL, 0, &whole, &done1);
    int rc2 = mp_run(c.boundary, m, len, &r, 0, &split, &done2);
    FZ_ASSERT(rc1 != MP_ERR_CALLBACK);
    FZ_ASSERT(rc1 == rc2 && done1 == done2);
    FZ_ASSERT(rec_equal(&whole, &split));
    rec_free(&whole);
    rec_free(&split);
    free(m);
  }
  buf_free(&c.wire);
  buf_free(&c.want);

  /* Part headers past MP_HEADERS_MAX are refused, however they arrive. */
  buf_t big;
  buf_init(&big, 1 << 20);
  bputs(&big, "--b\r\nContent-Disposition: form-data; name=\"");
  for(int i = 0; i < MP_HEADERS_MAX; i++)
    bputs(&big, "a");
  bputs(&big, "\"\r\n\r\nx\r\n--b--");
  fz_case("multipart big headers", 0, big.data, big.len);
  bool done;
  struct mp_rec rec;
  for(int s = 0; s < 2; s++) {
    FZ_ASSERT(mp_run("b", big.data, big.len, s ? &r : NULL, 0, &rec, &done) == MP_ERR_SYNTAX);
    FZ_ASSERT(rec.begins == 0 && !done);
    rec_free(&rec);
  }
  buf_free(&big);
}

/* The boundary comes out of a Content-Type header: bounded, non-empty, and
 * exactly the one sent when the header is well formed. */
static void test_multipart_content_type(void **state)
{
  static const char *const types[] = {"multipart/form-data", "Multipart/Form-Data",
                                      " multipart/form-data", "multipart/mixed", "text/plain"};
  static const char *const params[] = {"charset=utf-8", "x=y", "boundary", "boundary=",
                                       "BOUNDARY=\"\"", "name=\"a;b\""};
  static const char *const seps[] = {"; ", ";", ";\t", "; \t"};
  static const char *const frags[] = {";", "\"", "boundary=", " ", "\t", "=", "--"};
  rng_t r = rng_seed(0x63742d626f756eULL);
  for(unsigned long it = 0; it < MP_CT_ITERS; it++) {
    char b[MP_BOUNDARY_MAX + 1], ct[512];
    buf_t h;
    buf_init(&h, 400);
    gen_boundary(&r, b);
    const char *type = PICK(&r, types);
    bool quoted = strpbrk(b, "; \t\"") || chance(&r, 30);
    bool first_wins = true;   /* no earlier "boundary=" parameter to take precedence */
    bputs(&h, type);
    if(chance(&r, 30)) {
      const char *param = PICK(&r, params);
      first_wins = strncasecmp(param, "boundary=", 9) != 0;
      bputs(&h, PICK(&r, seps));
      bputs(&h, param);
    }
    bputs(&h, PICK(&r, seps));
    bputs(&h, chance(&r, 80) ? "boundary=" : "Boundary=");
    if(quoted)
      bputs(&h, "\"");
    bputs(&h, b);
    if(quoted)
      bputs(&h, "\"");
    if(chance(&r, 30)) {
      bputs(&h, PICK(&r, seps));
      bputs(&h, "charset=utf-8");
    }
    /* Well formed (before mutation): the boundary must come back as sent. */
    bool form = strncasecmp(type + (type[0] == ' '), "multipart/form-data", 19) == 0;
    size_t len = h.len, outsz = chance(&r, 20) ? 1 + below(&r, sizeof(b)) : sizeof(b);
    memcpy(ct, h.data, len + 1);
    buf_free(&h);
    bool mutated = chance(&r, 60);
    if(mutated)
      mutate(&r, ct, &len, sizeof(ct) - 1, frags, COUNT(frags));
    fz_case("content-type", it, ct, len);
    char *in = dup_exact(ct, strlen(ct), true);
    char *out = malloc(outsz);
    assert_non_null(out);
    int rc = mp_boundary_from_content_type(in, out, outsz);
    FZ_ASSERT(rc == 0 || rc == -1);
    if(rc == 0) {
      size_t n = strnlen(out, outsz);
      FZ_ASSERT(n > 0 && n < outsz && n <= MP_BOUNDARY_MAX);
    }
    if(!mutated && form && first_wins && strlen(b) < outsz)
      FZ_ASSERT(rc == 0 && !strcmp(out, b));
    free(in);
    free(out);
  }
}

/* ==== Range, conditionals, HTTP dates ==== */

struct rspec {
  int kind;     /* 0 first-last, 1 first-, 2 -suffix */
  uint64_t a, b;
};

static uint64_t gen_size(rng_t *r)
{
  switch(below(r, 8)) {
  case 0: return 0;
  case 1: return 1 + below64(r, 3);
  case 2: return below64(r, 1000);
  case 3: return rnd(r) >> below(r, 64);
  case 4: return UINT64_MAX;
  case 5: return UINT64_MAX - below64(r, 3);
  default: return 1 + below64(r, 1u << 20);
  }
}

static uint64_t gen_pos(rng_t *r, uint64_t size)
{
  switch(below(r, 8)) {
  case 0: return 0;
  case 1: return size ? size - 1 : 0;
  case 2: return size;
  case 3: return size + 1;   /* wraps to 0 at UINT64_MAX: still a position */
  case 4: return UINT64_MAX;
  case 5: return rnd(r) >> below(r, 64);
  default: return size ? below64(r, size) : below64(r, 10);
  }
}

/* A number as a client may write it: leading zeros are still 1*DIGIT, and
 * anything past 64 bits saturates, which the oracle models as UINT64_MAX. */
static void put_num(rng_t *r, buf_t *b, uint64_t v)
{
  static const char *const huge[] = {"18446744073709551615", "18446744073709551616",
                                     "99999999999999999999", "000018446744073709551615",
                                     "340282366920938463463374607431768211456"};
  if(v == UINT64_MAX && chance(r, 50)) {
    bputs(b, PICK(r, huge));
    return;
  }
  for(size_t z = chance(r, 10) ? 1 + below(r, 3) : 0; z > 0; z--)
    bputs(b, "0");
  assert_int_equal(buf_printf(b, "%" PRIu64, v), BUF_OK);
}

static void put_ows(rng_t *r, buf_t *b)
{
  static const char *const ows[] = {" ", "\t", "  ", " \t"};
  if(chance(r, 30))
    bputs(b, PICK(r, ows));
}

/* Renders specs as a Range header and returns what range_parse must answer
 * (ranges in `want`, *nwant of them). `bad` makes one spec last < first. */
static enum range_result gen_range(rng_t *r, buf_t *h, uint64_t size, size_t max, bool bad,
                                   struct range *want, size_t *nwant)
{
  static const char *const units[] = {"bytes=", "BYTES=", "Bytes=", "bYtEs="};
  size_t nspecs = chance(r, 10) ? below(r, RANGE_MAX + 20) : below(r, 6);
  size_t bad_at = bad && nspecs ? below(r, nspecs) : SIZE_MAX;
  bool invalid = false;
  *nwant = 0;
  buf_reset(h);
  put_ows(r, h);
  bputs(h, PICK(r, units));
  for(size_t i = 0; i < nspecs; i++) {
    struct rspec s = {(int)below(r, 3), gen_pos(r, size), 0};
    s.b = s.kind == 1 ? UINT64_MAX : gen_pos(r, size);
    if(s.kind == 0 && s.b < s.a) {   /* keep generated specs valid ... */
      uint64_t t = s.a;
      s.a = s.b;
      s.b = t;
    }
    if(i == bad_at && s.b < UINT64_MAX) {   /* ... except the one meant to be bad */
      s.kind = 0;
      s.a = s.b + 1;
      invalid = true;
    }
    if(i > 0 || chance(r, 10)) {
      put_ows(r, h);
      bputs(h, chance(r, 10) ? ", ," : ",");
    }
    put_ows(r, h);
    if(s.kind != 2)
      put_num(r, h, s.a);
    bputs(h, "-");
    if(s.kind != 1)
      put_num(r, h, s.b);
    put_ows(r, h);
    /* Satisfiable specs, clamped, in request order (RFC 9110 §14.1.1). */
    if(*nwant >= RANGE_MAX + 20)
      continue;
    if(s.kind == 2) {
      if(s.b == 0 || size == 0)
        continue;
      want[*nwant].first = s.b >= size ? 0 : size - s.b;
      want[*nwant].last = size - 1;
      ++*nwant;
    }
    else if(s.a < size) {
      want[*nwant].first = s.a;
      want[*nwant].last = s.b >= size ? size - 1 : s.b;
      ++*nwant;
    }
  }
  if(chance(r, 10)) {
    put_ows(r, h);
    bputs(h, ",");
  }
  if(nspecs == 0 || nspecs > max || invalid) {
    *nwant = 0;
    return RANGE_IGNORE;
  }
  return *nwant ? RANGE_OK : RANGE_UNSATISFIABLE;
}

static bool range_in(const struct range *x, const struct range *y)
{
  return x->first >= y->first && x->last <= y->last;
}

/* What range_coalesce promises: sorted, disjoint, at least `gap` bytes apart,
 * covering every input, with ends taken from the input. */
static void check_coalesce(rng_t *r, const struct range *in, size_t n, uint64_t size)
{
  static const uint64_t gaps[] = {0, 1, 2, RANGE_COALESCE_GAP, 1000, UINT64_MAX};
  struct range out[RANGE_MAX];
  uint64_t gap = gaps[below(r, COUNT(gaps))];
  memcpy(out, in, n * sizeof(*in));
  size_t m = range_coalesce(out, n, gap);
  FZ_ASSERT(m >= 1 && m <= n);
  for(size_t i = 0; i < m; i++) {
    FZ_ASSERT(out[i].first <= out[i].last && out[i].last < size);
    if(i + 1 < m)
      FZ_ASSERT(out[i].last < out[i + 1].first && out[i + 1].first - out[i].last - 1 >= gap);
    bool first_from_input = false, last_from_input = false;
    for(size_t k = 0; k < n; k++) {
      first_from_input |= in[k].first == out[i].first;
      last_from_input |= in[k].last == out[i].last;
    }
    FZ_ASSERT(first_from_input && last_from_input);
  }
  for(size_t k = 0; k < n; k++) {
    bool covered = false;
    for(size_t i = 0; i < m && !covered; i++)
      covered = range_in(&in[k], &out[i]);
    FZ_ASSERT(covered);
  }
}

static void check_range_result(enum range_result res, const struct range *out, size_t n,
                               size_t max, uint64_t size)
{
  FZ_ASSERT(res == RANGE_IGNORE || res == RANGE_OK || res == RANGE_UNSATISFIABLE);
  if(res != RANGE_OK) {
    FZ_ASSERT(n == 0);
    return;
  }
  FZ_ASSERT(n >= 1 && n <= max);
  for(size_t i = 0; i < n; i++)
    FZ_ASSERT(out[i].first <= out[i].last && out[i].last < size);
}

/* Generated headers agree with an oracle; the accepted ranges lie inside the
 * representation and survive coalescing. */
static void test_range_generated(void **state)
{
  static const size_t maxes[] = {1, 2, 5, RANGE_MAX};
  rng_t r = rng_seed(0x72616e6765ULL);
  struct range want[RANGE_MAX + 20];
  buf_t h;
  buf_init(&h, 1 << 16);
  for(unsigned long it = 0; it < RANGE_ITERS; it++) {
    uint64_t size = gen_size(&r);
    size_t max = maxes[below(&r, COUNT(maxes))], nwant, n = 99;
    enum range_result exp = gen_range(&r, &h, size, max, chance(&r, 5), want, &nwant);
    fz_case("range generated", it, h.data, h.len);
    char *in = dup_exact(h.data, h.len, true);
    struct range *out = malloc(max * sizeof(*out));   /* exactly `max`: ASan checks the bound */
    assert_non_null(out);
    enum range_result res = range_parse(in, size, out, max, &n);
    FZ_ASSERT(res == exp);
    check_range_result(res, out, n, max, size);
    if(res == RANGE_OK) {
      FZ_ASSERT(n == nwant && !memcmp(out, want, n * sizeof(*out)));
      check_coalesce(&r, out, n, size);
    }
    /* range_evaluate without preconditions follows range_parse. */
    struct range_request rq = {.range = in, .is_get = true};
    struct range_plan plan;
    range_evaluate(&rq, size, "\"e\"", 0, 0, &plan);
    if(max == RANGE_MAX)
      FZ_ASSERT(plan.status == (exp == RANGE_OK ? 206u : exp == RANGE_UNSATISFIABLE ? 416u : 200u));
    free(in);
    free(out);
  }
  buf_free(&h);

  /* Exactly RANGE_MAX specs are honoured, one more is ignored, and a header
   * of 100000 specs or a number of 100000 digits is cheap and harmless. */
  struct range out[RANGE_MAX];
  size_t n;
  buf_t big;
  buf_init(&big, 1 << 21);
  bputs(&big, "bytes=");
  for(int i = 0; i < RANGE_MAX; i++)
    assert_int_equal(buf_printf(&big, "%s%d-%d", i ? "," : "", 2 * i, 2 * i), BUF_OK);
  assert_int_equal(range_parse(big.data, 1000, out, RANGE_MAX, &n), RANGE_OK);
  assert_int_equal(n, RANGE_MAX);
  assert_int_equal(out[RANGE_MAX - 1].first, 2 * (RANGE_MAX - 1));
  bputs(&big, ",500-");
  assert_int_equal(range_parse(big.data, 1000, out, RANGE_MAX, &n), RANGE_IGNORE);
  for(int i = 0; i < 100000; i++)
    bputs(&big, ",0-0");
  assert_int_equal(range_parse(big.data, 1000, out, RANGE_MAX, &n), RANGE_IGNORE);
  buf_reset(&big);
  bputs(&big, "bytes=5-");
  for(int i = 0; i < 100000; i++)
    bputs(&big, "9");
  assert_int_equal(range_parse(big.data, 10, out, RANGE_MAX, &n), RANGE_OK);
  assert_true(n == 1 && out[0].first == 5 && out[0].last == 9);
  buf_reset(&big);
  bputs(&big, "bytes=");
  for(int i = 0; i < 100000; i++)
    bputs(&big, "9");
  bputs(&big, "-");
  assert_int_equal(range_parse(big.data, UINT64_MAX, out, RANGE_MAX, &n), RANGE_UNSATISFIABLE);
  buf_free(&big);
}

#define FZ_ETAG "\"0123abcd\""

/* Random If-* lists for the entity tag above. */
static void gen_etag_list(rng_t *r, buf_t *b)
{
  static const char *const pieces[] = {"*", FZ_ETAG, "W/" FZ_ETAG, "\"other\"", "W/\"other\"",
                                       ",", " ", "\t", "\"", "W/", "\"unterminated", "\"\""};
  buf_reset(b);
  for(size_t k = 1 + below(r, 5); k > 0; k--)
    bputs(b, PICK(r, pieces));
}

/* Mutated Range / If-* headers and random preconditions: the plan is always
 * one of the five answers and its ranges are valid. */
static void test_range_mutated(void **state)
{
  static const char *const frags[] = {"bytes=", ",", "-", "0", "9", " ", "\t",
                                      "99999999999999999999", "-0", "0-0", ",,"};
  rng_t r = rng_seed(0x6d7574726e67ULL);
  struct range want[RANGE_MAX + 20];
  buf_t h, im, inm, ir;
  buf_init(&h, 1 << 16);
  buf_init(&im, 256);
  buf_init(&inm, 256);
  buf_init(&ir, 256);
  for(unsigned long it = 0; it < RANGE_MUTATE_ITERS; it++) {
    uint64_t size = gen_size(&r);
    size_t nwant, n = 99, len;
    gen_range(&r, &h, size, RANGE_MAX, chance(&r, 5), want, &nwant);
    char m[2048];
    len = h.len < sizeof(m) - 64 ? h.len : sizeof(m) - 64;
    memcpy(m, h.data, len);
    mutate(&r, m, &len, sizeof(m) - 1, frags, COUNT(frags));
    fz_case("range mutated", it, m, len);
    char *in = dup_exact(m, strlen(m), true);
    struct range out[RANGE_MAX];
    enum range_result res = range_parse(in, size, out, RANGE_MAX, &n);
    check_range_result(res, out, n, RANGE_MAX, size);
    if(res == RANGE_OK)
      check_coalesce(&r, out, n, size);

    /* Entity tags: a strong match is also a weak match; "*" matches all. */
    gen_etag_list(&r, &im);
    bool strong = range_etag_match(im.data, FZ_ETAG, false);
    bool weak = range_etag_match(im.data, FZ_ETAG, true);
    FZ_ASSERT(!strong || weak);
    if(!strcmp(im.data, "*"))
      FZ_ASSERT(strong && weak);
    if(!strncmp(im.data, FZ_ETAG, strlen(FZ_ETAG)))
      FZ_ASSERT(weak);

    /* The whole evaluation with random preconditions. */
    gen_etag_list(&r, &inm);
    buf_reset(&ir);
    bputs(&ir, chance(&r, 50) ? FZ_ETAG : "Sun, 06 Nov 1994 08:49:37 GMT");
    struct range_request rq = {
        .range = chance(&r, 80) ? in : NULL,
        .if_range = chance(&r, 20) ? ir.data : NULL,
        .if_match = chance(&r, 20) ? im.data : NULL,
        .if_none_match = chance(&r, 20) ? inm.data : NULL,
        .if_modified_since = chance(&r, 10) ? "Sun, 06 Nov 1994 08:49:37 GMT" : NULL,
        .if_unmodified_since = chance(&r, 10) ? "Sunday, 06-Nov-94 08:49:37 GMT" : NULL,
        .is_get = chance(&r, 80)};
    struct range_plan plan;
    range_evaluate(&rq, size, FZ_ETAG, 784111777 + (int64_t)below(&r, 3) - 1,
                   784111777 + (int64_t)below(&r, 3) - 1, &plan);
    FZ_ASSERT(plan.status == 200 || plan.status == 206 || plan.status == 304 ||
              plan.status == 412 || plan.status == 416);
    if(plan.status == 206) {
      FZ_ASSERT(rq.is_get && rq.range && plan.n >= 1 && plan.n <= RANGE_MAX);
      for(size_t i = 0; i < plan.n; i++) {
        FZ_ASSERT(plan.ranges[i].first <= plan.ranges[i].last && plan.ranges[i].last < size);
        if(i + 1 < plan.n)
          FZ_ASSERT(plan.ranges[i].last < plan.ranges[i + 1].first);
      }
    }
    else
      FZ_ASSERT(plan.n == 0);
    if(plan.status == 416)
      FZ_ASSERT(rq.is_get && rq.range);
    free(in);
  }
  buf_free(&h);
  buf_free(&im);
  buf_free(&inm);
  buf_free(&ir);
}

static const int64_t DATE_LO = -62167219200;   /* 0000-01-01T00:00:00Z */
static const int64_t DATE_HI = 253402300799;   /* 9999-12-31T23:59:59Z */

static void flip_case(rng_t *r, char *s)
{
  for(; *s; s++)
    if(((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')) && chance(r, 30))
      *s ^= 0x20;
}

/* HTTP dates: format / parse round trips in all three formats and any case;
 * a mutated date, when accepted, formats to a date that parses to itself. */
static void test_http_dates(void **state)
{
  static const char *const days_long[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                           "Thursday", "Friday", "Saturday"};
  static const char *const days_short[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char *const frags[] = {"GMT", " ", ",", "-", ":", "60", "99", "Feb", "29",
                                      "Sunday", "0000", "9999", "  "};
  rng_t r = rng_seed(0x64617465ULL);
  for(unsigned long it = 0; it < DATE_ITERS; it++) {
    int64_t t, got = 0;
    switch(below(&r, 4)) {
    case 0: t = DATE_LO + (int64_t)below64(&r, (uint64_t)(DATE_HI - DATE_LO) + 1); break;
    case 1: t = (int64_t)below64(&r, 4102444800); break;   /* 1970..2100 */
    case 2:   /* the edges of the formattable years */
      t = chance(&r, 50) ? DATE_LO + (int64_t)below(&r, 100000)
                         : DATE_HI - (int64_t)below(&r, 100000);
      break;
    default: t = (int64_t)(rnd(&r) >> 1) * (chance(&r, 50) ? 1 : -1); break;   /* clamped */
    }
    char imf[RANGE_DATE_LEN], alt[64];
    range_date_format(t, imf);
    int64_t tc = t < DATE_LO ? DATE_LO : t > DATE_HI ? DATE_HI : t;
    fz_case("date format", it, imf, sizeof(imf));
    FZ_ASSERT(strlen(imf) == RANGE_DATE_LEN - 1);
    FZ_ASSERT(range_date_parse(imf, &got) == 0 && got == tc);

    /* The same instant as asctime and (for 1970..2069) RFC 850, any case. */
    int day = (imf[5] - '0') * 10 + (imf[6] - '0');
    int year = atoi(imf + 12);
    if(day < 10 && chance(&r, 70))
      snprintf(alt, sizeof(alt), "%.3s %.3s  %d %.8s %.4s", imf, imf + 8, day, imf + 17, imf + 12);
    else
      snprintf(alt, sizeof(alt), "%.3s %.3s %02d %.8s %.4s", imf, imf + 8, day, imf + 17, imf + 12);
    flip_case(&r, alt);
    fz_case("date asctime", it, alt, strlen(alt));
    FZ_ASSERT(range_date_parse(alt, &got) == 0 && got == tc);
    if(year >= 1970 && year <= 2069) {
      int w = 0;
      while(w < 7 && strncmp(imf, days_short[w], 3))
        w++;
      assert_true(w < 7);
      snprintf(alt, sizeof(alt), "%s, %.2s-%.3s-%02d %.8s GMT", days_long[w], imf + 5, imf + 8,
               year % 100, imf + 17);
      flip_case(&r, alt);
      fz_case("date rfc850", it, alt, strlen(alt));
      FZ_ASSERT(range_date_parse(alt, &got) == 0 && got == tc);
    }

    /* Mutations: accepted dates are canonical after one format. */
    char m[96];
    size_t len = strlen(imf);
    memcpy(m, imf, len + 1);
    mutate(&r, m, &len, sizeof(m) - 1, frags, COUNT(frags));
    fz_case("date mutated", it, m, len);
    char *in = dup_exact(m, strlen(m), true);
    if(range_date_parse(in, &got) == 0 && got >= DATE_LO && got <= DATE_HI) {
      int64_t again = 0;
      range_date_format(got, imf);
      FZ_ASSERT(range_date_parse(imf, &again) == 0 && again == got);
    }
    free(in);
  }
}

/* ==== JSON bodies ==== */

/* A random JSON value; objects may nest. Strings are valid UTF-8 and, with
 * `nul`, may hold U+0000. */
static json_t *gen_json(rng_t *r, int depth, bool nul)
{
  switch(below(r, depth > 3 ? 5 : 7)) {
  case 0: return json_null();
  case 1: return json_boolean(chance(r, 50));
  case 2: {
    static const json_int_t edges[] = {0, -1, 1, INT64_MAX, INT64_MIN, 9007199254740993};
    return json_integer(chance(r, 30) ? edges[below(r, COUNT(edges))]
                                      : (json_int_t)rnd(r) >> below(r, 63));
  }
  case 3: {
    double d = (double)(int64_t)(rnd(r) >> 11) / (double)(1u + below(r, 1000000));
    return json_real(chance(r, 50) ? d : -d);
  }
  case 4: {
    buf_t s;
    buf_init(&s, 4096);
    put_text(r, &s, below(r, 12), false);
    if(nul && chance(r, 20))
      bput(&s, "\0x", 2);
    json_t *j = json_stringn(bdata(&s), s.len);
    buf_free(&s);
    return j;
  }
  case 5: {
    json_t *a = json_array();
    for(size_t k = below(r, 4); k > 0; k--)
      json_array_append_new(a, gen_json(r, depth + 1, nul));
    return a;
  }
  default: {
    json_t *o = json_object();
    for(size_t k = below(r, 5); k > 0; k--) {
      static const char *const keys[] = {"name", "size", "parent_id", "ok", "", "\xc3\xa9",
                                         "a b", "x\"y", "nul"};
      json_object_set_new(o, PICK(r, keys), gen_json(r, depth + 1, nul));
    }
    return o;
  }
  }
}

/* The typed getters agree with the value's type for every field. */
static void check_json_fields(const json_t *obj, unsigned flags)
{
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)obj, key, v) {
    const char *s = NULL;
    int64_t i = 0;
    bool b = false;
    int rs = jsonx_get_str(obj, key, &s), ri = jsonx_get_int(obj, key, &i),
        rb = jsonx_get_bool(obj, key, &b);
    if(json_is_null(v))
      FZ_ASSERT(rs == 1 && ri == 1 && rb == 1);
    else if(json_is_string(v)) {
      if(strlen(json_string_value(v)) == json_string_length(v))
        FZ_ASSERT(rs == 0 && s == json_string_value(v));
      else
        FZ_ASSERT(rs == -2 && (flags & JSONX_ALLOW_NUL));
      FZ_ASSERT(ri == -1 && rb == -1);
    }
    else if(json_is_integer(v))
      FZ_ASSERT(ri == 0 && i == (int64_t)json_integer_value(v) && rs == -1 && rb == -1);
    else if(json_is_boolean(v))
      FZ_ASSERT(rb == 0 && b == json_is_true(v) && rs == -1 && ri == -1);
    else
      FZ_ASSERT(rs == -1 && ri == -1 && rb == -1);
  }
  const char *s = NULL;
  if(!json_object_get(obj, "\x01missing"))
    FZ_ASSERT(jsonx_get_str(obj, "\x01missing", &s) == 1);
}

/* Parses with both flag sets and checks everything jsonx promises. Returns
 * the object parsed with `flags` (or NULL). */
static json_t *json_try(const char *data, size_t len, unsigned flags, rng_t *r)
{
  static const size_t errlens[] = {1, 8, 64, 160};
  char err[200];
  size_t errlen = errlens[below(r, COUNT(errlens))];
  memset(err, 0x5a, sizeof(err));
  char *in = dup_exact(data, len, false);
  json_t *j = jsonx_parse_object_ex(in, len, flags, err, errlen);
  free(in);
  for(size_t k = errlen; k < sizeof(err); k++)
    FZ_ASSERT(err[k] == 0x5a);   /* never past errlen */
  if(!j) {
    FZ_ASSERT(memchr(err, 0, errlen) && (errlen == 1 || err[0]));
    return NULL;
  }
  FZ_ASSERT(json_is_object(j));
  check_json_fields(j, flags);
  /* Dumped and re-read, the same value comes back. */
  char *dump = json_dumps(j, JSON_COMPACT);
  assert_non_null(dump);
  char e2[160];
  json_t *again = jsonx_parse_object_ex(dump, strlen(dump), flags, e2, sizeof(e2));
  FZ_ASSERT(again && json_equal(j, again));
  json_decref(again);
  free(dump);
  return j;
}

/* Random values dumped in random styles parse back equal; U+0000 only with
 * JSONX_ALLOW_NUL; a top-level non-object is refused. */
static void test_json_generated(void **state)
{
  static const size_t styles[] = {JSON_COMPACT, JSON_INDENT(2), JSON_ENSURE_ASCII,
                                  JSON_SORT_KEYS | JSON_INDENT(1), 0};
  rng_t r = rng_seed(0x6a736f6eULL);
  for(unsigned long it = 0; it < JSON_GEN_ITERS; it++) {
    bool nul = chance(&r, 30);
    json_t *v = gen_json(&r, chance(&r, 80) ? 4 : 0, nul);   /* mostly a top-level object */
    assert_non_null(v);
    char *text = json_dumps(v, styles[below(&r, COUNT(styles))] | JSON_ENCODE_ANY);
    assert_non_null(text);
    fz_case("json generated", it, text, strlen(text));
    bool has_nul = strstr(text, "\\u0000") != NULL;
    json_t *j0 = json_try(text, strlen(text), 0, &r);
    json_t *j1 = json_try(text, strlen(text), JSONX_ALLOW_NUL, &r);
    if(json_is_object(v)) {
      FZ_ASSERT(j1 && json_equal(v, j1));
      FZ_ASSERT(has_nul ? !j0 : j0 && json_equal(v, j0));
    }
    else
      FZ_ASSERT(!j0 && !j1);
    json_decref(j0);
    json_decref(j1);
    json_decref(v);
    free(text);
  }
}

static const char *const json_seeds[] = {
    "{\"name\":\"report.pdf\",\"parent_id\":\"f_0123456789\",\"size\":1048576}",
    "{\"username\":\"alice\",\"password\":\"correct horse\",\"remember\":true}",
    "{\"ids\":[\"a\",\"b\",\"c\"],\"target\":null,"
    "\"deep\":{\"x\":[1,2,{\"y\":[true,false,null]}]}}",
    "{\"s\":\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\","
    "\"n\":-0,\"r\":1.5e300,\"big\":9223372036854775807}",
    "{\"nul\":\"a\\u0000b\",\"i\":-9223372036854775808,\"f\":0.1,\"e\":1E-7}",
    "{\"dup\":1,\"dup\":\"two\",\"\":\"empty key\","
    "\"utf8\":\"\xe6\x97\xa5\xe6\x9c\xac \xe2\x9c\x93\"}",
    "{}",
    " \t\r\n{ \"a\" : [ ] , \"b\" : { } } \n",
};

/* Mutated and random bodies: refused with a bounded message, or an object
 * whose getters and dump agree; NUL-permitting parsing accepts a superset. */
static void test_json_mutated(void **state)
{
  static const char *const frags[] = {"{", "}", "[", "]", "\"", ":", ",", "\\u0000", "\\ud800",
                                      "null", "true", "1e999", "-", "99999999999999999999999",
                                      "\xc3", "\xed\xa0\x80", "\\", "0", "\"k\":"};
  rng_t r = rng_seed(0x6a6d7574ULL);
  for(unsigned long it = 0; it < JSON_MUTATE_ITERS; it++) {
    char m[1024];
    size_t len;
    if(chance(&r, 15)) {   /* plain random bytes */
      len = below(&r, 64);
      for(size_t i = 0; i < len; i++)
        m[i] = chance(&r, 50) ? fz_special[below(&r, sizeof(fz_special) - 1)] : (char)rnd(&r);
      m[len] = 0;
    }
    else {
      const char *seed = PICK(&r, json_seeds);
      len = strlen(seed);
      memcpy(m, seed, len + 1);
      mutate(&r, m, &len, sizeof(m) - 1, frags, COUNT(frags));
    }
    fz_case("json mutated", it, m, len);
    json_t *j0 = json_try(m, len, 0, &r);
    json_t *j1 = json_try(m, len, JSONX_ALLOW_NUL, &r);
    if(j0)
      FZ_ASSERT(j1 && json_equal(j0, j1));
    json_decref(j0);
    json_decref(j1);
  }

  /* Deep nesting is refused by jansson's depth cap, not by the stack. */
  size_t deep = 100000;
  char *d = malloc(deep + 8);
  assert_non_null(d);
  memcpy(d, "{\"a\":", 5);
  memset(d + 5, '[', deep);
  char err[64];
  assert_null(jsonx_parse_object(d, deep + 5, err, sizeof(err)));
  assert_true(err[0] != 0);
  free(d);
  /* No body at all, and getters on something that is not an object. */
  assert_null(jsonx_parse_object(NULL, 0, err, sizeof(err)));
  const char *s;
  json_t *arr = json_array();
  assert_int_equal(jsonx_get_str(arr, "a", &s), 1);
  assert_int_equal(jsonx_get_str(NULL, "a", &s), 1);
  json_decref(arr);
}

/* ==== form bodies (application/x-www-form-urlencoded) ==== */

/* Encodes `v` as a form token: '+' or %20 for space, %XX (any case) for
 * anything else at random. */
static void put_form(rng_t *r, buf_t *b, const char *v, size_t n)
{
  for(size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)v[i];
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_';
    if(c == ' ' && chance(r, 50))
      bputs(b, "+");
    else if(plain && chance(r, 80))
      bput(b, &c, 1);
    else
      assert_int_equal(buf_printf(b, chance(r, 50) ? "%%%02X" : "%%%02x", c), BUF_OK);
  }
}

/* Generated forms give every value back; mutated ones never overflow `out`. */
static void test_form_bodies(void **state)
{
  static const char *const names[] = {"a", "b", "name", "x y", "k%", "\xc3\xa9", "token"};
  static const char *const frags[] = {"&", "=", "%", "%0", "%00", "+", "%zz", "&&", "=="};
  rng_t r = rng_seed(0x666f726dULL);
  for(unsigned long it = 0; it < FORM_ITERS; it++) {
    struct http_req req;
    memset(&req, 0, sizeof(req));
    buf_init(&req.body, HTTP_BODY_MAX);
    char vals[COUNT(names)][64];
    size_t vlen[COUNT(names)];
    bool used[COUNT(names)] = {false};
    for(size_t k = below(&r, COUNT(names) + 1); k > 0; k--) {
      size_t i = below(&r, COUNT(names));
      if(used[i])
        continue;
      used[i] = true;
      vlen[i] = below(&r, sizeof(vals[i]));
      for(size_t c = 0; c < vlen[i]; c++)
        vals[i][c] = (char)(1 + below(&r, 255));   /* a value never holds NUL */
      vals[i][vlen[i]] = 0;
      if(req.body.len)
        bputs(&req.body, "&");
      put_form(&r, &req.body, names[i], strlen(names[i]));
      bputs(&req.body, "=");
      put_form(&r, &req.body, vals[i], vlen[i]);
    }
    fz_case("form generated", it, req.body.data, req.body.len);
    for(size_t i = 0; i < COUNT(names); i++) {
      char out[64];
      int rc = http_form_get(&req, names[i], out, sizeof(out));
      if(used[i])
        FZ_ASSERT(rc == 0 && strlen(out) == vlen[i] && !memcmp(out, vals[i], vlen[i]));
      else
        FZ_ASSERT(rc == 1);
      if(used[i] && vlen[i]) {   /* one byte short of room: refused */
        char *small = malloc(vlen[i]);
        assert_non_null(small);
        FZ_ASSERT(http_form_get(&req, names[i], small, vlen[i]) == -1);
        free(small);
      }
    }
    /* Mutated: bounded output, one of the three answers. */
    char m[2048];
    size_t len = req.body.len < sizeof(m) - 64 ? req.body.len : sizeof(m) - 64;
    memcpy(m, bdata(&req.body), len);
    mutate(&r, m, &len, sizeof(m) - 1, frags, COUNT(frags));
    buf_reset(&req.body);
    bput(&req.body, m, len);
    fz_case("form mutated", it, m, len);
    for(size_t i = 0; i < COUNT(names); i++) {
      size_t outsz = 1 + below(&r, 64);
      char *out = malloc(outsz);
      assert_non_null(out);
      int rc = http_form_get(&req, names[i], out, outsz);
      FZ_ASSERT(rc == 0 || rc == 1 || rc == -1);
      if(rc == 0)
        FZ_ASSERT(memchr(out, 0, outsz) != NULL);
      free(out);
    }
    buf_free(&req.body);
  }
}

/* ==== Telegram Bot API replies ==== */

static bool printable_line(const char *s)
{
  for(; *s; s++)
    if((unsigned char)*s < 0x20 || *s == 0x7f)
      return false;
  return true;
}

/* What tg_reply_parse promises for any body and status. */
static void check_tg_reply(const struct tg_reply *r, int rc, int status, int hdr, bool utf8_body)
{
  FZ_ASSERT(rc == (r->ok ? 0 : -1));
  FZ_ASSERT(r->http_status == status);
  FZ_ASSERT(memchr(r->description, 0, sizeof(r->description)) != NULL);
  FZ_ASSERT(printable_line(r->description));
  FZ_ASSERT(r->retry_after >= -1 && r->retry_after <= TG_RETRY_AFTER_MAX);
  if(hdr < 0 && !r->envelope)
    FZ_ASSERT(r->retry_after == -1);
  if(r->ok) {
    FZ_ASSERT(r->envelope && status == 200 && r->result != NULL && r->error_code == 0);
    FZ_ASSERT(r->description[0] == 0);
  }
  else {
    FZ_ASSERT(r->result == NULL && r->description[0] != 0);
    if(r->envelope)
      FZ_ASSERT(r->error_code == status || (r->error_code >= 100 && r->error_code <= 599));
    else
      FZ_ASSERT(r->error_code == status);
    if(utf8_body)   /* never half a UTF-8 sequence at the cut */
      FZ_ASSERT(ref_utf8_valid(r->description, strlen(r->description)));
  }
}

/* Hostile, truncated, HTML and mutated replies with any status. */
static void test_tg_reply(void **state)
{
  static const int statuses[] = {200, 200, 200, 400, 401, 403, 404, 409, 413, 429, 500, 502,
                                 504, 0, -1, 999, INT32_MIN, INT32_MAX};
  static const char *const frags[] = {"{", "}", "\"", ":", ",", "true", "false", "null",
                                      "\"ok\":", "\"result\":", "<title>", "</title>",
                                      "\\u0000", "\\u0007", "\xc3", "\"retry_after\":", "-1",
                                      "99999999999999999999"};
  rng_t r = rng_seed(0x74677265ULL);
  buf_t longdesc, longtitle;
  buf_init(&longdesc, 4096);
  buf_init(&longtitle, 4096);
  bputs(&longdesc, "{\"ok\":false,\"error_code\":400,\"description\":\"");
  for(int i = 0; i < 150; i++)
    bputs(&longdesc, i % 3 ? "\xc3\xa9" : "\xf0\x9f\x98\x80");
  bputs(&longdesc, "\"}");
  bputs(&longtitle, "<html><head><title>");
  for(int i = 0; i < 60; i++)
    bputs(&longtitle, "\xe2\x82\xac\x01");
  bputs(&longtitle, "</title></head><body>bad gateway</body></html>");
  const char *seeds[] = {
      "{\"ok\":true,\"result\":{\"message_id\":5,\"document\":{\"file_id\":\"AbC-_1\","
      "\"file_unique_id\":\"x\",\"file_size\":524288}}}",
      "{\"ok\":true,\"result\":true}",
      "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after 7\","
      "\"parameters\":{\"retry_after\":7}}",
      "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request:\\u0001ctl\\ttab\\nnl "
      "\xc3\xa9 \xf0\x9f\x98\x80\"}",
      "{\"ok\":false,\"error_code\":99999,\"parameters\":{\"retry_after\":999999}}",
      "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
      "[1,2,3]", "\"ok\"", "{\"ok\":\"true\",\"result\":1}", "{\"ok\":true}",
      "{\"ok\":true,\"ok\":false}", longdesc.data, longtitle.data};
  struct tg_reply reply;
  memset(&reply, 0, sizeof(reply));   /* reused: each parse releases the last result */
  for(unsigned long it = 0; it < TG_REPLY_ITERS; it++) {
    size_t si = below(&r, COUNT(seeds));
    /* Successes need a 200: make it common for the ok:true seeds. */
    int status = si < 2 && chance(&r, 50) ? 200
                 : chance(&r, 90)         ? statuses[below(&r, COUNT(statuses))]
                                          : (int)(int32_t)rnd(&r);
    int hdr = chance(&r, 70) ? -1 : (int)below(&r, 10000);
    char m[4096];
    size_t len = strlen(seeds[si]);
    memcpy(m, seeds[si], len + 1);
    bool mutated = chance(&r, 60);
    if(mutated) {
      if(chance(&r, 30))
        len = below(&r, len + 1);   /* truncated mid-body */
      else
        mutate(&r, m, &len, sizeof(m) - 1, frags, COUNT(frags));
    }
    fz_case("tg reply", it, m, len);
    char *body = dup_exact(m, len, false);
    int rc = tg_reply_parse(&reply, status, body, len, hdr);
    free(body);
    check_tg_reply(&reply, rc, status, hdr, ref_utf8_valid(m, len));
    if(!mutated) {   /* the oracle for the seeds themselves */
      if(si < 2)
        FZ_ASSERT(reply.ok == (status == 200));
      if(si == 2)
        FZ_ASSERT(!reply.ok && reply.envelope && reply.error_code == 429 && reply.retry_after == 7);
      if(si == 4)
        FZ_ASSERT(reply.envelope && reply.error_code == status &&
                  reply.retry_after == TG_RETRY_AFTER_MAX);
      if(si == 5)
        FZ_ASSERT(!reply.envelope && strstr(reply.description, "502 Bad Gateway"));
      if(si >= 6 && si <= 10)   /* not objects, no boolean ok, no result, duplicate keys */
        FZ_ASSERT(!reply.envelope && !reply.ok);
      if(si == COUNT(seeds) - 2)
        FZ_ASSERT(strlen(reply.description) >= TG_DESC_MAX - 4);
      if(hdr >= 0 && si != 2 && si != 4)
        FZ_ASSERT(reply.retry_after == (hdr > TG_RETRY_AFTER_MAX ? TG_RETRY_AFTER_MAX : hdr));
    }
    if(chance(&r, 5)) {   /* a transport error with a random reason */
      char why[300];
      size_t wl = below(&r, sizeof(why));
      for(size_t i = 0; i < wl; i++)
        why[i] = (char)(1 + below(&r, 255));
      why[wl] = 0;
      fz_case("tg set_error", it, why, wl);
      tg_reply_set_error(&reply, status, why);
      FZ_ASSERT(!reply.ok && !reply.envelope && reply.result == NULL && reply.error_code == 0);
      FZ_ASSERT(memchr(reply.description, 0, sizeof(reply.description)) != NULL);
      FZ_ASSERT(printable_line(reply.description));
      if(ref_utf8_valid(why, wl))
        FZ_ASSERT(ref_utf8_valid(reply.description, strlen(reply.description)));
    }
  }
  /* Past TG_REPLY_MAX the body is not even looked at. */
  char *huge = malloc(TG_REPLY_MAX + 1);
  assert_non_null(huge);
  memset(huge, '{', TG_REPLY_MAX + 1);
  assert_int_equal(tg_reply_parse(&reply, 200, huge, TG_REPLY_MAX + 1, -1), -1);
  assert_false(reply.envelope);
  free(huge);
  tg_reply_clear(&reply);
  buf_free(&longdesc);
  buf_free(&longtitle);
}

/* ==== Telegram chunk locators ==== */

static const char b64_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void gen_file_id(rng_t *r, char out[TG_FILE_ID_MAX])
{
  size_t n = chance(r, 10) ? TG_FILE_ID_MAX - 1 : 1 + below(r, 80);
  for(size_t i = 0; i < n; i++)
    out[i] = b64_alpha[below(r, 64)];
  out[n] = 0;
}

static int64_t gen_id(rng_t *r, bool positive)
{
  switch(below(r, 5)) {
  case 0: return 1;
  case 1: return INT64_MAX;
  case 2: return positive ? 1 + (int64_t)below(r, 1000) : INT64_MIN;
  case 3:   /* a supergroup's chat id */
    return positive ? 1 + (int64_t)below(r, 1000) : -1000000000000 - (int64_t)below(r, 1u << 30);
  default: {
    int64_t v = (int64_t)(rnd(r) >> (1 + below(r, 62)));
    v = v ? v : 1;
    return positive || chance(r, 50) ? v : -v;
  }
  }
}

static bool ref_file_id_valid(const char *s)
{
  size_t n = strlen(s);
  return n > 0 && n < TG_FILE_ID_MAX && strspn(s, b64_alpha) == n;
}

/* Locators round trip through their text; a mutated text, when accepted, is
 * exactly the text of what it parsed to (the form is canonical). */
static void test_tg_locator(void **state)
{
  static const char *const frags[] = {":", "-", "0", "tg1:", "tg2:", "9223372036854775808",
                                      "-9223372036854775809", "-0", "+1", "\xc3\xa9", "=", "::"};
  static const struct tg_locator zero;
  rng_t r = rng_seed(0x6c6f6361746f72ULL);
  for(unsigned long it = 0; it < TG_LOCATOR_ITERS; it++) {
    struct tg_locator l, back;
    l.bot_id = gen_id(&r, true);
    l.chat_id = gen_id(&r, false);
    l.message_id = gen_id(&r, true);
    gen_file_id(&r, l.file_unique_id);
    gen_file_id(&r, l.file_id);
    char text[600], again[600];
    assert_int_equal(tg_locator_format(&l, text, sizeof(text)), 0);
    fz_case("locator", it, text, strlen(text));
    char *in = dup_exact(text, strlen(text), true);
    FZ_ASSERT(tg_locator_parse(in, &back) == 0);
    free(in);
    FZ_ASSERT(back.bot_id == l.bot_id && back.chat_id == l.chat_id &&
              back.message_id == l.message_id && !strcmp(back.file_id, l.file_id) &&
              !strcmp(back.file_unique_id, l.file_unique_id));
    FZ_ASSERT(tg_locator_format(&back, again, sizeof(again)) == 0 && !strcmp(again, text));

    /* Too small an output is refused, and the output stays terminated. */
    size_t tl = strlen(text), outsz = 1 + below(&r, tl + 1);
    char *small = malloc(outsz);
    assert_non_null(small);
    FZ_ASSERT(tg_locator_format(&l, small, outsz) == (outsz > tl ? 0 : -1));
    FZ_ASSERT(memchr(small, 0, outsz) != NULL);
    free(small);

    /* An invalid field is refused by format. */
    struct tg_locator bad = l;
    switch(below(&r, 5)) {
    case 0: bad.bot_id = -(int64_t)below(&r, 5); break;
    case 1: bad.chat_id = 0; break;
    case 2: bad.message_id = chance(&r, 50) ? 0 : INT64_MIN; break;
    case 3: bad.file_id[below(&r, strlen(bad.file_id))] = PICK(&r, frags)[0]; break;
    default: memset(bad.file_unique_id, 'A', sizeof(bad.file_unique_id) - 1);
      bad.file_unique_id[sizeof(bad.file_unique_id) - 1] = 0;
      break;
    }
    FZ_ASSERT(tg_file_id_valid(bad.file_id) == ref_file_id_valid(bad.file_id));
    FZ_ASSERT(tg_file_id_valid(bad.file_unique_id) == ref_file_id_valid(bad.file_unique_id));
    bool bad_ok = bad.bot_id > 0 && bad.chat_id != 0 && bad.message_id > 0 &&
                  ref_file_id_valid(bad.file_id) && ref_file_id_valid(bad.file_unique_id);
    FZ_ASSERT((tg_locator_format(&bad, again, sizeof(again)) == 0) == bad_ok);

    /* Mutated text. */
    size_t len = tl;
    mutate(&r, text, &len, sizeof(text) - 1, frags, COUNT(frags));
    fz_case("locator mutated", it, text, len);
    in = dup_exact(text, strlen(text), true);
    if(tg_locator_parse(in, &back) == 0) {
      FZ_ASSERT(back.bot_id > 0 && back.chat_id != 0 && back.message_id > 0);
      FZ_ASSERT(tg_locator_format(&back, again, sizeof(again)) == 0 && !strcmp(again, in));
    }
    else
      FZ_ASSERT(!memcmp(&back, &zero, sizeof(back)));
    free(in);
  }
}

/* ==== JWT ==== */

static const char fz_secret[] = "fuzz-secret-0123456789abcdef";

/* Edits that keep a token looking like one: base64url characters in, out or
 * swapped, so the signature check itself is what must refuse it. */
static void mutate_token(rng_t *r, char *t, size_t *len, size_t cap)
{
  static const char *const frags[] = {".", "=", "..", "eyJ", "A", "_", "-", "AA"};
  size_t n = *len;
  switch(below(r, 6)) {
  case 0:   /* one character replaced by another of the alphabet */
    if(n) {
      size_t at = below(r, n);
      if(t[at] != '.')
        t[at] = b64_alpha[below(r, 64)];
    }
    break;
  case 1:   /* one character dropped */
    if(n) {
      size_t at = below(r, n);
      memmove(t + at, t + at + 1, n - at);
      n--;
    }
    break;
  case 2:   /* one alphabet character inserted */
    if(n < cap) {
      size_t at = below(r, n + 1);
      memmove(t + at + 1, t + at, n - at + 1);
      t[at] = b64_alpha[below(r, 64)];
      n++;
    }
    break;
  case 3:   /* letter case flipped */
    for(int k = 0; k < 8 && n; k++) {
      size_t at = below(r, n);
      if((t[at] >= 'a' && t[at] <= 'z') || (t[at] >= 'A' && t[at] <= 'Z')) {
        t[at] ^= 0x20;
        break;
      }
    }
    break;
  default:
    mutate(r, t, &n, cap, frags, COUNT(frags));
    break;
  }
  t[n] = 0;
  *len = n;
}

/* Signed tokens verify to their claims; any change to the text, a forged
 * payload, "alg":"none" or a wrong secret is refused. */
static void test_jwt(void **state)
{
  rng_t r = rng_seed(0x6a7774ULL);
  const int64_t now = 1700000000;
  for(unsigned long it = 0; it < JWT_TOKENS; it++) {
    buf_t s;
    buf_init(&s, 4096);
    put_text(&r, &s, below(&r, 40), false);
    char sub[32];
    snprintf(sub, sizeof(sub), "u_%016" PRIx64, rnd(&r));
    json_int_t exp = now + 1 + (json_int_t)below(&r, 1000000);
    json_t *claims = json_pack("{s:s, s:I, s:s, s:I, s:s%}", "sub", sub, "exp", exp, "typ",
                               chance(&r, 50) ? "access" : "refresh", "n", (json_int_t)rnd(&r),
                               "s", bdata(&s), s.len);
    buf_free(&s);
    assert_non_null(claims);
    const char *typ = json_string_value(json_object_get(claims, "typ"));
    char *tok = NULL;
    assert_int_equal(jwt_sign(fz_secret, claims, &tok), 0);
    fz_case("jwt", it, tok, strlen(tok));
    json_t *got = NULL;
    FZ_ASSERT(jwt_verify(fz_secret, tok, typ, now, &got) == JWT_OK && json_equal(got, claims));
    json_decref(got);
    FZ_ASSERT(jwt_verify(fz_secret, tok, strcmp(typ, "access") ? "access" : "refresh", now, NULL) ==
              JWT_INVALID);
    FZ_ASSERT(jwt_verify(fz_secret, tok, NULL, exp, NULL) == JWT_EXPIRED);
    FZ_ASSERT(jwt_verify("fuzz-secret-0123456789abcdeg", tok, NULL, now, NULL) == JWT_INVALID);
    FZ_ASSERT(jwt_verify("", tok, NULL, now, NULL) == JWT_INVALID);

    size_t tl = strlen(tok);
    for(int k = 0; k < JWT_MUTATIONS; k++) {
      char m[1024];
      size_t len = tl;
      assert_true(tl + 64 < sizeof(m));
      memcpy(m, tok, tl + 1);
      mutate_token(&r, m, &len, sizeof(m) - 1);
      if(!strcmp(m, tok))
        continue;   /* the edit changed nothing (or only past a NUL) */
      fz_case("jwt mutated", it, m, strlen(m));
      char *in = dup_exact(m, strlen(m), true);
      got = (json_t *)1;
      FZ_ASSERT(jwt_verify(fz_secret, in, NULL, now, &got) == JWT_INVALID && got == NULL);
      free(in);
    }

    /* A forged payload under the original signature, and "alg":"none". */
    const char *dot1 = strchr(tok, '.'), *dot2 = strrchr(tok, '.');
    json_t *forged = json_deep_copy(claims);
    json_object_set_new(forged, chance(&r, 50) ? "exp" : "sub",
                        chance(&r, 50) ? json_integer(exp + 1000) : json_string("admin"));
    char *payload = json_dumps(forged, JSON_COMPACT);
    char enc[2048], bad[4096];
    assert_true(b64url_encode(payload, strlen(payload), enc, sizeof(enc)) > 0);
    snprintf(bad, sizeof(bad), "%.*s.%s%s", (int)(dot1 - tok), tok, enc, dot2);
    fz_case("jwt forged", it, bad, strlen(bad));
    FZ_ASSERT(jwt_verify(fz_secret, bad, NULL, now, NULL) == JWT_INVALID);
    snprintf(bad, sizeof(bad), "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.%s.%s", enc,
             chance(&r, 50) ? "" : dot2 + 1);
    fz_case("jwt alg none", it, bad, strlen(bad));
    FZ_ASSERT(jwt_verify(fz_secret, bad, NULL, now, NULL) == JWT_INVALID);
    free(payload);
    json_decref(forged);
    json_decref(claims);
    free(tok);
  }

  /* Garbage: random dotted base64url strings and random bytes. */
  for(unsigned long it = 0; it < JWT_GARBAGE_ITERS; it++) {
    char g[300];
    size_t n = below(&r, sizeof(g) - 1);
    for(size_t i = 0; i < n; i++)
      g[i] = chance(&r, 90) ? (chance(&r, 5) ? '.' : b64_alpha[below(&r, 64)]) : (char)rnd(&r);
    g[n] = 0;
    fz_case("jwt garbage", it, g, n);
    json_t *got = NULL;
    FZ_ASSERT(jwt_verify(fz_secret, g, NULL, 0, &got) == JWT_INVALID && got == NULL);
  }
  /* Longer than JWT_MAX_LEN. */
  char *longt = malloc(JWT_MAX_LEN + 2);
  assert_non_null(longt);
  memset(longt, 'A', JWT_MAX_LEN + 1);
  longt[10] = longt[20] = '.';
  longt[JWT_MAX_LEN + 1] = 0;
  assert_int_equal(jwt_verify(fz_secret, longt, NULL, 0, NULL), JWT_INVALID);
  free(longt);
}

/* ==== names and UTF-8 ==== */

/* A C string of random code points, junk sequences and the characters name
 * rules care about. */
static void gen_name_text(rng_t *r, buf_t *b)
{
  static const char *const pieces[] = {
    " ", "  ", "/", ".", "..", "\x01", "\x1f", "\x7f", "\xc2\x80", "\xc2\x9f", "\xc2\xa0", "\t",
    /* bidi controls (U+061C, U+200F, U+202E, U+2066, U+2069) and neighbours (U+202F) */
    "\xd8\x9c", "\xe2\x80\x8f", "\xe2\x80\xae", "\xe2\x81\xa6", "\xe2\x81\xa9", "\xe2\x80\xaf",
    /* what NFC changes: combining marks, bases, U+0958 (grows), U+212B (shrinks), jamo */
    "\xcc\x81", "\xcc\x87", "\xcc\xa3", "e", "I", "\xe0\xa5\x98", "\xe2\x84\xab",
    "\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab"};
  buf_reset(b);
  size_t n = chance(r, 10) ? 200 + below(r, 100) : below(r, 24);
  for(size_t i = 0; i < n; i++) {
    if(chance(r, 10))
      bputs(b, PICK(r, pieces));
    else {
      unsigned char cp[4];
      bput(b, cp, put_cp(r, cp, true));
    }
  }
}

/* The name rules, with libutf8proc's own allocating NFC as the reference for
 * name_clean's bounded one; on true `want` holds the expected clean name. */
static bool ref_name_ok(const char *in, size_t outsz, char want[NAME_MAX_BYTES + 1])
{
  size_t n = strlen(in);
  while(n && *in == ' ') {
    in++;
    n--;
  }
  while(n && in[n - 1] == ' ')
    n--;
  if(n == 0 || n > NAME_MAX_BYTES || !ref_utf8_valid(in, n))
    return false;
  char raw[NAME_MAX_BYTES + 1];
  memcpy(raw, in, n);
  raw[n] = 0;
  char *nfc = (char *)utf8proc_NFC((const utf8proc_uint8_t *)raw);
  assert_non_null(nfc);
  n = strlen(nfc);
  bool ok = n <= NAME_MAX_BYTES && outsz >= n + 1 &&
            !((n == 1 && nfc[0] == '.') || (n == 2 && nfc[0] == '.' && nfc[1] == '.'));
  for(size_t i = 0; ok && i < n; i++) {
    unsigned char c = (unsigned char)nfc[i], c1 = i + 1 < n ? (unsigned char)nfc[i + 1] : 0,
                  c2 = i + 2 < n ? (unsigned char)nfc[i + 2] : 0;
    if(c < 0x20 || c == 0x7f || c == '/')
      ok = false;
    if(c == 0xC2 && c1 <= 0x9F)   /* C1 controls */
      ok = false;
    if(c == 0xD8 && c1 == 0x9C)   /* U+061C */
      ok = false;
    if(c == 0xE2 && ((c1 == 0x80 && (c2 == 0x8E || c2 == 0x8F || (c2 >= 0xAA && c2 <= 0xAE))) ||
                     (c1 == 0x81 && c2 >= 0xA6 && c2 <= 0xA9)))   /* U+200E-F, 202A-E, 2066-9 */
      ok = false;
  }
  if(ok)
    memcpy(want, nfc, n + 1);
  free(nfc);
  return ok;
}

/* utf8_valid agrees with a reference; utf8_fold accepts exactly valid text,
 * never grows it, yields valid text, is idempotent and works code point by
 * code point; name_clean agrees with the name rules and leaves `out` alone
 * on failure. */
static void test_utf8_and_names(void **state)
{
  rng_t r = rng_seed(0x75746638ULL);
  buf_t a, b, ab;
  buf_init(&a, 4096);
  buf_init(&b, 4096);
  buf_init(&ab, 8192);
  for(unsigned long it = 0; it < UTF8_ITERS; it++) {
    gen_name_text(&r, &a);
    const char *s = bdata(&a);
    size_t n = a.len;
    fz_case("utf8", it, s, n);
    bool valid = ref_utf8_valid(s, n);
    char *in = dup_exact(s, n, true);
    FZ_ASSERT(utf8_valid(in, n) == valid);
    char *out = malloc(n + 1);
    assert_non_null(out);
    int rc = utf8_fold(in, out, n + 1);
    FZ_ASSERT((rc == 0) == valid);
    if(valid) {
      size_t fl = strlen(out);
      FZ_ASSERT(fl <= n && ref_utf8_valid(out, fl));
      char *twice = malloc(fl + 1);
      assert_non_null(twice);
      FZ_ASSERT(utf8_fold(out, twice, fl + 1) == 0 && !strcmp(twice, out));   /* idempotent */
      free(twice);
      char *inplace = dup_exact(s, n, true);
      FZ_ASSERT(utf8_fold(inplace, inplace, n + 1) == 0 && !strcmp(inplace, out));
      free(inplace);
      for(size_t i = 0; i < fl; i++)   /* ASCII folds to lower case */
        if(out[i] >= 'A' && out[i] <= 'Z')
          FZ_ASSERT(!"upper-case ASCII left after folding");
    }
    else
      FZ_ASSERT(out[0] == 0);
    if(n > 0) {   /* too small an output: refused, left empty */
      size_t small = below(&r, n + 1);
      char *o2 = malloc(small ? small : 1);
      assert_non_null(o2);
      FZ_ASSERT(utf8_fold(in, o2, small) == -1);
      if(small)
        FZ_ASSERT(o2[0] == 0);
      free(o2);
    }
    free(out);

    /* Folding works per code point: fold(x y) == fold(x) fold(y). */
    buf_reset(&b);
    put_text(&r, &b, below(&r, 12), false);
    if(valid) {
      buf_reset(&ab);
      bput(&ab, bdata(&a), a.len);
      bput(&ab, bdata(&b), b.len);
      char fa[4096], fb[4096], fab[8192], cat[8192];
      FZ_ASSERT(utf8_fold(bdata(&a), fa, sizeof(fa)) == 0);
      FZ_ASSERT(utf8_fold(bdata(&b), fb, sizeof(fb)) == 0);
      FZ_ASSERT(utf8_fold(bdata(&ab), fab, sizeof(fab)) == 0);
      snprintf(cat, sizeof(cat), "%s%s", fa, fb);
      FZ_ASSERT(!strcmp(cat, fab));
    }

    /* name_clean, into a separate buffer and in place. */
    size_t outsz = chance(&r, 20) ? below(&r, NAME_MAX_BYTES + 2) : NAME_MAX_BYTES + 1;
    char *nb = malloc(outsz ? outsz : 1);
    assert_non_null(nb);
    memset(nb, 0xAA, outsz);
    char want[NAME_MAX_BYTES + 1];
    const char *err = name_clean(in, nb, outsz);
    FZ_ASSERT((err == NULL) == ref_name_ok(in, outsz, want));
    if(err) {
      FZ_ASSERT(err[0] != 0);
      for(size_t i = 0; i < outsz; i++)
        FZ_ASSERT((unsigned char)nb[i] == 0xAA);   /* untouched on failure */
    }
    else {
      size_t nl = strlen(nb);
      FZ_ASSERT(nl >= 1 && nl <= NAME_MAX_BYTES && nb[0] != ' ' && nb[nl - 1] != ' ');
      FZ_ASSERT(!strcmp(nb, want) && !strchr(nb, '/'));
      /* In place: the NFC form may be longer than the input (U+0958). */
      char *same = malloc(n + NAME_MAX_BYTES + 1);
      assert_non_null(same);
      memcpy(same, in, n + 1);
      FZ_ASSERT(name_clean(same, same, n + NAME_MAX_BYTES + 1) == NULL && !strcmp(same, nb));
      free(same);
    }
    free(nb);
    free(in);

    /* Raw bytes, NUL included: utf8_valid still agrees with the reference. */
    unsigned char raw[16];
    size_t rl = below(&r, sizeof(raw) + 1);
    for(size_t i = 0; i < rl; i++)
      raw[i] = (unsigned char)rnd(&r);
    char *rin = dup_exact(raw, rl, false);
    fz_case("utf8 raw", it, raw, rl);
    FZ_ASSERT(utf8_valid(rin, rl) == ref_utf8_valid(raw, rl));
    free(rin);
  }
  buf_free(&a);
  buf_free(&b);
  buf_free(&ab);

  /* Every code point of the folded blocks: one code point out, no longer,
   * already folded. */
  for(uint32_t cp = 1; cp < 0x2200 + 3; cp++) {
    uint32_t c = cp < 0x2200 ? cp : (uint32_t[]){0x212A, 0x212B, 0x10FFFF}[cp - 0x2200];
    unsigned char e[5] = {0};
    size_t el = enc_utf8(c, e);
    char f[5], ff[5];
    fz_case("fold code point", c, e, el);
    FZ_ASSERT(utf8_fold((const char *)e, f, sizeof(f)) == 0);
    size_t fl = strlen(f);
    FZ_ASSERT(fl >= 1 && fl <= el && ref_utf8_valid(f, fl));
    unsigned char lead = (unsigned char)f[0];
    size_t one = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    FZ_ASSERT(fl == one);
    FZ_ASSERT(utf8_fold(f, ff, sizeof(ff)) == 0 && !strcmp(f, ff));
    if(c < 0x80)
      FZ_ASSERT((uint32_t)(unsigned char)f[0] == (c >= 'A' && c <= 'Z' ? c + 32 : c));
  }
}

/* ==== base64url ==== */

static int b64_val(char c)
{
  const char *p = c ? strchr(b64_alpha, c) : NULL;
  return p ? (int)(p - b64_alpha) : -1;
}

/* Encoding round trips; decoding accepts exactly the canonical strings that
 * fit, and what it accepts re-encodes to the same text. */
static void test_b64(void **state)
{
  rng_t r = rng_seed(0x62363475726cULL);
  for(unsigned long it = 0; it < B64_ITERS; it++) {
    /* Round trip of random bytes, into exactly-sized buffers. */
    size_t n = below(&r, 100);
    unsigned char raw[100];
    for(size_t i = 0; i < n; i++)
      raw[i] = (unsigned char)rnd(&r);
    size_t el = B64URL_ENCLEN(n);
    char *enc = malloc(el + 1);
    assert_non_null(enc);
    fz_case("b64 encode", it, raw, n);
    FZ_ASSERT(b64url_encode(raw, n, enc, el + 1) == el && strlen(enc) == el);
    FZ_ASSERT(strspn(enc, b64_alpha) == el);
    unsigned char *dec = malloc(n ? n : 1);
    assert_non_null(dec);
    size_t dl = 99;
    FZ_ASSERT(b64url_decode(enc, el, dec, n, &dl) == 0 && dl == n && !memcmp(dec, raw, n));
    FZ_ASSERT(b64url_encode(raw, n, enc, el) == 0 && enc[0] == 0);   /* one short */
    free(dec);
    free(enc);

    /* Decoding random text: half only the alphabet, half with a few others. */
    char t[80];
    size_t tl = below(&r, sizeof(t));
    bool pure = chance(&r, 50);
    for(size_t i = 0; i < tl; i++)
      t[i] = pure || chance(&r, 95) ? b64_alpha[below(&r, 64)]
                            : chance(&r, 50) ? '=' : fz_special[below(&r, sizeof(fz_special) - 1)];
    size_t need = (tl / 4) * 3 + (tl % 4 ? tl % 4 - 1 : 0);
    size_t outsz = need + 2 >= 4 ? need + 2 - below(&r, 5) : below(&r, need + 3);
    bool ok = tl % 4 != 1 && need <= outsz;
    for(size_t i = 0; i < tl && ok; i++)
      ok = b64_val(t[i]) >= 0;
    if(ok && tl % 4) {   /* the unused low bits of the last character must be zero */
      int v = b64_val(t[tl - 1]);
      ok = tl % 4 == 2 ? (v & 0xF) == 0 : (v & 0x3) == 0;
    }
    char *tin = dup_exact(t, tl, false);
    unsigned char *out = malloc(outsz ? outsz : 1);
    assert_non_null(out);
    fz_case("b64 decode", it, t, tl);
    dl = 0;
    int rc = b64url_decode(tin, tl, out, outsz, &dl);
    FZ_ASSERT((rc == 0) == ok);
    if(rc == 0) {
      char re[80];
      FZ_ASSERT(dl == need);
      FZ_ASSERT(b64url_encode(out, dl, re, sizeof(re)) == tl && !memcmp(re, t, tl));
    }
    free(out);
    free(tin);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_multipart_valid_splits),
      cmocka_unit_test(test_multipart_mutations),
      cmocka_unit_test(test_multipart_content_type),
      cmocka_unit_test(test_range_generated),
      cmocka_unit_test(test_range_mutated),
      cmocka_unit_test(test_http_dates),
      cmocka_unit_test(test_json_generated),
      cmocka_unit_test(test_json_mutated),
      cmocka_unit_test(test_form_bodies),
      cmocka_unit_test(test_tg_reply),
      cmocka_unit_test(test_tg_locator),
      cmocka_unit_test(test_jwt),
      cmocka_unit_test(test_utf8_and_names),
      cmocka_unit_test(test_b64),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
