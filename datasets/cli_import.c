/* cli_import.c - `upfunnel data import`: CSV files through the generic
 * mapping, or a public data set through a preset, into an HDF5 dataset.
 *
 * The command parses options, runs the importer into a builder, finishes
 * the dataset, writes it atomically (h5_io.c: temporary name + rename, so a
 * failed or interrupted import leaves no output) and prints a summary.
 * Entry point: upf_cmd_data_import (train/commands.h).
 */
#define _DEFAULT_SOURCE /* strdup-free basename handling, clock_gettime */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../model/json.h"
#include "../train/cli.h"
#include "../train/commands.h"
#include "h5_io.h"
#include "import.h"
#include "presets.h"

#define CMD "data import"

/* The help text in parts: C99 guarantees string literals of 4095 bytes only. */
static const char help_head[] =
    "usage: upfunnel data import --preset NAME INPUT... -o OUT.h5 [options]\n"
    "       upfunnel data import --csv FILE... --user COL --item COL --time COL\n"
    "                            (--type COL [--type-map MAP] | --event-type TYPE)\n"
    "                            [--value COL] [CSV options] -o OUT.h5\n"
    "       upfunnel data import --list-presets\n"
    "\n"
    "Reads a shop's event history from delimited text (CSV, TSV, '|', '::' or\n"
    "whitespace-separated) and writes an upfunnel dataset (HDF5, schema v1: events\n"
    "sorted by user and time, users, items, attributes, campaigns). The output is\n"
    "written under a temporary name and renamed at the end: a failed or interrupted\n"
    "import leaves no file behind. A malformed row stops the import with\n"
    "FILE:LINE:COLUMN: FIELD: expected WHAT, got \"TEXT\", unless --skip-bad-rows.\n"
    "\n"
    "Presets (--preset NAME; INPUT is the data set's folder or its files):\n"
    "%s";

static const char help_generic[] =
    "\n"
    "Generic mapping (columns by header name, or by 1-based number):\n"
    "  --csv FILE...          event files; every argument that is not an option is\n"
    "                         an input file too. Files may order columns differently.\n"
    "  --user COL             user id column (required)\n"
    "  --item COL             item id column (required)\n"
    "  --time COL             time column (required)\n"
    "  --type COL             event type column; its values are type names (view,\n"
    "                         cart, purchase, search, rating, return, tag; any case)\n"
    "                         unless --type-map says otherwise\n"
    "  --type-map MAP         VALUE=TYPE pairs, comma-separated; TYPE is a type name\n"
    "                         or 'skip' (drop the row, counted); '*' matches any\n"
    "                         other value. Example: 'buy=purchase,pv=view,*=skip'\n"
    "  --event-type TYPE      one type for every row (instead of --type)\n"
    "  --value COL            event value column: rating, quantity or revenue as\n"
    "                         the type says (default: 1 for every event)\n"
    "  --time-format F        unix (seconds; default), unix_ms, iso (YYYY-MM-DD\n"
    "                         [HH:MM[:SS[.f]]][Z|+HH:MM]), yyyymmdd, mdy\n"
    "                         (M/D/YYYY H:MM), dd-mon-yyyy, or auto (by shape).\n"
    "                         Times without an offset are UTC.\n"
    "  --id-type T            string (default: any UTF-8 text) or int (base-10\n"
    "                         integers within int64; others are bad rows)\n"
    "  --encoding E           utf8 (default; ids must be valid UTF-8) or latin1\n"
    "                         (ISO-8859-1 ids and attributes, converted to UTF-8)\n"
    ;

