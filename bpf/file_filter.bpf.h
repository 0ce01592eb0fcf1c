/* file_filter: which file events are kept. Path rules (watch/ignore prefixes) are applied
 * at sys_exit to the resolved paths; the sensitive list picks the read-only opens that are
 * worth a record, by the opened file's parent directory inode and name. */
#ifndef SEALTRAIL_FILE_FILTER_BPF_H
#define SEALTRAIL_FILE_FILTER_BPF_H

#include "record.bpf.h"
#include "kread.bpf.h"

/* A path that is not complete and absolute never matches a rule: it cannot be told to be
 * under an ignored prefix, so it is kept. */
#define STR_NO_RULES (ST_STR_TRUNCATED | ST_STR_TOO_DEEP | ST_STR_DISCONNECTED | \
		      ST_STR_NO_BASE | ST_STR_FAULT)

/*
 * Whether string `slot` of the record (at offset off) is ignored: it starts with an ignore
 * prefix and with no watch prefix. Prefixes are bytes: "/var/log/" matches below the
 * directory, "/var/log" also matches "/var/logs". Only the first ST_PREFIX_MAX bytes of
 * the path take part, as no prefix is longer.
 */
static __always_inline bool path_ignored(struct scratch *s, __u32 off, int slot)
{
	struct st_record *r = (void *)s->rec;
	struct st_config *cfg = config_get();
	__u64 len = r->str[slot].len;

	if (!cfg || !cfg->npath_rules || (r->str[slot].flags & STR_NO_RULES) || !len)
		return false;
	if (len >= 3) {
		__u32 bit = st_ignore_lead_bit(s->rec[(off + 1) & (ST_RECORD_MAX - 1)],
					       s->rec[(off + 2) & (ST_RECORD_MAX - 1)]);

		if (!((cfg->ignore_lead[bit / 64] >> (bit % 64)) & 1))
			return false;
	}
	if (len > ST_PREFIX_MAX)
		len = ST_PREFIX_MAX;
	len &= 2 * ST_PREFIX_MAX - 1;	/* no-op, for the verifier */
	s->head.prefixlen = len * 8;
	bpf_probe_read_kernel(s->head.path, len, &s->rec[off & (ST_RECORD_MAX - 1)]);
	if (!bpf_map_lookup_elem(&ignore_paths, &s->head))
		return false;
	return !bpf_map_lookup_elem(&watch_paths, &s->head);
}

/* Whether an opened dentry is on the sensitive list: its parent directory's inode keys
 * sensitive_dirs, and its name starts with one of that directory's name prefixes. */
static __always_inline bool sensitive_match(struct scratch *s, struct dentry *dentry)
{
	struct st_inode_key key = {};
	struct st_sensitive_bloom *bloom;
	__u32 zero = 0, bit;
	struct st_sensitive_dir *dir;
	struct dentry *parent;
	const unsigned char *name;
	struct super_block *sb;
	struct inode *inode;
	__u32 i, j, l, n, len;
	bool match;

	if (!dentry)
		return false;
	parent = KREAD(struct dentry, dentry, d_parent);
	inode = KREAD(struct dentry, parent, d_inode);
	if (!inode)
		return false;
	sb = KREAD(struct inode, inode, i_sb);
	key.dev = KREAD(struct super_block, sb, s_dev);
	key.ino = KREAD(struct inode, inode, i_ino);
	bloom = bpf_map_lookup_elem(&sensitive_bloom, &zero);
	bit = st_sensitive_bloom_bit(key.dev, key.ino);
	if (!bloom || !((bloom->bits[(bit / 64) & (ST_SENSITIVE_BLOOM_BITS / 64 - 1)] >> (bit % 64)) & 1))
		return false;
	dir = bpf_map_lookup_elem(&sensitive_dirs, &key);
	if (!dir)
		return false;
	len = KREAD(struct dentry, dentry, d_name.len);
	name = KREAD(struct dentry, dentry, d_name.name);
	/* The first bytes of the name: no prefix is longer. */
	n = len < ST_SENSITIVE_NAME_MAX ? len : ST_SENSITIVE_NAME_MAX;
	barrier_var(n);	/* or clang masks a copy and passes len */
	n &= 2 * ST_SENSITIVE_NAME_MAX - 1;	/* no-op, for the verifier */
	bpf_probe_read_kernel(s->dname, n, name);

	for (i = 0; i < ST_SENSITIVE_NAMES; i++) {
		if (i >= dir->count)
			break;
		l = dir->len[i];
		if (l == 0)
			return true;	/* any name in this directory */
		if (l > ST_SENSITIVE_NAME_MAX || l > len)
			continue;
		match = true;
		for (j = 0; j < ST_SENSITIVE_NAME_MAX; j++) {
			if (j >= l)
				break;
			if (s->dname[j] != dir->name[i][j]) {
				match = false;
				break;
			}
		}
		if (match)
			return true;
	}
	return false;
}

#endif
