# Build and install confine. Run as root:
#   make install      build, install the setuid launcher and load its AppArmor profile
#   make check        the whole test suite (unit, host integration, VM suites)
#   make demo         install, then launch the bundled example confined
#   make deb          the Debian package confine-snapd: the launcher as snapd's snap-confine
#   make snapd-demo   Debian's snapd, offline in a VM, running snaps with snapd's
#                     snap-confine, then with ours from the package
LIBEXECDIR ?= /usr/lib/confine
BINDIR ?= /usr/bin
BASH_COMPLETION_DIR ?= /usr/share/bash-completion/completions
# Not /usr/share/man: snapd's package has its own snap-confine(8) there.
MANDIR ?= /usr/local/share/man
APPARMOR_DIR ?= /etc/apparmor.d
PROFILE_FILE := usr.lib.confine.snap-confine
PROFILE := $(APPARMOR_DIR)/$(PROFILE_FILE)
MAN_PAGES := man/snap-confine.8 man/snap-discard-ns.8 man/snap-device-helper.8 man/snap-exec.8 man/snap-update-ns.8 man/confine.8 \
	man/snap-run.1 man/confine-seccomp.1 man/confine-probe.1
CARGO ?= cargo
export CONFINE_LIBEXECDIR := $(LIBEXECDIR)

# Debian packages: the VM (qemu, Debian's kernel with AppArmor, busybox),
# AppArmor's tools, libseccomp for the compiler, Debian's snapd and bwrap to
# compare against, and what the tests use.
DEB_PACKAGES := qemu-system-x86 linux-image-amd64 busybox-static apparmor apparmor-utils \
	libseccomp-dev pkg-config snapd bubblewrap squashfs-tools hyperfine gcc g++ make util-linux strace \
	dbus-user-session bash-completion groff-base python3-dbus python3-gi

.PHONY: deps build examples install uninstall check demo clippy gpu-proof-bundle gpu-proof deb snapd-demo man-check fuzz

deps:
	apt-get update
	INITRD=No DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEB_PACKAGES)
	rustup target add $(MUSL_TRIPLE) || echo "WARNING: cannot add the Rust target $(MUSL_TRIPLE): the launcher will be built against glibc, and start slower"

# The launcher is linked statically: it starts in half the time of a
# dynamically linked one (no loader work on every launch), and the static
# start-up applies the same secure-mode rules (AT_SECURE). So are the probe
# and snap-exec, which run inside base snaps with their own libc, and
# confine-seccomp, which then starts in half the time (libseccomp, which the
# tools link, is then linked statically too).
#
# The launcher and its helpers (the binaries of the confine crate) are built
# against musl where Rust's musl target is installed (`make deps` adds it),
# against glibc otherwise, with a warning. glibc's start-up reads the CPU's
# features and cache sizes with the cpuid instruction, many times; on a
# virtual machine each one traps to the hypervisor (5 us on the machine the
# figures in the README come from), and a static glibc program takes 0.4 ms
# longer to start than one with no libc, a musl one 0.1 ms. The tools link
# libseccomp, which is built for glibc.
HOST_TRIPLE := $(shell rustc -vV | sed -n 's/^host: //p')
STATIC_DIR := target/$(HOST_TRIPLE)/release
MUSL_TRIPLE := $(shell uname -m)-unknown-linux-musl
# Recursive: evaluated when used, after `make deps` added the target.
LAUNCHER_TRIPLE = $(shell rustup target list --installed 2>/dev/null | grep -qx '$(MUSL_TRIPLE)' && echo '$(MUSL_TRIPLE)' || echo '$(HOST_TRIPLE)')
LAUNCHER_DIR = target/$(LAUNCHER_TRIPLE)/release
LAUNCHER_BINS := snap-confine snap-discard-ns snap-device-helper snap-update-ns

