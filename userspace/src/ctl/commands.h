// SPDX-License-Identifier: GPL-2.0
// The commands of snapshotctl: their arguments (declared on a CLI11 app)
// and what each does once the command line is parsed.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ctl/cli.h"

namespace CLI {
class App;
}

namespace dynsnap::ctl {

class Commands {
public:
	explicit Commands(Env &env) : env_(env) {}
	void add_to(CLI::App &app);
	// Run the command the parse selected; throws Error.
	int execute();

private:
	void add_snapshot_commands(CLI::App &app);
	void add_volume_commands(CLI::App &app);
	void add_data_commands(CLI::App &app);

	int create();
	int list();
	int show();
	int remove();
	int view();
	int unview();
	int rollback();
	int diff();
	int status();
	int map();
	int setup();
	int teardown();
	int activate(bool up);
	int schedule();
	int export_image();
	int apply();
	int check(bool dump);

	bool confirm(const std::string &question);
	std::ostream &out() { return *env_.out; }

	Env &env_;
	std::function<int()> action_;

	// Options of the selected command.
	std::string volume_, snap_, snap2_, name_, file_, since_, svg_;
	std::vector<std::string> snaps_, volumes_, devices_, keep_;
	std::string origin_, fast_, slow_, block_size_ = "64K", sub_block_size_, region_size_;
	std::string granularity_, on_full_, prefix_, freeze_;
	bool json_ = false, yes_ = false, all_ = false, no_wait_ = false, coarse_ = false;
	bool no_safety_ = false, forget_ = false, no_save_ = false, dry_run_ = false;
	bool force_ = false, records_ = false, overwrite_ = false, no_create_ = false;
	int width_ = 0;
};

} // namespace dynsnap::ctl
