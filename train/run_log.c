/* run_log.c - a run's log: every upf_log line goes to train.log (plain,
 * timestamped) and to stderr (plain or JSON; warnings and errors only under
 * --quiet); progress is a bar with rate and time left on a terminal, and a
 * plain line at most every 10 seconds otherwise (CI) and in train.log.
 * Thread-safe: one mutex around both outputs.
 */
#define _DEFAULT_SOURCE /* gmtime_r */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runner_internal.h"

#define PLAIN_EVERY_S 10.0
#define BAR_EVERY_S 0.1

static const char *const level_names[] = { "debug", "info", "warn", "error" };

double run_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void run_utc_stamp(char *buf, size_t n, int compact)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, n, compact ? "%Y%m%d-%H%M%S" : "%Y-%m-%dT%H:%M:%SZ", &tm);
}

upf_status run_log_open(run_log *l, const char *path, int append, int quiet, int json, int bar, upf_err *err)
{
    memset(l, 0, sizeof *l);
    l->quiet = quiet;
    l->json = json;
    l->bar = bar && !quiet;
    pthread_mutex_init(&l->mu, NULL);
    if (path && !(l->file = fopen(path, append ? "ab" : "wb"))) {
        pthread_mutex_destroy(&l->mu);
        return upf_err_sys(err, UPF_ERR_IO, "%s: cannot open the log", path);
    }
    return UPF_OK;
}

void run_log_close(run_log *l)
{
    if (l->bar_visible) fputc('\n', stderr);
    if (l->file) fclose(l->file);
    l->file = NULL;
    pthread_mutex_destroy(&l->mu);
}

static void clear_bar(run_log *l)
{
    if (l->bar_visible) {
        fputs("\r\033[K", stderr);
        l->bar_visible = 0;
    }
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void emit_line(run_log *l, upf_log_level level, const char *msg, int to_stderr)
{
    char ts[32];
    run_utc_stamp(ts, sizeof ts, 0);
    const char *lv = level_names[(unsigned)level < 4 ? level : 3];
    if (l->file) {
        fprintf(l->file, "%s %s: %s\n", ts, lv, msg);
        fflush(l->file);
    }
    if (!to_stderr || (l->quiet && level < UPF_LOG_WARN)) return;
    clear_bar(l);
    if (l->json) {
        fprintf(stderr, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", ts, lv);
        json_string(stderr, msg);
        fputs("}\n", stderr);
    } else {
        fprintf(stderr, "%s %s: %s\n", ts, lv, msg);
    }
}

void run_log_hook(upf_log_level level, const char *msg, void *user)
{
    run_log *l = user;
    if (level == UPF_LOG_DEBUG) return;
    pthread_mutex_lock(&l->mu);
    emit_line(l, level, msg, 1);
    pthread_mutex_unlock(&l->mu);
}

void run_log_file(run_log *l, upf_log_level level, const char *msg)
{
    pthread_mutex_lock(&l->mu);
    emit_line(l, level, msg, 0);
    pthread_mutex_unlock(&l->mu);
}

/* "1.2k", "3.4M" */
static void human(double v, char *buf, size_t n)
{
    const char *suffix = "";
    if (v >= 1e9) v /= 1e9, suffix = "G";
    else if (v >= 1e6) v /= 1e6, suffix = "M";
    else if (v >= 1e4) v /= 1e3, suffix = "k";
    if (v == floor(v) && !*suffix) snprintf(buf, n, "%.0f", v);
    else snprintf(buf, n, "%.1f%s", v, suffix);
}

static void duration(double s, char *buf, size_t n)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, n, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

void run_log_progress(run_log *l, const char *phase, double done, double total, const char *unit)
{
    double now = run_now();
    pthread_mutex_lock(&l->mu);
    if (strncmp(l->phase, phase, sizeof l->phase - 1) != 0) {
        snprintf(l->phase, sizeof l->phase, "%s", phase);
        l->phase_start = now;
        l->last_draw = l->last_line = now;
    }
    int finished = total > 0 && done >= total;
    double el = now - l->phase_start, rate = el > 0 ? done / el : 0;
    double left = rate > 0 && total > 0 ? (total - done) / rate : (double)NAN;
    char d[32], t[32], r[32], eta[32];
    human(done, d, sizeof d);
    human(total, t, sizeof t);
    human(rate, r, sizeof r);
    duration(left, eta, sizeof eta);
    if (!unit) unit = "";
    if (l->bar && (finished || now - l->last_draw >= BAR_EVERY_S)) {
        l->last_draw = now;
        double frac = total > 0 ? done / total : 0;
        if (frac > 1) frac = 1;
        int width = 24, fill = (int)(frac * width);
        char bar[32];
        for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\r\033[K%s [%s] %3.0f%% %s/%s %s  %s %s/s  %s left", phase, bar, frac * 100, d, t, unit, r,
                unit, eta);
        l->bar_visible = 1;
        if (finished) {
            fputc('\n', stderr);
            l->bar_visible = 0;
        }
        fflush(stderr);
    }
    if (finished || now - l->last_line >= PLAIN_EVERY_S) {
        l->last_line = now;
        char msg[300];
        if (total > 0)
            snprintf(msg, sizeof msg, "%s: %.0f%% (%s/%s %s, %s %s/s, %s left)", phase, 100 * (done < total ? done / total : 1),
                     d, t, unit, r, unit, eta);
        else
            snprintf(msg, sizeof msg, "%s: %s %s (%s %s/s)", phase, d, unit, r, unit);
        emit_line(l, UPF_LOG_INFO, msg, !l->bar);
    }
    if (finished) l->phase[0] = '\0';
    pthread_mutex_unlock(&l->mu);
}
