/* cli.h - the command layer shared by every sub-command: argument helpers,
 * error printing, signal handling and the stderr log hook.
 *
 * Only code under this layer prints to the terminal or exits. Sub-commands are
 * `int upf_cmd_<name>(int argc, char **argv)` (argv[0] is the sub-command name)
 * and return the process exit code: 0 ok, 1 runtime failure, 2 usage/config
 * error, 3 quality gate failed.
 */
#ifndef UPF_CLI_H
#define UPF_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "../model/base.h"

#define UPF_EXIT_OK 0
#define UPF_EXIT_FAIL 1
#define UPF_EXIT_USAGE 2
#define UPF_EXIT_GATE 3

/* "upfunnel: error: <msg>" on stderr, once. */
void upf_cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Prints err's message and returns the exit code for its status. */
int upf_cli_fail(const upf_err *err);
/* A usage error: prints the message and "try 'upfunnel CMD --help'"; returns 2. */
int upf_cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Option matching. If argv[*i] is "--name VALUE" or "--name=VALUE", stores the
 * value, advances *i past it and returns 1; returns 0 when argv[*i] is another
 * argument; returns -1 (after printing a usage error) when the value is missing. */
int upf_arg_value(int argc, char **argv, int *i, const char *cmd, const char *name, const char **val);
/* 1 when argv[i] is exactly name. */
int upf_arg_is(char **argv, int i, const char *name);
/* 1 when any argument is -h or --help. */
int upf_arg_wants_help(int argc, char **argv);

/* Strict number parsing: whole string, no overflow. Return 0 on success. */
int upf_parse_i64(const char *s, int64_t *out);
int upf_parse_u64(const char *s, uint64_t *out);
int upf_parse_double(const char *s, double *out);

/* Installs SIGINT/SIGTERM handlers (first signal sets upf_interrupted(), a
 * second removes registered temporaries and exits 130) and SIGSEGV/SIGBUS/
 * SIGABRT handlers that remove temporaries before dying. */
void upf_cli_install_signals(void);

/* Log hook to stderr: "2026-11-23T10:00:00Z info: msg" lines, or JSON lines
 * when json is set; messages below min_level are dropped. */
void upf_cli_setup_log(upf_log_level min_level, int json);

/* mkdir -p: creates dir and its missing parents (0777 before the umask).
 * Returns 0, or -1 with errno set and, when failed_len is not NULL, the length
 * of the prefix of dir that could not be made (so the message can name it). */
int upf_cli_mkdirs(const char *dir, size_t *failed_len);
/* Creates the missing folders of an output file's path ("data/x.h5" ->
 * "data"), so `-o data/x.h5` works in a fresh clone. Prints the error and
 * returns UPF_EXIT_FAIL when a folder cannot be made; 0 otherwise. */
int upf_cli_make_parent(const char *path);

/* 1 when stderr is a terminal (progress bars), 0 otherwise (CI). */
int upf_cli_is_tty(void);

#endif
