# sealtrail build: the map of how everything is made.
#
#   make            build build/sealtraild (agent) and build/sealtrail (offline CLI)
#   make run        build, create keys and a trail under var/ if absent, run the agent
#   make test       build and run every test (unit tests also under ASan/UBSan)
#   make bench      measure sealtrail against baselines taken in the same run
#   make install    install binaries, systemd unit and default configuration
#   make V=1 ...    show the commands
#
# Missing Debian packages are installed on first use (as root), see `deps`.
# Every intermediate lives under $(OUTPUT).

OUTPUT   ?= build
CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PREFIX   ?= /usr/local
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VERSION  := $(shell cat VERSION)

ifeq ($(V),1)
Q   :=
msg :=
else
Q   := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Debian packages the build and the tests need; `deps` installs what is missing.
BUILD_PKGS := gcc make pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
	      libssl-dev libcjson-dev e2fsprogs
TEST_PKGS  := libcmocka-dev python3 util-linux

COMMON_CFLAGS := -std=gnu11 -g -O2 -Wall -Wextra -Werror -Wshadow -Wformat=2 \
		 -Wno-unused-parameter -fno-strict-aliasing -D_GNU_SOURCE \
		 -DSEALTRAIL_VERSION='"$(VERSION)"' -Iinclude -Itools/chain
CFLAGS_EXTRA  ?=
CHAIN_LIBS    := -lcrypto -lz
AGENT_LIBS    := $(CHAIN_LIBS) -lbpf -lelf -lcjson -lpthread
# Tests build paths from paths freely: truncation there is not a risk worth the noise.
TEST_CFLAGS   := -Wno-format-truncation
ASAN_FLAGS    := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -Wno-unused-function -Iinclude -I$(OUTPUT)