build:
	$(CARGO) build --release --workspace --locked
	@[ "$(LAUNCHER_TRIPLE)" = "$(MUSL_TRIPLE)" ] || \
		echo "WARNING: the Rust target $(MUSL_TRIPLE) is not installed (make deps): the launcher is built against glibc"
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build --release --locked -p confine \
		$(addprefix --bin ,$(LAUNCHER_BINS)) --target $(LAUNCHER_TRIPLE)
	LIBSECCOMP_LINK_TYPE=static LIBSECCOMP_LIB_PATH=$$(pkg-config --variable=libdir libseccomp) \
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build --release --locked -p confine-probe -p confine-tools \
		--bin confine-probe --bin snap-exec --bin confine-seccomp --target $(HOST_TRIPLE)

# The example snaps, as squashfs files in target/examples.
EXAMPLES := target/examples
examples: build
	rm -rf $(EXAMPLES) && mkdir -p $(EXAMPLES)
	examples/base/build.sh $(EXAMPLES)/debian12
	for s in hello hello-classic; do \
		cp -a examples/$$s $(EXAMPLES)/$$s && \
		install -D -m 0755 $(STATIC_DIR)/confine-probe $(EXAMPLES)/$$s/bin/hello || exit 1; \
	done
	cp -a examples/gpu-check $(EXAMPLES)/gpu-check && rm -rf $(EXAMPLES)/gpu-check/src && mkdir -p $(EXAMPLES)/gpu-check/bin
	gcc -O2 -Wall -o $(EXAMPLES)/gpu-check/bin/gpu-check examples/gpu-check/src/gpu-check.c -ldl
	# A content provider and a GNOME-shaped snap using it (layouts name the
	# multiarch directory, as snapcraft writes them).
	triplet=$$(gcc -print-multiarch) && \
	cp -a examples/platform $(EXAMPLES)/platform && \
	for d in runtime runtime/usr/lib/$$triplet/webkit2gtk-4.1 runtime/usr/share/libdrm runtime/usr/share/xml/iso-codes \
		share/themes share/icons share/sounds; do \
		mkdir -p $(EXAMPLES)/platform/$$d && echo "platform $$d" >$(EXAMPLES)/platform/$$d/marker || exit 1; \
	done && \
	cp -a examples/gnome-app $(EXAMPLES)/gnome-app && \
	mkdir -p $(EXAMPLES)/gnome-app/gnome-platform $(EXAMPLES)/gnome-app/data-dir/themes \
		$(EXAMPLES)/gnome-app/data-dir/icons $(EXAMPLES)/gnome-app/data-dir/sounds && \
	sed -i "s/@TRIPLET@/$$triplet/g" $(EXAMPLES)/gnome-app/meta/snap.yaml $(EXAMPLES)/gnome-app/bin/report
	# A snap with personal-files plugs; its report runs the probe.
	cp -a examples/personal $(EXAMPLES)/personal && \
	install -D -m 0755 $(STATIC_DIR)/confine-probe $(EXAMPLES)/personal/bin/probe
	for s in debian12 hello hello-classic gpu-check platform gnome-app personal; do \
		mksquashfs $(EXAMPLES)/$$s $(EXAMPLES)/$$s.snap -all-root -noappend -quiet -no-progress || exit 1; \
	done

