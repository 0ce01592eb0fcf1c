/* keys: the trail's keys. k0 is 32 random bytes; the key of epoch e+1 is
 * HMAC-SHA256(key = k_e, message = "evolve"). The responder keeps k0 (verify.key)
 * offline; the writer keeps only its current key (writer.key) and erases the
 * previous one when it moves on, so that reading the writer's key today does not
 * allow re-signing yesterday's entries. */
#ifndef SEALTRAIL_KEYS_H
#define SEALTRAIL_KEYS_H

#include <stdint.h>

#define KEY_LEN 32
#define VERIFY_KEY_FILE "verify.key"
#define WRITER_KEY_FILE "writer.key"

struct writer_key {
	uint64_t epoch;
	uint8_t key[KEY_LEN];
};

/* Creates dir (mode 0700) if missing, then verify.key and writer.key (0600).
 * Returns 0, -EEXIST when either key exists (nothing is overwritten), or -errno. */
int keys_generate(const char *dir);

/* Reads a verify key file (64 hex digits, optional trailing newline).
 * Returns 0, -EINVAL when malformed, or -errno. */
int keys_load_verify(const char *path, uint8_t k0[KEY_LEN]);

/* Reads / atomically replaces writer.key in the directory dirfd. */
int writer_key_load(int dirfd, struct writer_key *wk);
int writer_key_store(int dirfd, const struct writer_key *wk);

/* key <- HMAC-SHA256(key, "evolve"), erasing the old value. */
void key_evolve(uint8_t key[KEY_LEN]);

/* Derives the key of `epoch` from k0 (for verifiers). */
void key_for_epoch(const uint8_t k0[KEY_LEN], uint64_t epoch, uint8_t out[KEY_LEN]);

#endif
