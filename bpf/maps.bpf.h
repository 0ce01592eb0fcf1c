/* maps: the maps every sealtrail BPF object shares. Declared __weak so that each
 * .bpf.c can include this header and `bpftool gen object` links them into one. */
#ifndef SEALTRAIL_MAPS_BPF_H
#define SEALTRAIL_MAPS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);	/* userspace may resize before load */
} events SEC(".maps") __weak;

#endif
