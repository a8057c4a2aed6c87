/* main.c - the `upfunnel` command: git-style dispatch to sub-commands.
 * Each sub-command lives beside the module it drives and is listed in the
 * table below with a one-line summary; its own --help has the full text. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static int cmd_data(int argc, char **argv);

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    { "data", cmd_data, "import, inspect, split and generate datasets (import, info, split, synth)" },
    { "train", upf_cmd_train, "run an experiment from a YAML config into a run directory" },
    { "sweep", upf_cmd_sweep, "run a grid of experiments and rank them" },
    { "eval", upf_cmd_eval, "score TREC run files against qrels with the ranking metrics" },
    { "compare", upf_cmd_compare, "paired comparison of two runs over users" },
    { "export", upf_cmd_export, "write a run's model as a .upf file (f32, f16 or int8)" },
    { "inspect", upf_cmd_inspect, "show a .upf model file: header, sections, metadata, tensors" },
    { "score", upf_cmd_score, "answer JSON-lines scoring requests with a .upf model" },
    { "triggers", upf_cmd_triggers, "plan and back-test lifecycle messages" },
    { "version", upf_cmd_version, "print the version" },
};

static const command data_commands[] = {
    { "import", upf_cmd_data_import, "import CSV files or a public data set (--preset) into HDF5" },
    { "info", upf_cmd_data_info, "summarize a dataset file" },
    { "split", upf_cmd_data_split, "split a dataset's interactions into train and test" },
    { "synth", upf_cmd_data_synth, "generate a shop's history with planted structure" },
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static int dispatch(const command *table, size_t n, int argc, char **argv)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(argv[0], table[i].name) == 0) return table[i].run(argc, argv);
    return -1;
}

static void list_commands(FILE *f, const command *table, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-10s %s\n", table[i].name, table[i].summary);
}

static int cmd_data(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs("usage: upfunnel data <command> [options]\n\ncommands:\n", argc < 2 ? stderr : stdout);
        list_commands(argc < 2 ? stderr : stdout, data_commands, N_OF(data_commands));
        return argc < 2 ? UPF_EXIT_USAGE : UPF_EXIT_OK;
    }
    /* a campaign import (--campaign) has its own parser: datasets/cli_import_campaign.c */
    if (strcmp(argv[1], "import") == 0)
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--") == 0) break;
            if (strcmp(argv[i], "--campaign") == 0 || strncmp(argv[i], "--campaign=", 11) == 0)
                return upf_cmd_data_import_campaign(argc - 1, argv + 1);
        }
    int rc = dispatch(data_commands, N_OF(data_commands), argc - 1, argv + 1);
    if (rc >= 0) return rc;
    upf_cli_error("'%s' is not an upfunnel data command", argv[1]);
    return UPF_EXIT_USAGE;
}

static void usage(FILE *f)
{
    fputs("usage: upfunnel <command> [options]\n"
          "       upfunnel <command> --help\n"
          "\n"
          "Offline training and evaluation for e-commerce personalization:\n"
          "rankers, lifetime (churn, repurchase) and uplift models, from HDF5\n"
          "event histories to compact .upf model files.\n"
          "\n"
          "commands:\n",
          f);
    list_commands(f, commands, N_OF(commands));
    fputs("\n"
          "exit status: 0 success, 1 runtime failure, 2 usage or config error,\n"
          "3 a quality gate failed.\n",
          f);
}

int upf_cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("upfunnel %s\n", upf_version_string());
    return UPF_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return UPF_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return UPF_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) return upf_cmd_version(argc - 1, argv + 1);
    upf_cli_install_signals();
    upf_cli_setup_log(UPF_LOG_INFO, 0);
    int rc = dispatch(commands, N_OF(commands), argc - 1, argv + 1);
    if (rc >= 0) return rc;
    upf_cli_error("'%s' is not an upfunnel command", argv[1]);
    usage(stderr);
    return UPF_EXIT_USAGE;
}
