/* digest: SHA-256/HMAC via OpenSSL's low-level SHA-256, hex and randomness.
 *
 * The low-level API is deprecated in OpenSSL 3 but it is the fast path: EVP
 * per-entry initialisation costs more than hashing a typical entry. We keep the
 * SHA256_CTX layout in our own struct so callers need no OpenSSL headers, and
 * check at compile time that the two agree. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "digest.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <openssl/sha.h>

_Static_assert(sizeof(struct digest_sha256) == sizeof(SHA256_CTX), "SHA256_CTX layout");

#define CTX(s) ((SHA256_CTX *)(void *)(s))

void digest_sha256_init(struct digest_sha256 *s)
{
	SHA256_Init(CTX(s));
}

void digest_sha256_update(struct digest_sha256 *s, const void *data, size_t len)
{
	SHA256_Update(CTX(s), data, len);
}

void digest_sha256_final(struct digest_sha256 *s, uint8_t out[DIGEST_LEN])
{
	SHA256_Final(out, CTX(s));
}

void digest_sha256(const void *data, size_t len, uint8_t out[DIGEST_LEN])
{
	struct digest_sha256 s;

	digest_sha256_init(&s);
	digest_sha256_update(&s, data, len);
	digest_sha256_final(&s, out);
}

void digest_hmac_key_init(struct digest_hmac_key *k, const uint8_t *key, size_t key_len)
{
	uint8_t block[64], pad[64];
	size_t i;

	memset(block, 0, sizeof(block));
	if (key_len > sizeof(block))
		digest_sha256(key, key_len, block);
	else
		memcpy(block, key, key_len);

	for (i = 0; i < sizeof(pad); i++)
		pad[i] = block[i] ^ 0x36;
	digest_sha256_init(&k->inner);
	digest_sha256_update(&k->inner, pad, sizeof(pad));
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = block[i] ^ 0x5c;
	digest_sha256_init(&k->outer);
	digest_sha256_update(&k->outer, pad, sizeof(pad));

	explicit_bzero(block, sizeof(block));
	explicit_bzero(pad, sizeof(pad));
}

void digest_hmac(const struct digest_hmac_key *k, const void *msg, size_t len,
		 uint8_t out[DIGEST_LEN])
{
	struct digest_sha256 s = k->inner;
	uint8_t inner[DIGEST_LEN];

	digest_sha256_update(&s, msg, len);
	digest_sha256_final(&s, inner);
	s = k->outer;
	digest_sha256_update(&s, inner, sizeof(inner));
	digest_sha256_final(&s, out);
	explicit_bzero(&s, sizeof(s));
}

void digest_hmac_key_wipe(struct digest_hmac_key *k)
{
	explicit_bzero(k, sizeof(*k));
}

/* Both characters of a byte at once: every entry needs two 64-digit hex strings. */
#define HEX2(b) "0123456789abcdef"[(b) >> 4], "0123456789abcdef"[(b) & 15]
#define HEX2_ROW(r) HEX2(r + 0), HEX2(r + 1), HEX2(r + 2), HEX2(r + 3), HEX2(r + 4), \
	HEX2(r + 5), HEX2(r + 6), HEX2(r + 7), HEX2(r + 8), HEX2(r + 9), HEX2(r + 10), \
	HEX2(r + 11), HEX2(r + 12), HEX2(r + 13), HEX2(r + 14), HEX2(r + 15)
static const char hex_pairs[512] = {
	HEX2_ROW(0x00), HEX2_ROW(0x10), HEX2_ROW(0x20), HEX2_ROW(0x30),
	HEX2_ROW(0x40), HEX2_ROW(0x50), HEX2_ROW(0x60), HEX2_ROW(0x70),
	HEX2_ROW(0x80), HEX2_ROW(0x90), HEX2_ROW(0xa0), HEX2_ROW(0xb0),
	HEX2_ROW(0xc0), HEX2_ROW(0xd0), HEX2_ROW(0xe0), HEX2_ROW(0xf0),
};

void digest_hex(const uint8_t *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		memcpy(out + 2 * i, hex_pairs + 2 * in[i], 2);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int digest_unhex(const char *in, size_t n, uint8_t *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int digest_random(void *buf, size_t n)
{
	uint8_t *p = buf;

	while (n) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}
