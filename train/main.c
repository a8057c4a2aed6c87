/* main.c - the `upfunnel` command: git-style dispatch to sub-commands.
 * Each sub-command lives beside the module it drives and is listed in the
 * table below with a one-line summary; its own --help has the full text. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    { "version", upf_cmd_version, "print the version" },
};

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
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
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
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            upf_cli_install_signals();
            upf_cli_setup_log(UPF_LOG_INFO, 0);
            return commands[i].run(argc - 1, argv + 1);
        }
    upf_cli_error("'%s' is not an upfunnel command", argv[1]);
    usage(stderr);
    return UPF_EXIT_USAGE;
}
