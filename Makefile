# kheal: top-level build. `make` builds the module and the agent;
# `make demo` and `make check` are the two commands README.md documents.

KVER ?= $(shell scripts/kver)
ifneq ($(wildcard /lib/modules/$(shell uname -r)/build),)
KDIR ?= /lib/modules/$(shell uname -r)/build
else
KDIR ?= /usr/src/linux-headers-$(KVER)
endif

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc

.PHONY: install golden all kmod bpf agent deps demo check unit checkpatch spec vm vm-bpf bench clean

all: kmod agent

kmod:
	@if [ "$(KDIR)" != "/lib/modules/$$(uname -r)/build" ]; then \
		echo "kmod: the running kernel ($$(uname -r)) has no build tree;" \
		     "building against $(KDIR)"; fi
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod modules

bpf:
	$(MAKE) -C bpf

agent: bpf
	$(MAKE) -C agent

deps:
	scripts/deps

# The agent and the shipped runbooks, as kheald expects them on a host:
# runbooks root-owned and not group- or world-writable, the control socket
# readable by group kheal. The module is loaded by hand (README.md).
install: agent
	install -D -m 0755 agent/kheald $(DESTDIR)$(SBINDIR)/kheald
	install -D -m 0755 agent/khealctl $(DESTDIR)$(SBINDIR)/khealctl
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/kheal/runbooks.d
	install -m 0644 runbooks/*.yaml $(DESTDIR)$(SYSCONFDIR)/kheal/runbooks.d/
	install -d -m 0750 $(DESTDIR)/var/lib/kheal
	if [ -z "$(DESTDIR)" ] && ! getent group kheal >/dev/null; then \
		groupadd --system kheal; fi

demo: deps all
	scripts/vm-test --demo tests/vm/demo.sh

check: deps all
	$(MAKE) unit
	$(MAKE) -C tests/bpf check
	$(MAKE) spec
	$(MAKE) checkpatch
	$(MAKE) vm

unit:
	scripts/vm-test --selftest=parse
	$(MAKE) -C agent check
	$(MAKE) golden

# The recorded journals replayed: the same decisions, every time.
golden: all
	tests/golden/run

spec:
	$(MAKE) -C tests/spec check

checkpatch:
	scripts/checkpatch $(filter-out %.mod.c,$(wildcard kmod/*.c)) kmod/*.h kmod/Kbuild include/uapi/linux/kheal.h

# 09_bpf_probes.sh stages the programs of tests/bpf.
vm: all
	$(MAKE) -C tests/bpf all
	scripts/vm-test tests/vm/[0-9]*.sh

# The BPF probe suite alone, on the Debian kernel.
vm-bpf: all
	$(MAKE) -C tests/bpf all
	scripts/vm-test tests/vm/09_bpf_probes.sh

bench: deps all
	scripts/vm-test --bench tests/vm/bench.sh
	bpf/bench.sh -r 5
	scripts/scenario-timing

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod clean 2>/dev/null || true
	$(MAKE) -C agent clean
	rm -rf build
