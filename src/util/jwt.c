#include "util/jwt.h"
#include "util/b64.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define JWT_SIG_LEN 32 /* SHA-256 */

/* base64url('{"alg":"HS256","typ":"JWT"}'), the only header we emit. */
static const char jwt_header_b64[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/* libsodium's HMAC, not OpenSSL's one-shot HMAC(): that one looks the
 * digest up by name on every call, a visible cost when every request
 * verifies a token. */
static int jwt_hmac(const char *secret, const char *data, size_t n,
                    unsigned char sig[JWT_SIG_LEN])
{
  crypto_auth_hmacsha256_state st;
  if(crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret)) != 0 ||
     crypto_auth_hmacsha256_update(&st, (const unsigned char *)data, n) != 0 ||
     crypto_auth_hmacsha256_final(&st, sig) != 0)
    return -1;
  sodium_memzero(&st, sizeof(st));
  return 0;
}

int jwt_sign(const char *secret, const json_t *claims, char **out)
{
  int rc = -1;
  char *payload = NULL, *tok = NULL;
  unsigned char sig[JWT_SIG_LEN];
  *out = NULL;
  if(!secret || !*secret || !json_is_object(claims))
    goto out;
  payload = json_dumps(claims, JSON_COMPACT);
  if(!payload)
    goto out;
  size_t plen = strlen(payload);
  size_t hlen = sizeof(jwt_header_b64) - 1;
  if(plen > JWT_MAX_LEN)
    goto out;
  size_t total = hlen + 1 + B64URL_ENCLEN(plen) + 1 + B64URL_ENCLEN(JWT_SIG_LEN);
  if(total > JWT_MAX_LEN)
    goto out;
  tok = malloc(total + 1);
  if(!tok)
    goto out;
  memcpy(tok, jwt_header_b64, hlen);
  size_t n = hlen;
  tok[n++] = '.';
  n += b64url_encode(payload, plen, tok + n, total + 1 - n);
  if(jwt_hmac(secret, tok, n, sig))
    goto out;
  tok[n++] = '.';
  n += b64url_encode(sig, JWT_SIG_LEN, tok + n, total + 1 - n);
  if(n != total)
    goto out;
  *out = tok;
  tok = NULL;
  rc = 0;
out:
  free(payload);
  free(tok);
  return rc;
}

/* Decodes one base64url segment and parses it as a JSON object. */
static json_t *jwt_segment_json(const char *seg, size_t n)
{
  unsigned char raw[JWT_MAX_LEN];
  size_t len = 0;
  if(n == 0 || b64url_decode(seg, n, raw, sizeof(raw), &len))
    return NULL;
  /* Duplicate keys are rejected: a signed token has a single meaning. */
  json_t *j = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, NULL);
  if(j && !json_is_object(j)) {
    json_decref(j);
    j = NULL;
  }
  return j;
}

int jwt_verify(const char *secret, const char *token, const char *want_typ, int64_t now_sec,
               json_t **claims_out)
{
  int rc = JWT_INVALID;
  json_t *header = NULL, *claims = NULL;
  unsigned char want[JWT_SIG_LEN], got[JWT_SIG_LEN];
  size_t glen = 0;
  if(claims_out)
    *claims_out = NULL;
  if(!secret || !*secret || !token)
    goto out;
  size_t tlen = strnlen(token, JWT_MAX_LEN + 1);
  if(tlen > JWT_MAX_LEN)
    goto out;
  const char *dot1 = memchr(token, '.', tlen);
  if(!dot1)
    goto out;
  const char *dot2 = memchr(dot1 + 1, '.', tlen - (size_t)(dot1 + 1 - token));
  if(!dot2 || memchr(dot2 + 1, '.', tlen - (size_t)(dot2 + 1 - token)))
    goto out;

  header = jwt_segment_json(token, (size_t)(dot1 - token));
  if(!header)
    goto out;
  const char *alg = json_string_value(json_object_get(header, "alg"));
  if(!alg || strcmp(alg, "HS256"))
    goto out;
  /* We understand no extensions, so any "crit" list must be refused (RFC 7515). */
  if(json_object_get(header, "crit"))
    goto out;

  /* Signature before looking at any claim. */
  const char *sig = dot2 + 1;
  if(b64url_decode(sig, tlen - (size_t)(sig - token), got, sizeof(got), &glen) ||
     glen != JWT_SIG_LEN)
    goto out;
  if(jwt_hmac(secret, token, (size_t)(dot2 - token), want))
    goto out;
  if(sodium_memcmp(want, got, JWT_SIG_LEN) != 0)
    goto out;

  claims = jwt_segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
  if(!claims)
    goto out;
  const char *sub = json_string_value(json_object_get(claims, "sub"));
  json_t *exp = json_object_get(claims, "exp");
  if(!sub || !*sub || !json_is_integer(exp))
    goto out;
  if(want_typ) {
    const char *typ = json_string_value(json_object_get(claims, "typ"));
    if(!typ || strcmp(typ, want_typ))
      goto out;
  }
  if(now_sec >= (int64_t)json_integer_value(exp)) {
    rc = JWT_EXPIRED;
    goto out;
  }
  if(claims_out) {
    *claims_out = claims;
    claims = NULL;
  }
  rc = JWT_OK;
out:
  json_decref(header);
  json_decref(claims);
  return rc;
}
