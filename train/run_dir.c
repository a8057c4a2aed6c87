/* run_dir.c - the run directory's life: a fresh directory (refusing to mix a
 * run into an unfinished one or into unrelated files), the INCOMPLETE marker
 * (written first, removed last, with the reason a run stopped), resuming
 * (curves cut back to the last checkpoint) and the checkpoints themselves
 * (checkpoint.bin: "UPFCKPT1", u64 curve rows, u64 length, payload; written
 * atomically). Not here: what runs inside (runner.c).
 */
#define _DEFAULT_SOURCE /* mkdir */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../model/outfile.h"
#include "cli.h"
#include "runner_internal.h"

#define CKPT_MAGIC "UPFCKPT1"
#define CKPT_HEADER 24

/* ---- files in the run directory ---- */

upf_status run_write_text(const upf_run *run, const char *name, const char *text, upf_err *err)
{
    char *path = upf_run_path(run, name);
    if (!path) return upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory", name);
    upf_status st = upf_write_file_atomic(path, text, strlen(text), err);
    upf_free(path);
    return st;
}

void run_remove_file(const upf_run *run, const char *name)
{
    char *path = upf_run_path(run, name);
    if (path) unlink(path);
    upf_free(path);
}

int run_file_exists(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

upf_status run_write_marker(const upf_run *run, const char *status, const char *reason, upf_err *err)
{
    char stamp[40], buf[4096 + 1024];
    run_utc_stamp(stamp, sizeof stamp, 0);
    /* one line per field; the reason is cut to its first line */
    char why[600];
    snprintf(why, sizeof why, "%s", reason);
    why[strcspn(why, "\n")] = '\0';
    snprintf(buf, sizeof buf,
             "status: %s\n"
             "reason: %s\n"
             "updated: %s\n"
             "pid: %ld\n"
             "data: %s\n"
             "resume: upfunnel train --resume %s\n",
             status, why, stamp, (long)getpid(), run->data_desc ? run->data_desc : "", run->dir);
    return run_write_text(run, RUN_MARKER, buf, err);
}

/* The value of "key: " in the marker, or "" (buf). */
void run_marker_field(const char *dir, const char *key, char *buf, size_t n)
{
    char path[4200], line[4200];
    buf[0] = '\0';
    snprintf(path, sizeof path, "%s/%s", dir, RUN_MARKER);
    FILE *f = fopen(path, "rb");
    if (!f) return;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            const char *v = line + kl + 1;
            while (*v == ' ') v++;
            snprintf(buf, n, "%s", v);
            buf[strcspn(buf, "\r\n")] = '\0';
            break;
        }
    fclose(f);
}

/* 1 when DIR's marker says "running" and its process is alive on this machine
 * (another process: a crashed run's pid is gone). */
static int still_going(const char *dir)
{
    char status[100], pid_text[32];
    run_marker_field(dir, "status", status, sizeof status);
    run_marker_field(dir, "pid", pid_text, sizeof pid_text);
    long pid = strtol(pid_text, NULL, 10);
    return strcmp(status, "running") == 0 && pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) == 0;
}

