/* cli.c - argument helpers, error printing, signals and the stderr log hook. */
#define _DEFAULT_SOURCE /* gmtime_r, sigaction flags */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../model/outfile.h"

void upf_cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("upfunnel: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int upf_cli_fail(const upf_err *err)
{
    upf_cli_error("%s", err->msg[0] ? err->msg : upf_status_str(err->status));
    return upf_status_exit_code(err->status);
}

int upf_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("upfunnel: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\ntry 'upfunnel %s --help'\n", cmd);
    return UPF_EXIT_USAGE;
}

int upf_arg_value(int argc, char **argv, int *i, const char *cmd, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) {
        upf_cli_usage_error(cmd, "%s needs a value", name);
        return -1;
    }
    *i += 1;
    *val = argv[*i];
    return 1;
}

int upf_arg_is(char **argv, int i, const char *name) { return strcmp(argv[i], name) == 0; }

int upf_arg_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
    }
    return 0;
}

int upf_parse_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno) return -1;
    *out = v;
    return 0;
}

int upf_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno) return -1;
    *out = v;
    return 0;
}

int upf_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* ---- signals ---- */

static void on_interrupt(int sig)
{
    if (upf_interrupted()) {
        upf_tmp_remove_all();
        static const char msg[] = "\nupfunnel: interrupted twice; temporary files removed\n";
        (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
        _exit(128 + sig);
    }
    upf_set_interrupted(1);
}

static void on_crash(int sig)
{
    upf_tmp_remove_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

void upf_cli_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_crash;
    sa.sa_flags = (int)SA_RESETHAND;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
}

/* ---- logging ---- */

typedef struct log_cfg {
    upf_log_level min;
    int json;
} log_cfg;

static log_cfg the_log_cfg;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

static void log_to_stderr(upf_log_level level, const char *msg, void *user)
{
    const log_cfg *c = user;
    if (level < c->min) return;
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *lv = level_names[(unsigned)level < 4 ? level : 3];
    if (c->json) {
        fprintf(stderr, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", ts, lv);
        fputc('"', stderr);
        for (const char *p = msg; *p; p++) {
            if (*p == '"' || *p == '\\') fputc('\\', stderr);
            if ((unsigned char)*p < 0x20) fprintf(stderr, "\\u%04x", (unsigned char)*p);
            else fputc(*p, stderr);
        }
        fputs("\"}\n", stderr);
    } else {
        fprintf(stderr, "%s %s: %s\n", ts, lv, msg);
    }
}

void upf_cli_setup_log(upf_log_level min_level, int json)
{
    the_log_cfg.min = min_level;
    the_log_cfg.json = json;
    upf_set_log(log_to_stderr, &the_log_cfg);
}

int upf_cli_is_tty(void) { return isatty(STDERR_FILENO); }

int upf_cli_mkdirs(const char *dir, size_t *failed_len)
{
    char tmp[4096];
    size_t n = strlen(dir);
    if (failed_len) *failed_len = n;
    if (n == 0 || n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, dir, n + 1);
    for (char *p = tmp + 1;; p++) {
        char c = *p;
        if (c != '/' && c != '\0') continue;
        *p = '\0';
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST) {
            if (failed_len) *failed_len = (size_t)(p - tmp);
            return -1;
        }
        *p = c;
        if (c == '\0') break;
    }
    struct stat sb;
    if (stat(tmp, &sb) != 0) return -1;
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int upf_cli_make_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return 0;
    char dir[4096];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof dir) {
        upf_cli_error("%s: the path is too long", path);
        return UPF_EXIT_FAIL;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
    size_t bad = 0;
    if (upf_cli_mkdirs(dir, &bad) != 0) {
        upf_cli_error("%s: cannot create the folder %.*s: %s", path, (int)bad, dir, strerror(errno));
        return UPF_EXIT_FAIL;
    }
    return 0;
}
