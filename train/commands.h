/* commands.h - the sub-commands of `upfunnel`. Each returns the process exit
 * code (see cli.h); argv[0] is the sub-command's own name ("import" for
 * `upfunnel data import`). Each lives beside the module it drives.
 */
#ifndef UPF_COMMANDS_H
#define UPF_COMMANDS_H

int upf_cmd_version(int argc, char **argv);
int upf_cmd_data_import(int argc, char **argv);  /* datasets/cli_import.c */
/* `data import --campaign NAME ...` (main.c sends it here when --campaign is given) */
int upf_cmd_data_import_campaign(int argc, char **argv); /* datasets/cli_import_campaign.c */
int upf_cmd_data_info(int argc, char **argv);    /* datasets/cli_info.c */
int upf_cmd_data_split(int argc, char **argv);   /* datasets/cli_split.c */
int upf_cmd_data_synth(int argc, char **argv);   /* datasets/cli_synth.c */
int upf_cmd_train(int argc, char **argv);        /* train/cli_train.c */
int upf_cmd_sweep(int argc, char **argv);        /* train/cli_sweep.c */
int upf_cmd_eval(int argc, char **argv);         /* eval/cli_eval.c */
int upf_cmd_compare(int argc, char **argv);      /* eval/cli_compare.c */
int upf_cmd_export(int argc, char **argv);       /* model/cli_export.c */
int upf_cmd_inspect(int argc, char **argv);      /* model/cli_inspect.c */
int upf_cmd_score(int argc, char **argv);        /* model/cli_score.c */
int upf_cmd_triggers(int argc, char **argv);             /* train/cli_triggers.c */

#endif