CHAIN_SRCS := $(sort $(wildcard tools/chain/*.c))
CLI_SRCS   := $(sort $(wildcard tools/sealtrail/*.c))
AGENT_SRCS := $(sort $(wildcard agent/*.c))
BPF_SRCS   := $(sort $(wildcard bpf/*.bpf.c))
BPF_HDRS   := $(wildcard bpf/*.h) $(wildcard include/sealtrail/*.h)
UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
SYS_SRCS   := $(sort $(wildcard tests/system/test_*.c))
BENCH_SRCS := $(sort $(wildcard tests/bench/bench_*.c))
TLIB_SRCS  := $(sort $(wildcard tests/lib/*.c))

obj = $(patsubst %.c,$(OUTPUT)/$(2)obj/%.o,$(1))

CHAIN_OBJS      := $(call obj,$(CHAIN_SRCS),)
CLI_OBJS        := $(call obj,$(CLI_SRCS),)
AGENT_OBJS      := $(call obj,$(AGENT_SRCS),)
AGENT_LIB_OBJS  := $(filter-out %/main.o,$(AGENT_OBJS))
TLIB_OBJS       := $(call obj,$(TLIB_SRCS),)
ASAN_CHAIN_OBJS := $(call obj,$(CHAIN_SRCS),asan/)
ASAN_CLI_OBJS   := $(call obj,$(CLI_SRCS),asan/)
ASAN_TLIB_OBJS  := $(call obj,$(TLIB_SRCS),asan/)

UNIT_BINS      := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/unit/%,$(UNIT_SRCS))
ASAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/asan/tests/unit/%,$(UNIT_SRCS))
SYS_BINS       := $(patsubst tests/system/%.c,$(OUTPUT)/tests/system/%,$(SYS_SRCS))
BENCH_BINS     := $(patsubst tests/bench/%.c,$(OUTPUT)/bench/%,$(BENCH_SRCS))

SKEL := $(OUTPUT)/sealtrail.skel.h

.PHONY: all run test bench install uninstall clean deps test-deps format
.DELETE_ON_ERROR:
# Keep objects that only pattern rules name (test libraries): no rebuild on every run.
.SECONDARY:

all: $(OUTPUT)/sealtraild $(OUTPUT)/sealtrail

# ---- dependencies ---------------------------------------------------------
# One stamp per package list: checked once, re-checked when this Makefile changes.
define ensure_pkgs
	$(Q)missing=""; for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "sealtrail: missing packages:$$missing"; \
			echo "run as root: apt-get update && apt-get install -y$$missing"; exit 1; \
		fi; \
		echo "sealtrail: installing missing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing \
			>/dev/null || { echo "sealtrail: apt-get install failed"; exit 1; }; \
	fi
	$(Q)mkdir -p $(dir $@) && touch $@
endef

$(OUTPUT)/.deps-build: Makefile
	$(call ensure_pkgs,$(BUILD_PKGS))

$(OUTPUT)/.deps-test: Makefile | $(OUTPUT)/.deps-build
	$(call ensure_pkgs,$(TEST_PKGS))

deps: $(OUTPUT)/.deps-build
test-deps: $(OUTPUT)/.deps-test

# ---- BPF: vmlinux.h -> objects -> linked object -> skeleton ---------------------
# The running kernel's BTF when there is one; otherwise the committed copy, so the
# BPF objects still build on a host without BTF.
$(OUTPUT)/vmlinux.h: | $(OUTPUT)/.deps-build
	$(call msg,GEN,$@)
	$(Q)if [ -r /sys/kernel/btf/vmlinux ]; then \
		$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp; \
	else \
		echo "  no kernel BTF here: using bpf/vmlinux/vmlinux_$(ARCH).h.gz"; \
		gzip -dc bpf/vmlinux/vmlinux_$(ARCH).h.gz > $@.tmp; \
	fi && mv $@.tmp $@

# The bpf/*.bpf.c modules are compiled as one unit, which includes them all: libbpf
# 1.1's static linker (Debian 12's) cannot link an extern kfunc declared by two objects
# ("failed to resolve size of underlying type"), and every module reads kernel objects
# through one (bpf_rdonly_cast, bpf/kread.bpf.h). Generated, so no module is forgotten.
$(OUTPUT)/bpf/sealtrail_unit.bpf.c: $(BPF_SRCS) Makefile
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)printf '#include "%s"\n' $(notdir $(BPF_SRCS)) > $@.tmp && mv $@.tmp $@

$(OUTPUT)/bpf/sealtrail_unit.bpf.o: $(OUTPUT)/bpf/sealtrail_unit.bpf.c $(BPF_SRCS) $(BPF_HDRS) \
				    $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -iquote bpf -c $< -o $@

$(OUTPUT)/sealtrail.bpf.o: $(OUTPUT)/bpf/sealtrail_unit.bpf.o
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(SKEL): $(OUTPUT)/sealtrail.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name sealtrail > $@.tmp && mv $@.tmp $@

# ---- userspace ------------------------------------------------------------
$(OUTPUT)/obj/%.o: %.c | $(OUTPUT)/.deps-build
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(COMMON_CFLAGS) $(CFLAGS_EXTRA) -I$(OUTPUT) -I/usr/include/cjson -MMD -MP -c $< -o $@

$(OUTPUT)/asan/obj/%.o: %.c | $(OUTPUT)/.deps-build
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(COMMON_CFLAGS) $(ASAN_FLAGS) -I$(OUTPUT) -MMD -MP -c $< -o $@

# Agent objects include the skeleton.
$(AGENT_OBJS): $(SKEL)

$(OUTPUT)/libchain.a: $(CHAIN_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUTPUT)/asan/libchain.a: $(ASAN_CHAIN_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The CLI links the chain library and nothing of BPF: it must run on any box.
$(OUTPUT)/sealtrail: $(CLI_OBJS) $(OUTPUT)/libchain.a
	$(call msg,LD,$@)
	$(Q)$(CC) -o $@ $^ $(CHAIN_LIBS)

$(OUTPUT)/asan/sealtrail: $(ASAN_CLI_OBJS) $(OUTPUT)/asan/libchain.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(ASAN_FLAGS) -o $@ $^ $(CHAIN_LIBS)

$(OUTPUT)/sealtraild: $(AGENT_OBJS) $(OUTPUT)/libchain.a
	$(call msg,LD,$@)
	$(Q)$(CC) -o $@ $^ $(AGENT_LIBS)

# ---- tests ----------------------------------------------------------------
$(OUTPUT)/tests/unit/%: tests/unit/%.c $(TLIB_OBJS) $(OUTPUT)/libchain.a | $(OUTPUT)/.deps-test
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(COMMON_CFLAGS) $(TEST_CFLAGS) -Itests/lib -MMD -MP -o $@ $(filter-out %.h,$^) -lcmocka $(CHAIN_LIBS)

$(OUTPUT)/asan/tests/unit/%: tests/unit/%.c $(ASAN_TLIB_OBJS) $(OUTPUT)/asan/libchain.a | $(OUTPUT)/.deps-test
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(COMMON_CFLAGS) $(TEST_CFLAGS) $(ASAN_FLAGS) -Itests/lib -MMD -MP -o $@ $(filter-out %.h,$^) -lcmocka $(CHAIN_LIBS)

# System tests may drive the capture module directly, so they link the agent's
# objects (all but main) as well as the chain library.
$(OUTPUT)/tests/system/%: tests/system/%.c $(TLIB_OBJS) $(AGENT_LIB_OBJS) $(OUTPUT)/libchain.a \
		| $(OUTPUT)/.deps-test
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(COMMON_CFLAGS) $(TEST_CFLAGS) -Itests/lib -Iagent -I$(OUTPUT) -I/usr/include/cjson -MMD -MP -o $@ $(filter-out %.h,$^) \
		-lcmocka $(AGENT_LIBS)

# An LD_PRELOAD shim that makes allocations fail from the Nth on (test_cli), or the Nth
# thread start (test_agent).
$(OUTPUT)/tests/failalloc.so: tests/unit/shim/failalloc.c | $(OUTPUT)/.deps-test
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(COMMON_CFLAGS) -shared -fPIC -o $@ $<

TEST_BINS := $(OUTPUT)/sealtraild $(OUTPUT)/sealtrail $(OUTPUT)/asan/sealtrail \
	     $(OUTPUT)/tests/failalloc.so $(UNIT_BINS) $(ASAN_UNIT_BINS) $(SYS_BINS)

test: $(TEST_BINS)
	$(Q)tests/run $(OUTPUT)

# ---- run, bench, install ---------------------------------------------------
RUN_DIR := var
run: all
	$(Q)mkdir -p $(RUN_DIR)
	$(Q)[ -e $(RUN_DIR)/keys/writer.key ] || $(OUTPUT)/sealtrail keygen $(RUN_DIR)/keys
	$(Q)echo "sealtrail: trail in $(RUN_DIR)/trail, keys in $(RUN_DIR)/keys (Ctrl-C stops)"
	$(Q)exec $(OUTPUT)/sealtraild --dir $(RUN_DIR)/trail --key-dir $(RUN_DIR)/keys $(RUN_ARGS)

# Benchmark programs link the chain library (and nothing of BPF).
$(OUTPUT)/bench/%: tests/bench/%.c $(OUTPUT)/libchain.a | $(OUTPUT)/.deps-build
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(COMMON_CFLAGS) -MMD -MP -o $@ $(filter-out %.h,$^) $(CHAIN_LIBS)

# Prints a table and writes $(OUTPUT)/bench.json; never fails on the numbers.
# Knobs: make bench BENCH_ROUNDS=3 BENCH_SECONDS=2 BENCH_AUDITD=skip (docs/BENCH.md).
bench: all $(BENCH_BINS)
	$(Q)tests/bench/run $(OUTPUT)

# Installed layout; override any of these on the command line.
SBINDIR  ?= $(PREFIX)/sbin
BINDIR   ?= $(PREFIX)/bin
DOCDIR   ?= $(PREFIX)/share/doc/sealtrail
UNITDIR  ?= /etc/systemd/system
CONFDIR  ?= /etc/sealtrail
TRAILDIR ?= /var/log/sealtrail
KEYDIR   ?= /var/lib/sealtrail/keys

install: all
	install -D -m 0755 $(OUTPUT)/sealtraild $(DESTDIR)$(SBINDIR)/sealtraild
	install -D -m 0755 $(OUTPUT)/sealtrail $(DESTDIR)$(BINDIR)/sealtrail
	install -d -m 0755 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(CONFDIR) $(DESTDIR)$(UNITDIR)
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/
	install -d -m 0750 $(DESTDIR)$(TRAILDIR)
	install -d -m 0700 $(DESTDIR)$(KEYDIR)
	[ -e $(DESTDIR)$(CONFDIR)/config.json ] || \
		$(OUTPUT)/sealtraild --print-config > $(DESTDIR)$(CONFDIR)/config.json
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@TRAILDIR@|$(TRAILDIR)|g' \
	    -e 's|@KEYDIR@|$(KEYDIR)|g' -e 's|@CONFDIR@|$(CONFDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
	    agent/sealtraild.service.in > $(DESTDIR)$(UNITDIR)/sealtraild.service
	[ -e $(DESTDIR)$(KEYDIR)/writer.key ] || $(OUTPUT)/sealtrail keygen $(DESTDIR)$(KEYDIR)
	@echo "installed. Move $(KEYDIR)/verify.key off this host (verifiers need it, the"
	@echo "agent does not), then: systemctl daemon-reload && systemctl enable --now sealtraild"

# Removes what install put in place, and the pinned programs; keeps the trail,
# the keys and the configuration (evidence is never deleted by a make target).
uninstall:
	-[ -x $(DESTDIR)$(SBINDIR)/sealtraild ] && \
		$(DESTDIR)$(SBINDIR)/sealtraild --unpin --pin-dir /sys/fs/bpf/sealtrail
	rm -f $(DESTDIR)$(SBINDIR)/sealtraild $(DESTDIR)$(BINDIR)/sealtrail \
	      $(DESTDIR)$(UNITDIR)/sealtraild.service
	rm -rf $(DESTDIR)$(DOCDIR)
	@echo "kept: $(TRAILDIR), $(KEYDIR), $(CONFDIR)"

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

format:
	clang-format -i $(CHAIN_SRCS) $(CLI_SRCS) $(AGENT_SRCS) $(BPF_SRCS) \
		$(wildcard tools/*/*.h agent/*.h bpf/*.h include/sealtrail/*.h tests/*/*.c tests/*/*.h)

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)
