/* digest: SHA-256 and HMAC-SHA256 for the chain, with HMAC pads precomputed once
 * per key so that signing an entry costs two SHA-256 compressions plus the message. */
#ifndef SEALTRAIL_DIGEST_H
#define SEALTRAIL_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_LEN 32
#define DIGEST_HEX_LEN 64

struct digest_sha256 {
	uint32_t h[8];
	uint32_t Nl, Nh;
	uint32_t data[16];
	unsigned int num, md_len;
};

/* HMAC-SHA256 key schedule: the SHA-256 states after absorbing ipad and opad. */
struct digest_hmac_key {
	struct digest_sha256 inner;
	struct digest_sha256 outer;
};

void digest_sha256_init(struct digest_sha256 *s);
void digest_sha256_update(struct digest_sha256 *s, const void *data, size_t len);
void digest_sha256_final(struct digest_sha256 *s, uint8_t out[DIGEST_LEN]);
void digest_sha256(const void *data, size_t len, uint8_t out[DIGEST_LEN]);

void digest_hmac_key_init(struct digest_hmac_key *k, const uint8_t *key, size_t key_len);
void digest_hmac(const struct digest_hmac_key *k, const void *msg, size_t len,
		 uint8_t out[DIGEST_LEN]);
/* Overwrites the key schedule (it is as good as the key). */
void digest_hmac_key_wipe(struct digest_hmac_key *k);

/* Lowercase hex of n bytes into out (2n chars, not NUL-terminated). */
void digest_hex(const uint8_t *in, size_t n, char *out);
/* Parses exactly 2n lowercase-or-uppercase hex chars; returns 0 or -EINVAL. */
int digest_unhex(const char *in, size_t n, uint8_t *out);
/* Fills buf with n bytes from the kernel's CSPRNG; returns 0 or -errno. */
int digest_random(void *buf, size_t n);

#endif