install: build
	install -d -m 0755 $(LIBEXECDIR)
	install -m 4755 -o root -g root $(LAUNCHER_DIR)/snap-confine $(LIBEXECDIR)/snap-confine
	install -m 0755 -o root -g root $(STATIC_DIR)/confine-probe $(LIBEXECDIR)/confine-probe
	install -m 0755 -o root -g root $(STATIC_DIR)/confine-seccomp $(LIBEXECDIR)/confine-seccomp
	install -m 0755 -o root -g root target/release/confine $(LIBEXECDIR)/confine
	install -m 0755 -o root -g root $(STATIC_DIR)/snap-exec $(LIBEXECDIR)/snap-exec
	install -m 0755 -o root -g root target/release/snap-run $(BINDIR)/snap-run
	ln -sfn $(LIBEXECDIR)/confine $(BINDIR)/confine
	install -m 0755 -o root -g root $(LAUNCHER_DIR)/snap-discard-ns $(LIBEXECDIR)/snap-discard-ns
	install -m 0755 -o root -g root $(LAUNCHER_DIR)/snap-device-helper $(LIBEXECDIR)/snap-device-helper
	install -m 0755 -o root -g root $(LAUNCHER_DIR)/snap-update-ns $(LIBEXECDIR)/snap-update-ns
	install -D -m 0644 packaging/tmpfiles.d/confine.conf /usr/lib/tmpfiles.d/confine.conf
	install -m 0644 -o root -g root packaging/completion/complete.sh packaging/completion/etelpmoc.sh $(LIBEXECDIR)/
	install -D -m 0644 packaging/completion/confine $(BASH_COMPLETION_DIR)/confine
	install -D -m 0644 packaging/completion/snap-run $(BASH_COMPLETION_DIR)/snap-run
	test -d /tmp/snap-private-tmp || install -d -m 0700 -o root -g root /tmp/snap-private-tmp
	test -d /var/lib/snapd/void || install -d -m 0111 -o root -g root /var/lib/snapd/void
	for d in gl gl32 vulkan glvnd; do test -d /var/lib/snapd/lib/$$d || install -d -m 0755 -o root -g root /var/lib/snapd/lib/$$d; done
	install -d -m 0755 $(APPARMOR_DIR)
	for m in $(MAN_PAGES); do \
		s=$${m##*.}; install -d -m 0755 $(MANDIR)/man$$s && gzip -9n < $$m > $(MANDIR)/man$$s/$${m##*/}.gz || exit 1; \
	done
	sed 's|@LIBEXECDIR@|$(LIBEXECDIR)|g; s|@PROFILE_FILE@|$(PROFILE_FILE)|g' apparmor/snap-confine.apparmor > $(PROFILE).tmp
	mv $(PROFILE).tmp $(PROFILE)
	@if [ "$$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then \
		apparmor_parser --replace --write-cache $(PROFILE) && echo "loaded $(PROFILE)"; \
	else \
		echo "AppArmor is not enabled in this kernel: $(PROFILE) installed, not loaded"; \
	fi

uninstall:
	rm -f $(LIBEXECDIR)/snap-confine $(LIBEXECDIR)/confine-probe $(LIBEXECDIR)/confine-seccomp $(LIBEXECDIR)/confine
	rm -f $(LIBEXECDIR)/snap-exec $(BINDIR)/snap-run $(BINDIR)/confine
	rm -f $(LIBEXECDIR)/snap-discard-ns $(LIBEXECDIR)/snap-device-helper $(LIBEXECDIR)/snap-update-ns /usr/lib/tmpfiles.d/confine.conf
	rm -f $(LIBEXECDIR)/complete.sh $(LIBEXECDIR)/etelpmoc.sh $(BASH_COMPLETION_DIR)/confine $(BASH_COMPLETION_DIR)/snap-run
	-rmdir $(LIBEXECDIR)
	rm -f $(PROFILE)
	for m in $(MAN_PAGES); do rm -f $(MANDIR)/man$${m##*.}/$${m##*/}.gz; done

clippy:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

check:
	./integration/run-all

# The fuzz targets (fuzz/README.md), each for FUZZ_SECONDS from its seeds,
# built with libFuzzer's coverage instrumentation by the stable compiler
# (what cargo-fuzz does, without its address sanitizer). CI runs each for 30 s.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := names args settings bin2 mountinfo seccomp_src fstab ldcache denials_parse denials_explain
FUZZ_RUSTFLAGS := --cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
	-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
	-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks
fuzz:
	cd fuzz && RUSTFLAGS="$(FUZZ_RUSTFLAGS)" $(CARGO) build --release --locked --bins --target $(HOST_TRIPLE)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/corpus/$$t fuzz/artifacts/$$t; \
		dict=; [ "$${t#denials}" != "$$t" ] && dict=-dict=fuzz/denials.dict; \
		echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
		fuzz/target/$(HOST_TRIPLE)/release/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $$dict \
			-artifact_prefix=fuzz/artifacts/$$t/ fuzz/corpus/$$t fuzz/seeds/$$t 2>fuzz/artifacts/$$t.log || \
			{ tail -n 40 fuzz/artifacts/$$t.log; echo "# fuzz $$t: FAILED (see fuzz/artifacts/$$t)"; exit 1; }; \
		echo "# fuzz $$t: $$(grep -E '^Done [0-9]+ runs' fuzz/artifacts/$$t.log | tail -n1), no crash"; \
	done

# The proof on real hardware (integration/gpu-proof): the build and the
# example snaps it installs, in one directory that can be copied to a
# machine with an NVIDIA GPU. squashfs-tools come along (from this
# machine, with the libraries they need) for machines that lack them.
GPU_BUNDLE := target/gpu-proof
gpu-proof-bundle: build examples
	rm -rf $(GPU_BUNDLE) && mkdir -p $(GPU_BUNDLE)/bin $(GPU_BUNDLE)/snaps $(GPU_BUNDLE)/tools/lib
	for b in $(LAUNCHER_BINS); do install -m 0755 $(LAUNCHER_DIR)/$$b $(GPU_BUNDLE)/bin/$$b || exit 1; done
	for b in snap-exec confine-seccomp; do install -m 0755 $(STATIC_DIR)/$$b $(GPU_BUNDLE)/bin/$$b || exit 1; done
	install -m 0755 target/release/confine target/release/snap-run $(GPU_BUNDLE)/bin/
	cp $(EXAMPLES)/debian12.snap $(EXAMPLES)/gpu-check.snap $(GPU_BUNDLE)/snaps/
	for b in unsquashfs mksquashfs; do install -m 0755 "$$(command -v $$b)" $(GPU_BUNDLE)/tools/lib/$$b.bin && \
		printf '#!/bin/sh\nd=$$(dirname "$$0")/lib\nLD_LIBRARY_PATH=$$d exec $$d/%s.bin "$$@"\n' $$b >$(GPU_BUNDLE)/tools/$$b && \
		chmod 0755 $(GPU_BUNDLE)/tools/$$b || exit 1; done
	ldd $$(command -v unsquashfs) target/release/confine | awk '$$3 ~ /^\// && $$1 !~ /^(libc|libm|libgcc_s)\./ { print $$3 }' | \
		sort -u | xargs -r -I{} cp -L {} $(GPU_BUNDLE)/tools/lib/
	du -sh $(GPU_BUNDLE)

gpu-proof: gpu-proof-bundle
	integration/gpu-proof $(GPU_BUNDLE)

demo: install examples
	./integration/demo

# The launcher built for /usr/lib/snapd, in a target directory of its own
# (the one of `make install` stays built for $(LIBEXECDIR)), packaged with
# its profile, manual page and the SNAP_REEXEC settings.
SNAPD_TARGET := target/snapd
deb:
	CONFINE_LIBEXECDIR=/usr/lib/snapd CARGO_TARGET_DIR=$(SNAPD_TARGET) RUSTFLAGS="-C target-feature=+crt-static" \
		$(CARGO) build --release --locked -p confine --bin snap-confine --target $(LAUNCHER_TRIPLE)
	packaging/debian/build $(SNAPD_TARGET)/$(LAUNCHER_TRIPLE)/release/snap-confine target/debian

snapd-demo: install examples deb
	./integration/snapd-demo

# Every manual page renders without a warning.
man-check:
	@n=0; for m in $(MAN_PAGES); do \
		w=$$(LC_ALL=C.UTF-8 groff -man -ww -z -K utf8 $$m 2>&1); \
		if [ -n "$$w" ]; then echo "not ok - $$m: $$w"; n=$$((n + 1)); else echo "ok - $$m"; fi; \
	done; echo "# man: $$(( $(words $(MAN_PAGES)) - n )) passed, $$n failed"; [ $$n = 0 ]
