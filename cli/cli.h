/* cli.h: the verbs of the mcpauth command line, one cmd_*.c file each. */
#ifndef MCPAUTH_CLI_H
#define MCPAUTH_CLI_H

/* Exit codes every verb uses. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_DENY 1   /* a deny, or a failed verification */
#define CLI_EXIT_USAGE 2  /* bad usage, bad input, unreadable policy */

/* Each verb gets argv from the verb itself on (argv[0] is the verb). */
int cli_policy(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_key(int argc, char **argv);
int cli_audit(int argc, char **argv);

/* A log callback for mcpauth_open_ex: plugins' reports (a failing audit
 * file, a store that turned unreadable) go to stderr. */
void cli_log(void *arg, int level, const char *message);

/* Print "mcpauth: " and the message to stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
