/* config: loading and checking the agent's configuration (see config.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "backlog.h"
#include "digest.h"
#include "fileio.h"
#include "json.h"

#define CONFIG_MAX_BYTES (1u << 20)

static const char *const default_ignore_paths[] = {
	/* Written to all the time, and not a security event. */
	"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
	"/dev/tty", "/dev/ptmx", "/dev/pts/",
};

static const char *const default_sensitive_paths[] = {
	"/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/security/opasswd",
	"/etc/ssh/ssh_host_", "/etc/krb5.keytab", "/root/.ssh/", "/home/*/.ssh/",
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int list_set(struct string_list *l, const char *const *v, size_t n)
{
	size_t i;

	l->v = calloc(n ? n : 1, sizeof(char *));
	if (!l->v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		l->v[i] = strdup(v[i]);
		if (!l->v[i])
			return -ENOMEM;
		l->n++;
	}
	return 0;
}

static void list_free(struct string_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int defaults(struct agent_config *c)
{
	/* sysctl writes are rare and matter: watched even if /proc/ is ignored. */
	static const char *const watch[] = { "/proc/sys/" };

	memset(c, 0, sizeof(*c));
	c->segment_bytes = 64ull << 20;
	c->epoch_seconds = 60;
	c->flush_ms = 200;
	c->loss_check_ms = 1000;
	c->ringbuf_bytes = 16u << 20;
	/* The ring holds 0.2 s of the open storm of `make bench`, a rotation's fsyncs can
	 * take longer: this holds seconds of it, and is memory only while in use. */
	c->backlog_bytes = 256u << 20;
	if (list_set(&c->ignore_paths, default_ignore_paths,
		     sizeof(default_ignore_paths) / sizeof(default_ignore_paths[0])) ||
	    list_set(&c->sensitive_paths, default_sensitive_paths,
		     sizeof(default_sensitive_paths) / sizeof(default_sensitive_paths[0])) ||
	    list_set(&c->ignore_comms, NULL, 0) || list_set(&c->watch_paths, watch, 1))
		return -ENOMEM;
	return 0;
}

/* An integer in [min, max]; cJSON keeps numbers as doubles, exact up to 2^53. */
static int get_uint(const cJSON *v, const char *key, uint64_t min, uint64_t max, uint64_t *out,
		    char *err, size_t errlen)
{
	double d;

	if (!cJSON_IsNumber(v))
		return fail(err, errlen, "key \"%s\": must be a number", key);
	d = v->valuedouble;
	if (d != (double)(uint64_t)d || d < (double)min || d > (double)max)
		return fail(err, errlen, "key \"%s\": must be an integer from %" PRIu64 " to %" PRIu64,
			    key, min, max);
	*out = (uint64_t)d;
	return 0;
}

/* A list of strings, each checked by `check` (which returns a reason or NULL). */
static int get_strings(const cJSON *v, const char *key, size_t max_n,
		       const char *(*check)(const char *), struct string_list *out, char *err,
		       size_t errlen)
{
	const cJSON *item;
	size_t n = 0;

	if (!cJSON_IsArray(v))
		return fail(err, errlen, "key \"%s\": must be a list of strings", key);
	if ((size_t)cJSON_GetArraySize(v) > max_n)
		return fail(err, errlen, "key \"%s\": at most %zu entries", key, max_n);
	list_free(out);
	out->v = calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(char *));
	if (!out->v)
		return -ENOMEM;
	cJSON_ArrayForEach(item, v) {
		const char *why;

		if (!cJSON_IsString(item))
			return fail(err, errlen, "key \"%s\": entry %zu is not a string", key, n + 1);
		why = check ? check(item->valuestring) : NULL;
		if (why)
			return fail(err, errlen, "key \"%s\": \"%s\" %s", key, item->valuestring, why);
		out->v[n] = strdup(item->valuestring);
		if (!out->v[n])
			return -ENOMEM;
		out->n = ++n;
	}
	return 0;
}

static const char *check_rule_path(const char *s)
{
	if (s[0] != '/')
		return "is not an absolute path";
	if (strlen(s) >= ST_PREFIX_MAX)
		return "is longer than 127 bytes";
	return NULL;
}

static const char *check_abs_path(const char *s)
{
	if (s[0] != '/')
		return "is not an absolute path";
	if (strlen(s) >= 4096)
		return "is too long";
	return NULL;
}

static const char *check_comm(const char *s)
{
	if (!s[0] || strlen(s) >= ST_COMM_LEN)
		return "is not a command name of 1 to 15 bytes";
	return NULL;
}

static int get_ids(const cJSON *v, const char *key, uint64_t max, uint64_t **out, size_t *n,
		   char *err, size_t errlen)
{
	const cJSON *item;
	int i = 0, err_;

	if (!cJSON_IsArray(v))
		return fail(err, errlen, "key \"%s\": must be a list of integers", key);
	/* The kernel's map holds no more: refused here, not at start. */
	if (cJSON_GetArraySize(v) > ST_IGNORE_IDS_MAX)
		return fail(err, errlen, "key \"%s\": at most %d entries", key, ST_IGNORE_IDS_MAX);
	*out = calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(uint64_t));
	if (!*out)
		return -ENOMEM;
	cJSON_ArrayForEach(item, v) {
		err_ = get_uint(item, key, 0, max, &(*out)[i], err, errlen);
		if (err_)
			return err_;
		*n = (size_t)++i;
	}
	return 0;
}