static const char help_options[] =
    "\n"
    "CSV options (event and attribute files alike):\n"
    "  --delimiter D          ',' (default), tab, '|', ';', '::', whitespace (runs\n"
    "                         of blanks; leading blanks ignored), or any 1-7 bytes\n"
    "  --no-header            the files have no header row (use column numbers)\n"
    "  --no-quote             '\"' is an ordinary character (default: RFC 4180\n"
    "                         quoting: delimiters, doubled quotes and line breaks\n"
    "                         inside quoted fields)\n"
    "\n"
    "Attribute files (with --csv or a preset):\n"
    "  --item-attrs FILE      a file with one row per item; every item in it is kept\n"
    "                         (catalogue items without events too)\n"
    "  --item-key COL         its item id column (default 1)\n"
    "  --attr-cols SPEC       its attribute columns, comma-separated, each\n"
    "                         COL[:cat|:num|:multi[=SEP]|:text]: cat gives COL=value\n"
    "                         (default), num the number under COL, multi several\n"
    "                         values split by SEP (default '|'), text word tokens\n"
    "                         as token=word. Example: 'genres:multi,price:num'\n"
    "  --user-attrs FILE      the same for users, with --user-key COL (default 1)\n"
    "  --user-attr-cols SPEC  and its attribute columns\n"
    "\n"
    "Other options:\n"
    "  -o, --output OUT.h5    the dataset to write (required; replaced if present;\n"
    "                         missing folders are created)\n"
    "  --skip-bad-rows        count malformed rows, show the first few, go on\n"
    "  --show-bad N           how many skipped rows to show (default 5)\n"
    "  --max-ids N            refuse more than N distinct users or items\n"
    "                         (default and most 2147483647: indices are int32)\n"
    "  --threads N            1, or 2 (default when the machine has 2 CPUs): event\n"
    "                         files are parsed on a second thread while ids are\n"
    "                         interned; the dataset is the same either way\n"
    "  --json                 print the summary as JSON on stdout\n"
    "  -q, --quiet            print no summary\n"
    "  -h, --help             this text\n"
    ;

static const char help_examples[] =
    "\n"
    "Examples:\n"
    "  upfunnel data import --preset movielens100k ../shared/data/movielens-100k/ml-100k -o ml100k.h5\n"
    "  upfunnel data import --preset online-retail ../shared/data/online-retail/by-day -o retail.h5\n"
    "  upfunnel data import --preset cdnow ../shared/data/cdnow/CDNOW_sample.txt -o cdnow.h5\n"
    "  upfunnel data import --csv events.csv --user user_id --item sku --time ts \\\n"
    "      --time-format iso --type action --type-map 'buy=purchase,pv=view,fav=skip' \\\n"
    "      --value amount --item-attrs items.csv --attr-cols 'category,brand,title:text' -o shop.h5\n"
    "  upfunnel data import --csv ratings.dat --delimiter :: --no-header --user 1 --item 2 \\\n"
    "      --value 3 --time 4 --event-type rating --id-type int -o ml1m.h5\n"
    "\n"
    "See datasets/IMPORT.md for what each preset maps where, and its counts.\n"
    "\n"
    "Exit status: 0 imported; 1 bad data, unreadable input or a failed write (no\n"
    "output left); 2 usage error (unknown option, preset or column).\n";

static void print_help(FILE *f)
{
    char presets[2048];
    size_t off = 0, n;
    const upf_preset *p = upf_preset_list(&n);
    for (size_t i = 0; i < n && off < sizeof presets; i++) {
        int k = snprintf(presets + off, sizeof presets - off, "  %-17s %s\n  %-17s INPUT: %s\n", p[i].name,
                         p[i].summary, "", p[i].inputs);
        if (k < 0) break;
        off += (size_t)k;
    }
    fprintf(f, help_head, presets);
    fputs(help_generic, f);
    fputs(help_options, f);
    fputs(help_examples, f);
}

typedef struct import_args {
    const char *preset;
    const char **inputs;
    size_t n_inputs;
    const char *output;
    int generic;
    const char *user, *item, *time, *type, *type_map, *event_type, *value;
    const char *time_format, *id_type, *encoding, *delimiter;
    int no_header, no_quote, skip_bad, json, quiet, list_presets;
    const char *show_bad, *max_ids, *threads;
    const char *item_attrs, *item_key, *attr_cols;
    const char *user_attrs, *user_key, *user_attr_cols;
} import_args;

