/* cli: the sealtrail commands. Each returns the process exit status:
 * 0 success, 1 the input or trail is bad, 2 usage or I/O error. */
#ifndef SEALTRAIL_CLI_H
#define SEALTRAIL_CLI_H

#define EXIT_BAD 1
#define EXIT_USAGE 2

int cmd_keygen(int argc, char **argv);
int cmd_append(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* Prints "sealtrail: CMD: message" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses a decimal size with an optional K/M/G suffix (powers of 1024). */
int cli_parse_size(const char *s, unsigned long long *out);

#endif
