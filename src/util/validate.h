/* validate: account field rules (API §3). Each returns NULL when the value is
 * acceptable, else a human sentence suitable for {"detail": ...}. */
#ifndef NETRA_VALIDATE_H
#define NETRA_VALIDATE_H

/** Username: 3–32 characters of [A-Za-z0-9_.-]. */
const char *validate_username(const char *s);

/** Email, syntactically: exactly one '@'; a local part of 1–64 characters from
 *  the RFC 5322 atom set and dots (no leading, trailing or double dot); a
 *  domain of at least two dot-separated labels of 1–63 [A-Za-z0-9-], none
 *  starting or ending with '-'; at most 254 characters in all; ASCII only. */
const char *validate_email(const char *s);

/** Password: 8–1024 bytes. */
const char *validate_password(const char *s);

#endif
