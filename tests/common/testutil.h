/* testutil.h: helpers for mcpauth's CUnit suites. */
#ifndef MCPAUTH_TESTUTIL_H
#define MCPAUTH_TESTUTIL_H

#include <CUnit/Basic.h>
#include <stddef.h>

/* A fresh 0700 directory under $TMPDIR (or /tmp); caller frees. */
char *tu_mkdtemp(void);
/* Remove a directory tree. */
void tu_rmtree(const char *dir);
/* Remove dir (or, when KEEP_TEST_DIR is set, say where it was kept) and
 * free the string. */
void tu_rmtree_unless_kept(char *dir);
/* Write text to dir/name (mode 0600), returning the full path (caller frees). */
char *tu_write(const char *dir, const char *name, const char *text);
/* Read a whole file into a new NUL-terminated string, or NULL. */
char *tu_read(const char *path);
/* Run a shell command, capture stdout+stderr into *out (caller frees);
 * returns the exit code, or -1 when it did not exit normally. */
int tu_run(const char *cmd, char **out);
/* The directory holding the build tree's plugins (MCPAUTH_TEST_PLUGIN_DIR). */
const char *tu_plugin_dir(void);
/* The scripted test plugin, mcpauth_script.so, in MCPAUTH_TEST_SCRIPT_DIR. */
const char *tu_script_so(void);
/* asprintf that aborts on failure. */
char *tu_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write a policy with one `plugin` entry whose config is `config` (block
 * YAML, indented six spaces) to dir/bad.yaml, and assert that loading it
 * fails with a message holding "bad.yaml:<where>" and `what`. */
void tu_expect_config_error(const char *dir, const char *plugin, const char *config,
                            const char *where, const char *what);

/* Run the suites registered by `add` and return the process exit code. */
int tu_main(int (*add)(void));

#endif
