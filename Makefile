# SPDX-License-Identifier: GPL-2.0
# Thin wrapper around kbuild: `make`, `make KVER=6.12.0-1-amd64`,
# `make KDIR=/path/to/kernel/build`,
# `make install` (as root), `make clean`. Userspace is built with CMake.
KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=updates modules_install
	depmod -a $(KVER)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

.PHONY: all modules install clean
