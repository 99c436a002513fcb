// SPDX-License-Identifier: GPL-2.0
// snapshotctl: the operator's command line for dynsnap volumes.
#include "ctl/cli.h"

int main(int argc, char **argv)
{
	dynsnap::ctl::Env env = dynsnap::ctl::process_env();
	return dynsnap::ctl::run(argc, argv, env);
}
