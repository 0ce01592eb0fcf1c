/* compressor: compresses closed segments in a background thread, so that a
 * rotation never stalls the event loop for the second or two gzip takes. */
#ifndef SEALTRAIL_COMPRESSOR_H
#define SEALTRAIL_COMPRESSOR_H

struct compressor;

/* Starts the thread; trail_dir is opened once. Returns 0 or -errno. */
int compressor_start(struct compressor **out, const char *trail_dir);

/* Queues a segment (chain_opts.on_segment_closed fits: ctx is the compressor). */
void compressor_enqueue(void *ctx, const char *segment_name);

/* Stops the thread once the segment in progress is done, and frees. Segments
 * still queued stay plain (valid; the agent's next start compresses them).
 * Returns the number of segments that could not be compressed. */
int compressor_stop(struct compressor *c);

#endif
