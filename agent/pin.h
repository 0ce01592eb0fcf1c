/* pin: the bpffs directory where a capture keeps its maps and links between agent runs,
 * and the marker that says which build made them. Knows bpffs and locking, not what is
 * pinned (capture.c decides that). */
#ifndef SEALTRAIL_PIN_H
#define SEALTRAIL_PIN_H

#include <stddef.h>
#include <stdint.h>

/*
 * What a set of pins was made by. Pins are reused only when every field is equal: the
 * same BPF object (its SHA-256: any rebuild that changes a program or a map changes it),
 * the same record ABI, the same pin layout (names, what the loader puts in the maps), the
 * same ring buffer size and the same load options (the fallbacks the loader chose).
 */
#define PIN_OPT_PROBE_READS	1u	/* probe reads asked for (capture_opts) */
#define PIN_OPT_ENTER_DISPATCH	2u	/* enter handlers tail-called from sys_enter */

struct pin_marker {
	char magic[8];			/* "sealtrl" */
	uint32_t abi;			/* ST_ABI_VERSION */
	uint32_t layout;		/* PIN_LAYOUT in pin.c */
	uint32_t ring_bytes;
	uint32_t options;		/* PIN_OPT_* */
	uint8_t object_sha256[32];
};

/* Fills m for the BPF object bytes obj[0..len), a ring of ring_bytes, loaded with
 * options (PIN_OPT_*). */
void pin_marker_init(struct pin_marker *m, const void *obj, size_t len, uint32_t ring_bytes,
		     uint32_t options);

/* Makes dir usable: mounts bpffs at /sys/fs/bpf when dir is below it and it is not
 * mounted, and creates dir (mode 0700) when missing. Returns 0 or -errno. */
int pin_dir_prepare(const char *dir);

/* Opens dir and takes an exclusive lock on it, held until the fd is closed (or the
 * process dies): one capture per pin directory. Returns the fd, or -EBUSY when another
 * process holds it, -EINVAL when dir is not on bpffs (so nothing elsewhere is ever
 * unlinked), -ENOENT when it does not exist, or another -errno. */
int pin_dir_lock(const char *dir);

/* Unlinks every entry of the locked directory (pin_dir_lock's fd), which unpins it:
 * a link whose last reference was its pin is detached. Returns 0 or -errno. */
int pin_dir_clear(int dirfd);

/* Pins fd as dir/<prefix><name> (dots in name become '_'). Returns 0 or -errno. */
int pin_put(const char *dir, const char *prefix, const char *name, int fd);

/* Opens dir/<prefix><name>. Returns an fd or -errno (-ENOENT: not pinned). */
int pin_get(const char *dir, const char *prefix, const char *name);

/* The marker pinned in dir: -ENOENT when there is none, -ESTALE when it is not one of
 * ours (another size or type). Returns 0 or -errno. */
int pin_marker_read(const char *dir, struct pin_marker *m);

/* Pins m as dir's marker, in a frozen map. Written last, it says the pins are complete.
 * Returns 0 or -errno. */
int pin_marker_write(const char *dir, const struct pin_marker *m);

#endif
