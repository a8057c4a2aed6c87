/* commands.h - the sub-commands of `upfunnel`. Each returns the exit code
 * (see cli.h); argv[0] is the sub-command's own name. */
#ifndef UPF_COMMANDS_H
#define UPF_COMMANDS_H

int upf_cmd_version(int argc, char **argv);

#endif
