/* The sub-commands of `cnnk`, one file each in tools/. Each returns the
 * process exit status: 0 success, 1 a check failed, 2 bad input. */
#ifndef CNNK_TOOLS_COMMANDS_H
#define CNNK_TOOLS_COMMANDS_H

int cnnk_cmd_nets(int argc, char **argv); /* tools/cmd_nets.c */
int cnnk_cmd_run(int argc, char **argv);  /* tools/cmd_run.c */
int cnnk_cmd_tune(int argc, char **argv); /* tools/cmd_tune.c */

#endif
