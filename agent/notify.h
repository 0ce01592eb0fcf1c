/* notify: tells systemd (Type=notify) where the agent is, without libsystemd:
 * one datagram to $NOTIFY_SOCKET. A no-op when the variable is unset. */
#ifndef SEALTRAIL_NOTIFY_H
#define SEALTRAIL_NOTIFY_H

/* Sends e.g. "READY=1" or "STOPPING=1". Returns 0 (also when unset) or -errno. */
int notify_systemd(const char *state);

#endif