/* Returns -1 on success, else the exit code. */
static int parse_args(int argc, char **argv, import_args *a)
{
    memset(a, 0, sizeof *a);
    a->inputs = upf_calloc((size_t)argc + 1, sizeof *a->inputs);
    if (!a->inputs) {
        upf_cli_error("out of memory");
        return UPF_EXIT_FAIL;
    }
    struct {
        const char *name;
        const char **dst;
    } vals[] = {
        { "--preset", &a->preset },         { "--output", &a->output },       { "-o", &a->output },
        { "--user", &a->user },             { "--item", &a->item },           { "--time", &a->time },
        { "--type", &a->type },             { "--type-map", &a->type_map },   { "--event-type", &a->event_type },
        { "--value", &a->value },           { "--time-format", &a->time_format }, { "--id-type", &a->id_type },
        { "--encoding", &a->encoding },     { "--delimiter", &a->delimiter }, { "--show-bad", &a->show_bad },
        { "--max-ids", &a->max_ids },       { "--item-attrs", &a->item_attrs }, { "--item-key", &a->item_key },
        { "--attr-cols", &a->attr_cols },   { "--user-attrs", &a->user_attrs }, { "--user-key", &a->user_key },
        { "--user-attr-cols", &a->user_attr_cols }, { "--threads", &a->threads },
    };
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--csv")) {
            a->generic = 1;
            continue;
        }
        if (!strcmp(s, "--no-header")) { a->no_header = 1; continue; }
        if (!strcmp(s, "--no-quote")) { a->no_quote = 1; continue; }
        if (!strcmp(s, "--skip-bad-rows")) { a->skip_bad = 1; continue; }
        if (!strcmp(s, "--json")) { a->json = 1; continue; }
        if (!strcmp(s, "--quiet") || !strcmp(s, "-q")) { a->quiet = 1; continue; }
        if (!strcmp(s, "--list-presets")) { a->list_presets = 1; continue; }
        if (!strcmp(s, "--")) {
            for (i++; i < argc; i++) a->inputs[a->n_inputs++] = argv[i];
            break;
        }
        int matched = 0;
        for (size_t k = 0; k < sizeof vals / sizeof vals[0] && !matched; k++) {
            int rc = upf_arg_value(argc, argv, &i, CMD, vals[k].name, vals[k].dst);
            if (rc < 0) return UPF_EXIT_USAGE;
            matched = rc;
        }
        if (matched) continue;
        if (s[0] == '-' && s[1] != '\0') return upf_cli_usage_error(CMD, "unknown option '%s'", s);
        a->inputs[a->n_inputs++] = s;
    }
    return -1;
}

/* The output's folder must be writable; missing folders are created (the
 * example configs write to data/, which a fresh clone does not have). */
