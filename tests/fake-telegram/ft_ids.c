/* ft_ids: tokens, file_id and file_unique_id. */
#include "ft_ids.h"

#include <sodium.h>
#include <string.h>

#include "ft_num.h"

/* Layout of the binary file_id: looks like a real document id ("BQAC...")
 * and is long enough that tests cannot guess it by accident. */
#define FID_MAGIC_LEN 4
#define FID_TAG_LEN 16
#define FID_LEN (FID_MAGIC_LEN + 8 + 8 + FID_TAG_LEN)
#define FUID_LEN (4 + 8)

static const unsigned char fid_magic[FID_MAGIC_LEN] = {0x05, 0x00, 0x02, 0x01};
static const unsigned char fuid_magic[4] = {0x02, 0x00, 0x03, 0x00};
static unsigned char ids_key[crypto_auth_hmacsha256_KEYBYTES];

void ft_ids_init(const unsigned char secret[FT_IDS_SECRET_LEN])
{
  memcpy(ids_key, secret, sizeof(ids_key) < FT_IDS_SECRET_LEN ? sizeof(ids_key) : FT_IDS_SECRET_LEN);
}

int ft_token_parse(const char *token, int64_t *bot_id)
{
  const char *colon, *p;
  char digits[20];
  size_t n;
  int64_t id;

  if(!token || strlen(token) > FT_TOKEN_MAX)
    return -1;
  colon = strchr(token, ':');
  if(!colon)
    return -1;
  n = (size_t)(colon - token);
  if(n == 0 || n >= sizeof(digits) || n > 15)
    return -1;
  memcpy(digits, token, n);
  digits[n] = '\0';
  for(p = digits; *p; p++)
    if(*p < '0' || *p > '9')
      return -1;
  if(ft_num_i64(digits, &id) || id <= 0)
    return -1;
  if(!colon[1])
    return -1;
  for(p = colon + 1; *p; p++) {
    char c = *p;
    if(!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-'))
      return -1;
  }
  *bot_id = id;
  return 0;
}

static void put_u64(unsigned char *p, uint64_t v)
{
  int i;
  for(i = 7; i >= 0; i--) {
    p[i] = (unsigned char)(v & 0xff);
    v >>= 8;
  }
}

static uint64_t get_u64(const unsigned char *p)
{
  uint64_t v = 0;
  int i;
  for(i = 0; i < 8; i++)
    v = (v << 8) | p[i];
  return v;
}

static void tag(const unsigned char *msg, size_t len, unsigned char *out, size_t outlen)
{
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, msg, len, ids_key);
  memcpy(out, mac, outlen);
}

/* XORs the 16 id bytes with a mask derived from the tag, so ids look random
 * and clients cannot read bot or file numbers out of them. */
static void mask(unsigned char *body, const unsigned char *tg)
{
  unsigned char m[FID_TAG_LEN + 1], k[16];
  size_t i;

  m[0] = 'm';
  memcpy(m + 1, tg, FID_TAG_LEN);
  tag(m, sizeof(m), k, sizeof(k));
  for(i = 0; i < 16; i++)
    body[i] ^= k[i];
}

void ft_file_id_encode(int64_t bot_id, uint64_t file_no, char out[FT_FILE_ID_MAX])
{
  unsigned char raw[FID_LEN];

  memcpy(raw, fid_magic, FID_MAGIC_LEN);
  put_u64(raw + FID_MAGIC_LEN, (uint64_t)bot_id);
  put_u64(raw + FID_MAGIC_LEN + 8, file_no);
  tag(raw, FID_MAGIC_LEN + 16, raw + FID_MAGIC_LEN + 16, FID_TAG_LEN);
  mask(raw + FID_MAGIC_LEN, raw + FID_MAGIC_LEN + 16);
  sodium_bin2base64(out, FT_FILE_ID_MAX, raw, sizeof(raw),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int ft_file_id_decode(const char *s, int64_t *bot_id, uint64_t *file_no)
{
  unsigned char raw[FID_LEN + 1];
  unsigned char want[FID_TAG_LEN];
  size_t len = 0;

  if(!s || strlen(s) >= FT_FILE_ID_MAX)
    return -1;
  if(sodium_base642bin(raw, sizeof(raw), s, strlen(s), NULL, &len, NULL,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
     len != FID_LEN)
    return -1;
  if(memcmp(raw, fid_magic, FID_MAGIC_LEN))
    return -1;
  mask(raw + FID_MAGIC_LEN, raw + FID_MAGIC_LEN + 16);
  tag(raw, FID_MAGIC_LEN + 16, want, FID_TAG_LEN);
  if(sodium_memcmp(want, raw + FID_MAGIC_LEN + 16, FID_TAG_LEN))
    return -1;
  *bot_id = (int64_t)get_u64(raw + FID_MAGIC_LEN);
  *file_no = get_u64(raw + FID_MAGIC_LEN + 8);
  return 0;
}

void ft_file_unique_id_encode(uint64_t file_no, char out[FT_FILE_UNIQUE_ID_MAX])
{
  unsigned char msg[9], raw[FUID_LEN];

  /* a keyed hash of the file number: stable, unique, and never decoded */
  msg[0] = 'u';
  put_u64(msg + 1, file_no);
  memcpy(raw, fuid_magic, 4);
  tag(msg, sizeof(msg), raw + 4, FUID_LEN - 4);
  sodium_bin2base64(out, FT_FILE_UNIQUE_ID_MAX, raw, sizeof(raw),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