static int dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int empty = 1;
    for (struct dirent *e; empty && (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = 0;
    closedir(d);
    return empty;
}

/* Files a finished run leaves; replaced when the same --out runs again. */
static const char *const run_files[] = { "config.yaml", "metrics.json", "curves.csv", "per_user.csv", "model.upf",
                                         "train.log", RUN_CKPT, NULL };

upf_status run_prepare_fresh_dir(upf_run *run, const char *out, upf_err *err)
{
    struct stat sb;
    if (stat(out, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) return upf_err_set(err, UPF_ERR_ARG, "--out %s: exists and is not a directory", out);
        int unfinished = run_file_exists(out, RUN_MARKER);
        if (unfinished && still_going(out))
            return upf_err_set(err, UPF_ERR_ARG, "--out %s: a run is still going there", out);
        if (unfinished && run_file_exists(out, RUN_CKPT)) {
            /* a checkpoint is work worth keeping: resume it or go elsewhere */
            char why[600];
            run_marker_field(out, "reason", why, sizeof why);
            return upf_err_set(err, UPF_ERR_ARG,
                               "--out %s: holds an unfinished run (%s); continue it with `upfunnel train --resume %s` "
                               "or choose another --out",
                               out, why[0] ? why : "INCOMPLETE", out);
        }
        if (unfinished || run_file_exists(out, "config.yaml") || run_file_exists(out, "metrics.json")) {
            char marker[4200];
            snprintf(marker, sizeof marker, "%s/%s", out, RUN_MARKER);
            unlink(marker);
            for (size_t i = 0; run_files[i]; i++) {
                char path[4200];
                snprintf(path, sizeof path, "%s/%s", out, run_files[i]);
                unlink(path);
            }
            upf_log(UPF_LOG_INFO, "replacing the %s run in %s", unfinished ? "unfinished (no checkpoint)" : "finished",
                    out);
        } else if (!dir_is_empty(out)) {
            /* not a run: refuse rather than mix a run's files into it */
            return upf_err_set(err, UPF_ERR_ARG, "--out %s: exists, is not empty and holds no run; choose another --out",
                               out);
        }
    } else if (upf_cli_mkdirs(out, NULL) != 0) {
        return upf_err_sys(err, UPF_ERR_IO, "--out %s: cannot create the directory", out);
    }
    if (!(run->dir = upf_strdup(out))) return upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
    upf_status st = run_write_marker(run, "running", "the run has not finished", err);
    if (!st) st = run_write_text(run, "config.yaml", upf_config_resolved_yaml(run->loaded), err);
    return st;
}

/* Keeps the header and the first `rows` rows of curves.csv (the rows up to the
 * checkpoint a resumed run continues from). */
static upf_status trim_curves(upf_run *run, int64_t rows, upf_err *err)
{
    char *path = upf_run_path(run, "curves.csv");
    if (!path) return upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
    upf_status st = UPF_OK;
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    if (!f) {
        run->curve_rows = 0;
        goto done;
    }
    size_t cap = 1 << 16, n = 0, got;
    if (!(buf = upf_malloc(cap))) goto nomem;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = upf_realloc(buf, cap * 2);
            if (!nb) goto nomem;
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    f = NULL;
    size_t keep = 0;
    int64_t lines = 0;
    while (keep < n && lines < rows + 1) {
        char *nl = memchr(buf + keep, '\n', n - keep);
        if (!nl) break;
        keep = (size_t)(nl - buf) + 1;
        lines++;
    }
    if (lines < 1) {
        run->curve_rows = 0;
        unlink(path);
    } else {
        run->curve_rows = lines - 1;
        st = upf_write_file_atomic(path, buf, keep, err);
    }
    goto done;
nomem:
    st = upf_err_set(err, UPF_ERR_NOMEM, "curves.csv: out of memory");
done:
    if (f) fclose(f);
    upf_free(buf);
    upf_free(path);
    return st;
}

static upf_status read_ckpt_header(const char *path, int64_t *curve_rows, uint64_t *len, upf_err *err)
{
    unsigned char h[CKPT_HEADER];
    FILE *f = fopen(path, "rb");
    if (!f) return upf_err_sys(err, UPF_ERR_ARG, "%s: no checkpoint", path);
    size_t got = fread(h, 1, sizeof h, f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    if (got != sizeof h || memcmp(h, CKPT_MAGIC, 8) != 0)
        return upf_err_set(err, UPF_ERR_FORMAT, "%s: expected a checkpoint (magic %s), got other bytes", path, CKPT_MAGIC);
    uint64_t rows = 0, n = 0;
    for (int i = 7; i >= 0; i--) rows = rows << 8 | h[8 + i];
    for (int i = 7; i >= 0; i--) n = n << 8 | h[16 + i];
    if (size < 0 || (uint64_t)size != n + CKPT_HEADER)
        return upf_err_set(err, UPF_ERR_CORRUPT, "%s: expected %llu bytes after the header, got %ld", path,
                           (unsigned long long)n, size - CKPT_HEADER);
    *curve_rows = (int64_t)rows;
    *len = n;
    return UPF_OK;
}

upf_status run_prepare_resume_dir(upf_run *run, const char *dir, upf_err *err)
{
    if (!run_file_exists(dir, RUN_MARKER))
        return upf_err_set(err, UPF_ERR_ARG, "--resume %s: no %s marker: the run finished (or this is not a run directory)",
                           dir, RUN_MARKER);
    if (!(run->dir = upf_strdup(dir))) return upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
    run->resuming = 1;
    char status[100], why[600], pid_text[32];
    run_marker_field(dir, "status", status, sizeof status);
    run_marker_field(dir, "reason", why, sizeof why);
    run_marker_field(dir, "pid", pid_text, sizeof pid_text);
    long pid = strtol(pid_text, NULL, 10);
    /* a run still going (on this machine) is not resumed under its feet */
    if (still_going(dir)) return upf_err_set(err, UPF_ERR_ARG, "--resume %s: the run is still going (pid %ld)", dir, pid);
    if (strcmp(status, "running") == 0)
        upf_log(UPF_LOG_WARN, "resuming %s: the previous attempt ended without a word (a crash or a kill)", dir);
    else
        upf_log(UPF_LOG_INFO, "resuming %s: it stopped earlier (%s: %s)", dir, status, why);
    char *ck = upf_run_path(run, RUN_CKPT);
    if (!ck) return upf_err_set(err, UPF_ERR_NOMEM, "out of memory");
    int64_t rows = 0;
    uint64_t len = 0;
    upf_err tmp;
    if (read_ckpt_header(ck, &rows, &len, &tmp) != UPF_OK) {
        rows = 0;
        if (access(ck, F_OK) == 0) upf_log(UPF_LOG_WARN, "%s", tmp.msg);
        upf_log(UPF_LOG_INFO, "no usable checkpoint: the run starts over");
    }
    upf_free(ck);
    run->resume_curve_rows = rows;
    upf_status st = trim_curves(run, rows, err);
    if (!st) st = run_write_marker(run, "running", "the run has not finished", err);
    return st;
}

/* ---- checkpoints ---- */

upf_status upf_run_checkpoint_save(upf_run *run, const void *data, size_t n, upf_err *err)
{
    char *path = upf_run_path(run, RUN_CKPT);
    if (!path) return upf_err_set(err, UPF_ERR_NOMEM, "checkpoint: out of memory");
    upf_outfile o;
    upf_status st = upf_outfile_open(&o, path, err);
    upf_free(path);
    if (st) return st;
    unsigned char h[CKPT_HEADER];
    memcpy(h, CKPT_MAGIC, 8);
    uint64_t rows = (uint64_t)run->curve_rows, len = n;
    for (int i = 0; i < 8; i++) {
        h[8 + i] = (unsigned char)(rows >> (8 * i));
        h[16 + i] = (unsigned char)(len >> (8 * i));
    }
    fwrite(h, 1, sizeof h, o.f);
    if (n) fwrite(data, 1, n, o.f);
    return upf_outfile_commit(&o, err);
}

upf_status upf_run_checkpoint_load(upf_run *run, void **data, size_t *n, upf_err *err)
{
    *data = NULL;
    *n = 0;
    char *path = upf_run_path(run, RUN_CKPT);
    if (!path) return upf_err_set(err, UPF_ERR_NOMEM, "checkpoint: out of memory");
    int64_t rows;
    uint64_t len;
    upf_status st = read_ckpt_header(path, &rows, &len, err);
    FILE *f = NULL;
    void *buf = NULL;
    if (st) goto done;
    if (len > SIZE_MAX - 1 || !(buf = upf_malloc((size_t)len + 1))) {
        st = upf_err_set(err, UPF_ERR_NOMEM, "%s: out of memory (%llu bytes)", path, (unsigned long long)len);
        goto done;
    }
    if (!(f = fopen(path, "rb")) || fseek(f, CKPT_HEADER, SEEK_SET) != 0 ||
        fread(buf, 1, (size_t)len, f) != (size_t)len) {
        st = upf_err_sys(err, UPF_ERR_IO, "%s: read failed", path);
        goto done;
    }
    *data = buf;
    *n = (size_t)len;
    buf = NULL;
done:
    if (f) fclose(f);
    upf_free(buf);
    upf_free(path);
    return st;
}
