/* agent: sealtraild's life: open the trail and the capture, turn every record
 * into a sealed entry, flush, seal epochs, report losses, reload, stop cleanly. */
#ifndef SEALTRAIL_AGENT_H
#define SEALTRAIL_AGENT_H

struct agent_opts {
	const char *trail_dir;
	const char *key_dir;
	const char *config_path;	/* NULL: built-in defaults */
	const char *pin_dir;		/* NULL: no pinning */
};

/* Runs until SIGTERM/SIGINT. Returns the process exit status: 0 after a clean
 * stop, 1 on a runtime failure, 2 for bad configuration or usage (nothing is
 * written then). Errors are printed as one line on stderr. */
int agent_run(const struct agent_opts *o);

#endif
