#include "util/validate.h"
#include <stdbool.h>
#include <string.h>

#define USERNAME_MIN 3
#define USERNAME_MAX 32
#define EMAIL_MAX 254
#define EMAIL_LOCAL_MAX 64
#define EMAIL_LABEL_MAX 63
#define PASSWORD_MIN 8
#define PASSWORD_MAX 1024

static bool validate_alnum(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

const char *validate_username(const char *s)
{
  if(!s || !*s)
    return "Username is required";
  size_t n = strnlen(s, USERNAME_MAX + 1);
  if(n < USERNAME_MIN || n > USERNAME_MAX)
    return "Username must be 3 to 32 characters long";
  for(size_t i = 0; i < n; i++) {
    char c = s[i];
    if(!validate_alnum(c) && c != '_' && c != '.' && c != '-')
      return "Username may only contain letters, digits, '_', '.' and '-'";
  }
  return NULL;
}

/* RFC 5322 atext: the characters allowed in an unquoted local part. Quoted
 * local parts and the specials ()<>[]:;@\," are refused; they are rare and
 * risky in mail headers. */
static bool validate_atext(char c)
{
  return validate_alnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~-", c));
}

static const char *validate_domain(const char *d, size_t n)
{
  static const char bad[] = "Email domain is not valid";
  size_t labels = 0, i = 0;
  while(i <= n) {
    size_t start = i;
    while(i < n && d[i] != '.')
      i++;
    size_t len = i - start;
    if(len == 0 || len > EMAIL_LABEL_MAX)
      return bad;
    for(size_t k = start; k < i; k++)
      if(!validate_alnum(d[k]) && d[k] != '-')
        return bad;
    if(d[start] == '-' || d[i - 1] == '-')
      return bad;
    labels++;
    i++; /* skip the dot (or step past the end) */
  }
  return labels >= 2 ? NULL : bad;
}

const char *validate_email(const char *s)
{
  if(!s || !*s)
    return "Email is required";
  size_t n = strnlen(s, EMAIL_MAX + 1);
  if(n > EMAIL_MAX)
    return "Email must be at most 254 characters long";
  const char *at = strchr(s, '@');
  if(!at || strchr(at + 1, '@'))
    return "Email must contain exactly one '@'";
  size_t local = (size_t)(at - s);
  if(local == 0 || local > EMAIL_LOCAL_MAX)
    return "Email local part must be 1 to 64 characters long";
  for(size_t i = 0; i < local; i++) {
    char c = s[i];
    if(c == '.') {
      if(i == 0 || i == local - 1 || s[i + 1] == '.')
        return "Email local part is not valid";
    }
    else if(!validate_atext(c))
      return "Email local part is not valid";
  }
  return validate_domain(at + 1, n - local - 1);
}

const char *validate_password(const char *s)
{
  if(!s)
    return "Password is required";
  size_t n = strnlen(s, PASSWORD_MAX + 1);
  if(n < PASSWORD_MIN)
    return "Password must be at least 8 characters long";
  if(n > PASSWORD_MAX)
    return "Password must be at most 1024 bytes long";
  return NULL;
}
