/* commands.h - the sub-commands of `upfunnel`. Each returns the process exit
 * code (see cli.h); argv[0] is the sub-command's own name ("import" for
 * `upfunnel data import`). Each lives beside the module it drives.
 *
 * UPF_CMD marks them weak while modules land in parallel: main.c reports a
 * command whose module is not linked in. */
#ifndef UPF_COMMANDS_H
#define UPF_COMMANDS_H

#define UPF_CMD __attribute__((weak))

int upf_cmd_version(int argc, char **argv);
UPF_CMD int upf_cmd_data_import(int argc, char **argv);  /* datasets/cli_import.c */
/* `data import --campaign NAME ...` (main.c sends it here when --campaign is given) */
UPF_CMD int upf_cmd_data_import_campaign(int argc, char **argv); /* datasets/cli_import_campaign.c */
UPF_CMD int upf_cmd_data_info(int argc, char **argv);    /* datasets/cli_info.c */
UPF_CMD int upf_cmd_data_split(int argc, char **argv);   /* datasets/cli_split.c */
UPF_CMD int upf_cmd_data_synth(int argc, char **argv);   /* datasets/cli_synth.c */
UPF_CMD int upf_cmd_train(int argc, char **argv);        /* train/cli_train.c */
UPF_CMD int upf_cmd_sweep(int argc, char **argv);        /* train/cli_sweep.c */
UPF_CMD int upf_cmd_eval(int argc, char **argv);         /* eval/cli_eval.c */
UPF_CMD int upf_cmd_compare(int argc, char **argv);      /* eval/cli_compare.c */
UPF_CMD int upf_cmd_export(int argc, char **argv);       /* model/cli_export.c */
UPF_CMD int upf_cmd_inspect(int argc, char **argv);      /* model/cli_inspect.c */
UPF_CMD int upf_cmd_score(int argc, char **argv);        /* model/cli_score.c */
UPF_CMD int upf_cmd_triggers(int argc, char **argv);     /* train/cli_triggers.c */

#endif
