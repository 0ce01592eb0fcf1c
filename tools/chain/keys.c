/* keys: key generation, storage and evolution (see keys.h). */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "digest.h"
#include "fileio.h"
#include "json.h"

#define KEY_FILE_MAX 4096

void key_evolve(uint8_t key[KEY_LEN])
{
	struct digest_hmac_key hk;
	uint8_t next[DIGEST_LEN];

	digest_hmac_key_init(&hk, key, KEY_LEN);
	digest_hmac(&hk, "evolve", 6, next);
	memcpy(key, next, KEY_LEN);
	digest_hmac_key_wipe(&hk);
	explicit_bzero(next, sizeof(next));
}

void key_for_epoch(const uint8_t k0[KEY_LEN], uint64_t epoch, uint8_t out[KEY_LEN])
{
	memcpy(out, k0, KEY_LEN);
	while (epoch--)
		key_evolve(out);
}

static int format_writer_key(const struct writer_key *wk, char *out, size_t cap)
{
	char hex[2 * KEY_LEN + 1];
	int n;

	digest_hex(wk->key, KEY_LEN, hex);
	hex[2 * KEY_LEN] = '\0';
	n = snprintf(out, cap, "{\"epoch\": %" PRIu64 ", \"key\": \"%s\"}\n", wk->epoch, hex);
	explicit_bzero(hex, sizeof(hex));
	return n < 0 || (size_t)n >= cap ? -EOVERFLOW : n;
}

int keys_generate(const char *dir)
{
	struct writer_key wk = { .epoch = 0 };
	char text[256];
	int dirfd, n, err;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	if (!faccessat(dirfd, VERIFY_KEY_FILE, F_OK, AT_SYMLINK_NOFOLLOW) ||
	    !faccessat(dirfd, WRITER_KEY_FILE, F_OK, AT_SYMLINK_NOFOLLOW)) {
		err = -EEXIST;
		goto out;
	}
	err = digest_random(wk.key, KEY_LEN);
	if (err)
		goto out;

	digest_hex(wk.key, KEY_LEN, text);
	text[2 * KEY_LEN] = '\n';
	err = fileio_create(dirfd, VERIFY_KEY_FILE, text, 2 * KEY_LEN + 1, 0600);
	if (err)
		goto out;
	n = format_writer_key(&wk, text, sizeof(text));
	err = n < 0 ? n : fileio_create(dirfd, WRITER_KEY_FILE, text, (size_t)n, 0600);
	if (err)
		unlinkat(dirfd, VERIFY_KEY_FILE, 0);	/* all or nothing */
out:
	explicit_bzero(&wk, sizeof(wk));
	explicit_bzero(text, sizeof(text));
	close(dirfd);
	return err;
}

/* Accepts the hex key followed by optional whitespace. */
static int parse_hex_key(const char *s, size_t len, uint8_t key[KEY_LEN])
{
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' ||
			   s[len - 1] == '\t'))
		len--;
	if (len != 2 * KEY_LEN)
		return -EINVAL;
	return digest_unhex(s, KEY_LEN, key);
}

int keys_load_verify(const char *path, uint8_t k0[KEY_LEN])
{
	char *text;
	size_t len;
	int err;

	err = fileio_read_small(AT_FDCWD, path, KEY_FILE_MAX, &text, &len);
	if (err)
		return err == -EFBIG ? -EINVAL : err;
	err = parse_hex_key(text, len, k0);
	explicit_bzero(text, len);
	free(text);
	return err;
}

int writer_key_load(int dirfd, struct writer_key *wk)
{
	struct jv_arena *a = NULL;
	const struct jv *key = NULL;
	struct jv *root;
	char *text;
	size_t len;
	int err;

	err = fileio_read_small(dirfd, WRITER_KEY_FILE, KEY_FILE_MAX, &text, &len);
	if (err)
		return err == -EFBIG ? -EINVAL : err;
	a = jv_arena_new();
	if (!a) {
		err = -ENOMEM;
		goto out;
	}
	err = json_parse(a, text, len, &root, NULL);
	if (err)
		goto out;
	key = jv_get(root, "key");
	if (!jv_to_u64(jv_get(root, "epoch"), &wk->epoch) || !key || key->type != JV_STRING ||
	    parse_hex_key(key->str, key->n, wk->key)) {
		err = -EINVAL;
		goto out;
	}
out:
	/* The parsed hex may be a copy in the arena: wipe it too, or the key of this
	 * epoch outlives the writer's move to the next (forward security). */
	if (key && key->type == JV_STRING)
		explicit_bzero((char *)key->str, key->n);
	jv_arena_free(a);
	explicit_bzero(text, len);
	free(text);
	return err;
}

int writer_key_store(int dirfd, const struct writer_key *wk)
{
	char text[256];
	int n, err;

	n = format_writer_key(wk, text, sizeof(text));
	err = n < 0 ? n : fileio_replace(dirfd, WRITER_KEY_FILE, text, (size_t)n, 0600);
	explicit_bzero(text, sizeof(text));
	return err;
}