static int apply(struct agent_config *c, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *v;
	uint64_t u;
	int ret = 0;

	if (!cJSON_IsObject(root))
		return fail(err, errlen, "the configuration must be a JSON object");
	cJSON_ArrayForEach(v, root) {
		const char *k = v->string;

		if (!strcmp(k, "segment_bytes")) {
			ret = get_uint(v, k, 4096, 1ull << 40, &c->segment_bytes, err, errlen);
		} else if (!strcmp(k, "epoch_seconds")) {
			ret = get_uint(v, k, 1, 86400, &u, err, errlen);
			c->epoch_seconds = (unsigned int)u;
		} else if (!strcmp(k, "flush_ms")) {
			ret = get_uint(v, k, 1, 60000, &u, err, errlen);
			c->flush_ms = (unsigned int)u;
		} else if (!strcmp(k, "loss_check_ms")) {
			ret = get_uint(v, k, 10, 60000, &u, err, errlen);
			c->loss_check_ms = (unsigned int)u;
		} else if (!strcmp(k, "ringbuf_bytes")) {
			ret = get_uint(v, k, 1u << 16, 1u << 30, &u, err, errlen);
			if (!ret && (u & (u - 1)))
				ret = fail(err, errlen, "key \"%s\": must be a power of two", k);
			c->ringbuf_bytes = (uint32_t)u;
		} else if (!strcmp(k, "backlog_bytes")) {
			ret = get_uint(v, k, 0, 1ull << 40, &u, err, errlen);
			if (!ret && u && u < BACKLOG_MIN_BYTES)
				ret = fail(err, errlen, "key \"%s\": 0 (none) or at least %u", k,
					   BACKLOG_MIN_BYTES);
			c->backlog_bytes = (size_t)u;
		} else if (!strcmp(k, "wakeup_bytes")) {
			ret = get_uint(v, k, 0, 1u << 30, &u, err, errlen);
			c->wakeup_bytes = (uint32_t)u;
		} else if (!strcmp(k, "ignore_uids")) {
			uint64_t *ids = NULL;
			size_t i;

			free(c->ignore_uids);
			c->n_ignore_uids = 0;
			ret = get_ids(v, k, UINT32_MAX, &ids, &c->n_ignore_uids, err, errlen);
			c->ignore_uids = calloc(c->n_ignore_uids + 1, sizeof(uint32_t));
			for (i = 0; c->ignore_uids && i < c->n_ignore_uids; i++)
				c->ignore_uids[i] = (uint32_t)ids[i];
			free(ids);
			if (!c->ignore_uids && !ret)
				ret = -ENOMEM;
		} else if (!strcmp(k, "ignore_cgroups")) {
			free(c->ignore_cgroups);
			c->ignore_cgroups = NULL;
			c->n_ignore_cgroups = 0;
			ret = get_ids(v, k, 1ull << 53, &c->ignore_cgroups, &c->n_ignore_cgroups, err,
				      errlen);
		} else if (!strcmp(k, "ignore_comms")) {
			ret = get_strings(v, k, ST_IGNORE_COMMS_MAX, check_comm, &c->ignore_comms, err, errlen);
		} else if (!strcmp(k, "ignore_paths")) {
			ret = get_strings(v, k, ST_PATH_RULES_MAX, check_rule_path, &c->ignore_paths,
					  err, errlen);
		} else if (!strcmp(k, "watch_paths")) {
			ret = get_strings(v, k, ST_PATH_RULES_MAX, check_rule_path, &c->watch_paths,
					  err, errlen);
		} else if (!strcmp(k, "record_exec_enoent")) {
			if (!cJSON_IsBool(v))
				ret = fail(err, errlen, "key \"%s\": must be true or false", k);
			c->record_exec_enoent = cJSON_IsTrue(v);
		} else if (!strcmp(k, "sensitive_paths")) {
			ret = get_strings(v, k, 256, check_abs_path, &c->sensitive_paths, err, errlen);
		} else {
			ret = fail(err, errlen, "unknown key \"%s\"", k);
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* Line number of byte `at` in text, for JSON syntax errors. */
static unsigned int line_of(const char *text, const char *at)
{
	unsigned int line = 1;

	for (; text < at; text++)
		line += *text == '\n';
	return line;
}

int config_load(const char *path, struct agent_config *cfg, char *err, size_t errlen)
{
	char *text = NULL, *prefixed;
	cJSON *root = NULL;
	size_t len;
	int ret;

	err[0] = '\0';
	ret = defaults(cfg);
	if (ret || !path)
		goto digest;
	ret = fileio_read_small(AT_FDCWD, path, CONFIG_MAX_BYTES, &text, &len);
	if (ret) {
		snprintf(err, errlen, "cannot read %s: %s", path,
			 ret == -EFBIG ? "larger than 1 MiB" : strerror(-ret));
		goto out;
	}
	root = cJSON_ParseWithLength(text, len);
	if (!root) {
		const char *at = cJSON_GetErrorPtr();

		ret = fail(err, errlen, "line %u: not valid JSON", at ? line_of(text, at) : 0);
	} else {
		ret = apply(cfg, root, err, errlen);
	}
	if (ret == -EINVAL) {
		/* Name the file in front of the reason: "FILE: key ...". */
		prefixed = strdup(err);
		if (prefixed) {
			snprintf(err, errlen, "%s: %s", path, prefixed);
			free(prefixed);
		}
	}
digest:
	if (!ret) {
		struct buf b = { 0 };
		uint8_t d[DIGEST_LEN];

		config_write_json(&b, cfg);
		digest_sha256(b.data, b.len, d);
		digest_hex(d, DIGEST_LEN, cfg->digest);
		cfg->digest[64] = '\0';
		buf_free(&b);
	}
out:
	cJSON_Delete(root);
	free(text);
	if (ret)
		config_free(cfg);
	/* Every failure has its reason (out of memory sets none on the way). */
	if (ret && !err[0])
		snprintf(err, errlen, "%s", strerror(-ret));
	return ret;
}

void config_free(struct agent_config *cfg)
{
	free(cfg->ignore_uids);
	free(cfg->ignore_cgroups);
	list_free(&cfg->ignore_comms);
	list_free(&cfg->ignore_paths);
	list_free(&cfg->watch_paths);
	list_free(&cfg->sensitive_paths);
	cfg->ignore_uids = NULL;
	cfg->ignore_cgroups = NULL;
	cfg->n_ignore_uids = cfg->n_ignore_cgroups = 0;
}

static void put_strings(struct jw *w, const char *key, const struct string_list *l)
{
	size_t i;

	jw_key(w, key);
	jw_array_begin(w);
	for (i = 0; i < l->n; i++)
		jw_cstring(w, l->v[i]);
	jw_array_end(w);
}

void config_write_json(struct buf *out, const struct agent_config *c)
{
	struct jw w;
	size_t i;

	jw_init(&w, out);
	jw_object_begin(&w);
	jw_key(&w, "backlog_bytes");
	jw_uint(&w, c->backlog_bytes);
	jw_key(&w, "epoch_seconds");
	jw_uint(&w, c->epoch_seconds);
	jw_key(&w, "flush_ms");
	jw_uint(&w, c->flush_ms);
	jw_key(&w, "ignore_cgroups");
	jw_array_begin(&w);
	for (i = 0; i < c->n_ignore_cgroups; i++)
		jw_uint(&w, c->ignore_cgroups[i]);
	jw_array_end(&w);
	put_strings(&w, "ignore_comms", &c->ignore_comms);
	put_strings(&w, "ignore_paths", &c->ignore_paths);
	jw_key(&w, "ignore_uids");
	jw_array_begin(&w);
	for (i = 0; i < c->n_ignore_uids; i++)
		jw_uint(&w, c->ignore_uids[i]);
	jw_array_end(&w);
	jw_key(&w, "loss_check_ms");
	jw_uint(&w, c->loss_check_ms);
	jw_key(&w, "record_exec_enoent");
	jw_bool(&w, c->record_exec_enoent);
	jw_key(&w, "ringbuf_bytes");
	jw_uint(&w, c->ringbuf_bytes);
	jw_key(&w, "segment_bytes");
	jw_uint(&w, c->segment_bytes);
	put_strings(&w, "sensitive_paths", &c->sensitive_paths);
	jw_key(&w, "wakeup_bytes");
	jw_uint(&w, c->wakeup_bytes);
	put_strings(&w, "watch_paths", &c->watch_paths);
	jw_object_end(&w);
}

void config_filters(const struct agent_config *c, struct capture_filters *f)
{
	memset(f, 0, sizeof(*f));
	f->ignore_uids = c->ignore_uids;
	f->n_ignore_uids = c->n_ignore_uids;
	f->ignore_cgroups = c->ignore_cgroups;
	f->n_ignore_cgroups = c->n_ignore_cgroups;
	f->ignore_comms = (const char *const *)c->ignore_comms.v;
	f->n_ignore_comms = c->ignore_comms.n;
	f->ignore_paths = (const char *const *)c->ignore_paths.v;
	f->n_ignore_paths = c->ignore_paths.n;
	f->watch_paths = (const char *const *)c->watch_paths.v;
	f->n_watch_paths = c->watch_paths.n;
	f->sensitive_paths = (const char *const *)c->sensitive_paths.v;
	f->n_sensitive_paths = c->sensitive_paths.n;
	f->quiet_exec_enoent = !c->record_exec_enoent;
}

int config_print(const struct agent_config *cfg, FILE *f)
{
	struct buf b = { 0 };
	cJSON *root;
	char *text;
	int err = -ENOMEM;

	config_write_json(&b, cfg);
	root = b.failed ? NULL : cJSON_ParseWithLength(b.data, b.len);
	text = root ? cJSON_Print(root) : NULL;
	if (text) {
		fprintf(f, "%s\n", text);
		err = 0;
	}
	cJSON_free(text);
	cJSON_Delete(root);
	buf_free(&b);
	return err;
}