static int check_output_dir(const char *out)
{
    const char *base = upf_path_base(out);
    if (!*base) return upf_cli_usage_error(CMD, "-o %s: expected a file name, got a folder", out);
    size_t dl = (size_t)(base - out);
    char dir[4096];
    if (dl >= sizeof dir) return upf_cli_usage_error(CMD, "-o: the path is too long");
    if (dl == 0) snprintf(dir, sizeof dir, ".");
    else snprintf(dir, sizeof dir, "%.*s", (int)dl, out);
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        size_t bad = 0;
        if (upf_cli_mkdirs(dir, &bad) != 0) {
            upf_cli_error("-o %s: cannot create the folder %.*s: %s", out, (int)bad, dir, strerror(errno));
            return UPF_EXIT_FAIL;
        }
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        upf_cli_error("-o %s: %s is not a folder", out, dir);
        return UPF_EXIT_FAIL;
    }
    if (access(dir, W_OK) != 0) {
        upf_cli_error("-o %s: cannot write in %s: %s", out, dir, strerror(errno));
        return UPF_EXIT_FAIL;
    }
    if (stat(out, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        upf_cli_error("-o %s: is a folder", out);
        return UPF_EXIT_USAGE;
    }
    return -1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A progress line on a terminal (nothing in CI logs). */
static void show_progress(uint64_t rows, void *user)
{
    fprintf(stderr, "\rupfunnel: read %.1fM rows in %.1f s ", (double)rows / 1e6, now_s() - *(double *)user);
}

/* Builds the generic event mapping; returns -1 or an exit code. */
static int generic_mapping(const import_args *a, const upf_csv_opts *csv, upf_event_mapping *m, upf_err *err)
{
    memset(m, 0, sizeof *m);
    m->csv = *csv;
    if (!a->user || !a->item || !a->time)
        return upf_cli_usage_error(CMD, "--csv needs --user COL, --item COL and --time COL");
    if (!a->type == !a->event_type)
        return upf_cli_usage_error(CMD, "--csv needs either --type COL (the event type column) or --event-type TYPE");
    if (a->type_map && !a->type) return upf_cli_usage_error(CMD, "--type-map needs --type COL");
    m->user_col = a->user;
    m->item_col = a->item;
    m->time_col = a->time;
    m->type_col = a->type;
    m->value_col = a->value;
    if (a->event_type) {
        m->event_type = upf_event_type_from_name(a->event_type);
        if (!m->event_type)
            return upf_cli_usage_error(CMD, "--event-type: expected view, cart, purchase, search, rating, return or tag, got \"%s\"",
                                       a->event_type);
    }
    if (a->type_map && upf_type_map_parse(a->type_map, &m->type_map, &m->n_type_map, err))
        return upf_cli_usage_error(CMD, "%s", err->msg);
    int tf = UPF_TIME_UNIX;
    if (a->time_format && (tf = upf_time_format_from_name(a->time_format)) < 0)
        return upf_cli_usage_error(CMD, "--time-format: expected unix, unix_ms, iso, yyyymmdd, mdy, dd-mon-yyyy or auto, got \"%s\"",
                                   a->time_format);
    m->time_fmt = (upf_time_format)tf;
    upf_id_kind k = UPF_ID_STRING;
    if (a->id_type && !strcmp(a->id_type, "int")) k = UPF_ID_INT;
    else if (a->id_type && strcmp(a->id_type, "string"))
        return upf_cli_usage_error(CMD, "--id-type: expected string or int, got \"%s\"", a->id_type);
    if (a->encoding && !strcmp(a->encoding, "latin1") && k == UPF_ID_STRING) k = UPF_ID_LATIN1;
    m->user_kind = m->item_kind = k;
    return -1;
}

static upf_status run_attrs(upf_import *im, const import_args *a, const upf_csv_opts *csv, int is_item, upf_err *err)
{
    const char *file = is_item ? a->item_attrs : a->user_attrs;
    const char *spec = is_item ? a->attr_cols : a->user_attr_cols;
    upf_attr_mapping am;
    memset(&am, 0, sizeof am);
    am.csv = *csv;
    am.key_col = (is_item ? a->item_key : a->user_key) ? (is_item ? a->item_key : a->user_key) : "1";
    am.is_item = is_item;
    am.latin1 = a->encoding && !strcmp(a->encoding, "latin1");
    am.key_kind = a->id_type && !strcmp(a->id_type, "int") ? UPF_ID_INT : am.latin1 ? UPF_ID_LATIN1 : UPF_ID_STRING;
    upf_status st = upf_attr_cols_parse(spec, &am.cols, &am.n_cols, err);
    if (st) return st;
    st = upf_import_attrs_csv(im, file, &am, err);
    upf_attr_cols_free(am.cols, am.n_cols);
    return st;
}

static void print_summary(const import_args *a, const upf_import *im, const upf_dataset *ds, double t_read,
                          double t_finish, double t_write)
{
    const upf_import_stats *s = &im->st;
    double total = t_read + t_finish + t_write, rate = total > 0 ? (double)s->rows / total : 0;
    if (a->json) {
        upf_json_writer w;
        upf_jw_init(&w, stdout, 1);
        upf_jw_object(&w, NULL);
        upf_jw_str(&w, "output", a->output);
        upf_jw_int(&w, "rows", (int64_t)s->rows);
        upf_jw_int(&w, "bytes", (int64_t)s->bytes);
        upf_jw_int(&w, "files", (int64_t)s->n_files);
        upf_jw_int(&w, "users", (int64_t)ds->n_users);
        upf_jw_int(&w, "items", (int64_t)ds->n_items);
        upf_jw_int(&w, "events", ds->n_events);
        upf_jw_object(&w, "events_by_type");
        for (int t = 1; t < UPF_EV_TYPE_COUNT; t++)
            if (s->events_by_type[t]) upf_jw_int(&w, upf_event_type_name(t), (int64_t)s->events_by_type[t]);
        upf_jw_end(&w);
        upf_jw_int(&w, "item_events", (int64_t)ds->item_events.n);
        upf_jw_int(&w, "campaign_rows", (int64_t)s->campaign_rows);
        upf_jw_int(&w, "impressions", (int64_t)ds->impressions.n);
        upf_jw_int(&w, "skipped", (int64_t)s->skipped);
        upf_jw_object(&w, "skipped_by_reason");
        for (size_t i = 0; i < s->n_reasons; i++) upf_jw_int(&w, s->reason[i], (int64_t)s->reason_count[i]);
        upf_jw_end(&w);
        upf_jw_num(&w, "seconds_read", t_read);
        upf_jw_num(&w, "seconds_finish", t_finish);
        upf_jw_num(&w, "seconds_write", t_write);
        upf_jw_num(&w, "seconds_total", total);
        struct timespec cpu;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
        upf_jw_num(&w, "cpu_seconds", (double)cpu.tv_sec + 1e-9 * (double)cpu.tv_nsec);
        upf_jw_num(&w, "rows_per_second", rate);
        upf_jw_end(&w);
        upf_jw_finish(&w);
        return;
    }
    printf("wrote %s\n", a->output);
    printf("  rows read     %llu (%zu file%s, %.1f MB)\n", (unsigned long long)s->rows, s->n_files,
           s->n_files == 1 ? "" : "s", (double)s->bytes / 1e6);
    printf("  events        %lld", (long long)ds->n_events);
    const char *sep = " (";
    for (int t = 1; t < UPF_EV_TYPE_COUNT; t++)
        if (s->events_by_type[t]) {
            printf("%s%s %llu", sep, upf_event_type_name(t), (unsigned long long)s->events_by_type[t]);
            sep = ", ";
        }
    printf("%s\n", *sep == ',' ? ")" : "");
    printf("  users         %zu\n  items         %zu\n", ds->n_users, ds->n_items);
    if (ds->item_events.n) printf("  item events   %zu\n", ds->item_events.n);
    for (size_t c = 0; c < ds->n_campaigns; c++)
        printf("  campaign      %s: %zu rows, %zu arms\n", ds->campaigns[c].name, ds->campaigns[c].n,
               ds->campaigns[c].arm_names.n);
    if (ds->impressions.n)
        printf("  impressions   %zu (policy %s)\n", ds->impressions.n, ds->impressions.policy ? ds->impressions.policy : "?");
    printf("  skipped rows  %llu", (unsigned long long)s->skipped);
    sep = " (";
    for (size_t i = 0; i < s->n_reasons; i++) {
        printf("%s%s %llu", sep, s->reason[i], (unsigned long long)s->reason_count[i]);
        sep = ", ";
    }
    printf("%s\n", *sep == ',' ? ")" : "");
    printf("  time          %.2f s (read %.2f s, sort and check %.2f s, write %.2f s), %.0f rows/s\n", total, t_read,
           t_finish, t_write, rate);
}

int upf_cmd_data_import(int argc, char **argv)
{
    if (upf_arg_wants_help(argc, argv)) {
        print_help(stdout);
        return UPF_EXIT_OK;
    }
    import_args a;
    int rc = parse_args(argc, argv, &a);
    upf_builder *b = NULL;
    upf_dataset *ds = NULL;
    upf_import im;
    upf_event_mapping em;
    memset(&im, 0, sizeof im);
    memset(&em, 0, sizeof em);
    upf_err err;
    upf_err_clear(&err);
    upf_status st = UPF_OK;
    if (rc >= 0) goto out;
    if (a.list_presets) {
        size_t n;
        const upf_preset *p = upf_preset_list(&n);
        for (size_t i = 0; i < n; i++) printf("%-17s %s\n", p[i].name, p[i].summary);
        rc = UPF_EXIT_OK;
        goto out;
    }
    const upf_preset *preset = NULL;
    if (a.preset && a.generic) {
        rc = upf_cli_usage_error(CMD, "--preset and --csv do not go together");
        goto out;
    }
    if (!a.preset && !a.generic) {
        rc = upf_cli_usage_error(CMD, "say what to import: --preset NAME INPUT... or --csv FILE... (presets: %s)",
                                 upf_preset_names());
        goto out;
    }
    if (a.preset && !(preset = upf_preset_find(a.preset))) {
        rc = upf_cli_usage_error(CMD, "--preset: no preset \"%s\" (known: %s)", a.preset, upf_preset_names());
        goto out;
    }
    if (a.n_inputs == 0) {
        rc = upf_cli_usage_error(CMD, "no input: give %s", preset ? preset->inputs : "the CSV files after --csv");
        goto out;
    }
    if (!a.output) {
        rc = upf_cli_usage_error(CMD, "no output: give -o OUT.h5");
        goto out;
    }
    if (!!a.item_attrs != !!a.attr_cols || !!a.user_attrs != !!a.user_attr_cols) {
        rc = upf_cli_usage_error(CMD, "--item-attrs goes with --attr-cols, --user-attrs with --user-attr-cols");
        goto out;
    }
    upf_csv_opts csv = upf_csv_opts_default();
    if (a.delimiter && upf_csv_set_delim(&csv, a.delimiter, &err)) {
        rc = upf_cli_usage_error(CMD, "%s", err.msg);
        goto out;
    }
    if (a.no_header) csv.header = 0;
    if (a.no_quote) csv.quote = 0;
    if (a.encoding && strcmp(a.encoding, "utf8") && strcmp(a.encoding, "latin1")) {
        rc = upf_cli_usage_error(CMD, "--encoding: expected utf8 or latin1, got \"%s\"", a.encoding);
        goto out;
    }
    upf_import_opts io = upf_import_opts_default();
    io.skip_bad_rows = a.skip_bad;
    if (a.show_bad) {
        uint64_t v;
        if (upf_parse_u64(a.show_bad, &v)) {
            rc = upf_cli_usage_error(CMD, "--show-bad: expected a count, got \"%s\"", a.show_bad);
            goto out;
        }
        io.show_bad = (size_t)v;
    }
    if (a.max_ids) {
        uint64_t v;
        if (upf_parse_u64(a.max_ids, &v) || v == 0 || v > INT32_MAX) {
            rc = upf_cli_usage_error(CMD, "--max-ids: expected 1 to 2147483647, got \"%s\"", a.max_ids);
            goto out;
        }
        io.max_ids = (size_t)v;
    }
    io.threads = sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;
    if (a.threads) {
        uint64_t v;
        if (upf_parse_u64(a.threads, &v) || v < 1 || v > 2) {
            rc = upf_cli_usage_error(CMD, "--threads: expected 1 or 2, got \"%s\"", a.threads);
            goto out;
        }
        io.threads = (int)v;
    }
    if (a.generic && (rc = generic_mapping(&a, &csv, &em, &err)) >= 0) goto out;
    if ((rc = check_output_dir(a.output)) >= 0) goto out;
    rc = UPF_EXIT_FAIL;

    double t0 = now_s();
    int progress = !a.quiet && upf_cli_is_tty();
    if (progress) {
        io.progress = show_progress;
        io.progress_user = &t0;
    }
    if ((st = upf_builder_create(&b, &err))) goto fail;
    char source[1024];
    size_t off = (size_t)snprintf(source, sizeof source, "upfunnel data import");
    for (int i = 1; i < argc && off < sizeof source; i++)
        off += (size_t)snprintf(source + off, sizeof source - off, " %s", argv[i]);
    upf_builder_set_source(b, source);
    upf_import_init(&im, b, &io);
    if (preset) {
        st = preset->run(&im, a.inputs, a.n_inputs, &err);
    } else {
        for (size_t i = 0; i < a.n_inputs && !st; i++) st = upf_import_events_csv(&im, a.inputs[i], &em, &err);
    }
    if (progress && im.st.rows >= (1u << 20)) fputs("\r\033[K", stderr);
    if (!st && a.item_attrs) st = run_attrs(&im, &a, &csv, 1, &err);
    if (!st && a.user_attrs) st = run_attrs(&im, &a, &csv, 0, &err);
    if (st) goto fail;
    if (upf_builder_n_users(b) == 0 && upf_builder_n_items(b) == 0) {
        st = upf_err_set(&err, UPF_ERR_DATA, "nothing to import: no users or items in the input%s",
                         im.st.skipped ? " (every row was skipped)" : "");
        goto fail;
    }
    double t1 = now_s();
    st = upf_builder_finish(b, &ds, &err);
    b = NULL;
    if (st) goto fail;
    if ((st = upf_import_poll(&im, &err))) goto fail;
    double t2 = now_s();
    if ((st = upf_dataset_write(ds, a.output, &err))) goto fail;
    double t3 = now_s();
    if (!a.quiet) print_summary(&a, &im, ds, t1 - t0, t2 - t1, t3 - t2);
    rc = UPF_EXIT_OK;
    goto out;
fail:
    rc = upf_cli_fail(&err);
    if (st == UPF_ERR_FORMAT && !a.skip_bad)
        fprintf(stderr, "upfunnel: nothing written; --skip-bad-rows counts such rows and goes on\n");
out:
    upf_builder_free(b);
    upf_dataset_free(ds);
    upf_import_release(&im);
    upf_type_map_free(em.type_map, em.n_type_map);
    upf_free(a.inputs);
    return rc;
}
