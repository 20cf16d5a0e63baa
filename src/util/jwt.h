/* jwt: HS256 JSON Web Tokens (RFC 7519) signed with HMAC-SHA256. Only HS256
 * is ever accepted, so "alg":"none" and algorithm-confusion tricks fail. */
#ifndef NETRA_JWT_H
#define NETRA_JWT_H
#include <jansson.h>
#include <stdint.h>

#define JWT_OK 0
#define JWT_INVALID (-1) /* malformed, bad signature, wrong alg/typ, missing claims */
#define JWT_EXPIRED (-2) /* well-formed and correctly signed, but past `exp` */

/** Longest token accepted by jwt_verify or produced by jwt_sign. */
#define JWT_MAX_LEN 8192

/** Signs `claims` (a JSON object) with header {"alg":"HS256","typ":"JWT"}.
 *  Stores a malloc'd token in `*out` (caller frees). Returns 0, or -1 when the
 *  secret is empty, claims is not an object, or the token would be too long. */
int jwt_sign(const char *secret, const json_t *claims, char **out);

/** Verifies `token`: header must be a JSON object with "alg":"HS256", the
 *  signature must match (compared in constant time), the claims must be an
 *  object holding a non-empty string `sub` and an integer `exp`, and when
 *  `want_typ` is non-NULL the `typ` claim must equal it. A token with
 *  now_sec >= exp is JWT_EXPIRED (checked last). On JWT_OK and when
 *  `claims_out` is non-NULL, stores the claims (caller json_decref's). */
int jwt_verify(const char *secret, const char *token, const char *want_typ, int64_t now_sec,
               json_t **claims_out);

#endif
