# upfunnel - one non-recursive Makefile (see README.md "Building").
#
#   make deps          install the Debian packages the build needs (when missing)
#   make               build ./upfunnel and libupfserve (release)
#   make test          deps + build + run every Check suite
#   make san           the suites under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench         performance figures (never run by the tests)
#   make check-data    slower checks against the public data sets in ../shared/data
#   make install       libupfserve, its header and pkg-config file under PREFIX
#
# Sources are found by wildcard and test suites by their `Suite *x_suite(void)`
# definitions, so adding a file needs no edit here.

VARIANT ?= release
VARIANTS := debug release san
ifeq ($(filter $(VARIANT),$(VARIANTS)),)
$(error VARIANT=$(VARIANT) is not one of: $(VARIANTS))
endif

CC ?= cc
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
BUILD := build/$(VARIANT)

# Debian packages: the build needs the first line, benchmarks also the second.
DEB_PKGS := gcc make pkg-config libopenblas-dev libhdf5-dev libyaml-dev check
DEB_BENCH_PKGS := python3 python3-numpy python3-h5py python3-pandas python3-xgboost

NEEDS_DEPS := $(filter-out deps bench-deps clean print-config help install check-runtime-deps check-install fuzz golden,$(or $(MAKECMDGOALS),all))
ifneq ($(NEEDS_DEPS),)
PKGS := hdf5 yaml-0.1 openblas
DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
DEPS_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
ifeq ($(DEPS_LIBS),)
$(error pkg-config finds no hdf5/yaml-0.1/openblas: run 'make deps' first)
endif
endif

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wvla -Wwrite-strings -Wcast-align -Wundef -Wformat=2 -Wdouble-promotion \
        -Wno-format-truncation
ifeq ($(WERROR),1)
WARN += -Werror
endif
# -ffp-contract=off: no fused multiply-add behind our back, so results do not
# depend on the compiler (STYLE.md section 7).
BASE_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -ffp-contract=off -pthread -MMD -MP $(WARN)
ifeq ($(VARIANT),debug)
OPT := -O0 -g
else ifeq ($(VARIANT),release)
OPT := -O2 -g -DNDEBUG
else
OPT := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
ifeq ($(NATIVE),1)
OPT += -march=native
endif
CFLAGS_ALL := $(BASE_CFLAGS) $(OPT) $(CFLAGS)
# One short line per step; V=1 prints the full commands.
ifeq ($(V),1)
say :=
else
say = @printf '  %-5s %s\n' $(1) $(2);
endif
LDFLAGS_ALL := -pthread $(filter -fsanitize=%,$(OPT)) $(LDFLAGS)

# model/ is the serving runtime's folder: libc and libm only, no third-party
# include paths, stricter conversions, position-independent for the .so.
RUNTIME_SRC := $(filter-out model/cli_%.c model/fuzz_%.c model/example.c,$(wildcard model/*.c))
TOOL_SRC := $(wildcard model/cli_*.c datasets/*.c eval/*.c train/*.c)
MAIN_SRC := train/main.c
APP_SRC := $(filter-out $(MAIN_SRC),$(TOOL_SRC))
TEST_SRC := $(wildcard tests/test_*.c) tests/run_tests.c
BENCH_SRC := $(wildcard tests/bench/bench_*.c)

RUNTIME_OBJ := $(RUNTIME_SRC:%.c=$(BUILD)/%.o)
APP_OBJ := $(APP_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(MAIN_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

LIB_A := $(BUILD)/libupfserve.a
LIB_SO := $(BUILD)/libupfserve.so
BIN := $(BUILD)/upfunnel
TEST_BIN := $(BUILD)/run_tests
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

.PHONY: all deps bench-deps test check san run-tests bench bench-build check-data install clean print-config \
        check-headers check-runtime-deps check-install check-format-doc golden fuzz help
.DEFAULT_GOAL := all

all: $(BIN) $(LIB_A) $(LIB_SO) $(if $(filter release,$(VARIANT)),upfunnel)
	$(info upfunnel: $(VARIANT) build in $(BUILD) with $(CC) $(OPT))

upfunnel: $(BIN)
	cp $< $@

$(BUILD)/model/%.o: model/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CFLAGS_ALL) -Wconversion -fPIC -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes $(DEPS_CFLAGS) $(CHECK_CFLAGS) -I$(BUILD)/tests -c $< -o $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CFLAGS_ALL) $(DEPS_CFLAGS) -c $< -o $@

$(LIB_A): $(RUNTIME_OBJ)
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

$(LIB_SO): $(RUNTIME_OBJ)
	$(call say,LD,$@)$(CC) -shared -Wl,-soname,libupfserve.so.0 $(LDFLAGS_ALL) -o $@ $^ -lm

$(BIN): $(MAIN_OBJ) $(APP_OBJ) $(RUNTIME_OBJ)
	$(call say,LD,$@)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(DEPS_LIBS) -lm

# The suite list is generated from the test files, so a new suite needs no registration.
$(BUILD)/tests/suites.inc: $(wildcard tests/test_*.c)
	@mkdir -p $(dir $@)
	@grep -ho '^Suite \*[a-z0-9_]*_suite(void)' $^ | sed 's/^Suite \*\([a-z0-9_]*\)_suite(void)/UPF_SUITE(\1)/' > $@.tmp
	@mv $@.tmp $@

$(BUILD)/tests/run_tests.o: $(BUILD)/tests/suites.inc

$(TEST_BIN): $(TEST_OBJ) $(APP_OBJ) $(RUNTIME_OBJ)
	$(call say,LD,$@)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(DEPS_LIBS) $(CHECK_LIBS) -lm

# Benchmark programs: tests/bench/bench_<name>.c, one executable each.
$(BUILD)/bench/%: $(BUILD)/tests/bench/%.o $(APP_OBJ) $(RUNTIME_OBJ)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(DEPS_LIBS) -lm

# ---- installing what the build needs ----

deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "deps: all present ($(DEB_PKGS))"; exit 0; fi; \
	echo "deps: installing$$missing"; \
	sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$sudo apt-get install -y -q --no-install-recommends $$missing >/dev/null 2>&1 || \
	{ $$sudo apt-get update -q && $$sudo apt-get install -y -q --no-install-recommends $$missing; }

bench-deps: deps
	@missing=""; for p in $(DEB_BENCH_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; export DEBIAN_FRONTEND=noninteractive; \
	$$sudo apt-get install -y -q --no-install-recommends $$missing >/dev/null 2>&1 || \
	{ $$sudo apt-get update -q && $$sudo apt-get install -y -q --no-install-recommends $$missing; }

# ---- tests ----

# `test` re-enters make so pkg-config is asked again after `deps` installed things.
test: deps
	@$(MAKE) --no-print-directory VARIANT=release run-tests check-runtime-deps check-install

san: deps
	@$(MAKE) --no-print-directory VARIANT=san run-tests

check: run-tests

# OPENBLAS_NUM_THREADS=1: tests are deterministic and do not oversubscribe.
# UPF_BIN lets end-to-end tests call the command of the same variant.
run-tests: $(TEST_BIN) $(BIN)
	OPENBLAS_NUM_THREADS=1 UPF_BIN=$(BIN) ASAN_OPTIONS=detect_leaks=1 $(TEST_BIN)

# Benchmarks print figures (and peers' figures from the same run); they never
# assert a time. BENCH=name runs one (tests/bench/bench_<name>.sh).
bench: bench-deps
	@$(MAKE) --no-print-directory VARIANT=release all bench-build
	@tests/bench/run.sh $(BENCH)

bench-build: $(BENCH_BIN)

check-data: deps
	@$(MAKE) --no-print-directory VARIANT=release all $(BUILD)/run_tests
	OPENBLAS_NUM_THREADS=1 UPF_BIN=build/release/upfunnel UPF_CHECK_DATA=1 $(if $(SUITE),CK_RUN_SUITE=$(SUITE)) build/release/run_tests

# Every public header compiles alone.
check-headers:
	@for h in $(wildcard model/*.h datasets/*.h eval/*.h train/*.h); do \
	  printf '#include "%s"\n' "$$h" | $(CC) $(BASE_CFLAGS) $(DEPS_CFLAGS) -I. -x c -fsyntax-only - || exit 1; \
	done; echo "check-headers: ok"

# ---- the serving runtime: dependency check, install, example, fixtures, fuzzing ----

# libupfserve may use libc and libm only: every symbol the archive leaves
# undefined must be exported by libc.so.6 or libm.so.6 (the allowlist is read
# from them), and the shared library may need nothing else.
LIBC_SO = $(shell $(CC) -print-file-name=libc.so.6)
LIBM_SO = $(shell $(CC) -print-file-name=libm.so.6)
check-runtime-deps: $(LIB_A) $(LIB_SO)
	@nm --defined-only -g $(LIB_A) | awk 'NF == 3 { print $$3 }' | sort -u > $(BUILD)/runtime.defined
	@nm -u $(LIB_A) | awk '$$1 == "U" { print $$2 }' | sort -u | comm -23 - $(BUILD)/runtime.defined > $(BUILD)/runtime.external
	@nm -D --defined-only $(LIBC_SO) $(LIBM_SO) | awk 'NF == 3 { sub(/@.*/, "", $$3); print $$3 }' | sort -u > $(BUILD)/runtime.allowed
	@bad=$$(comm -23 $(BUILD)/runtime.external $(BUILD)/runtime.allowed); \
	if [ -n "$$bad" ]; then echo "check-runtime-deps: $(LIB_A) uses symbols outside libc/libm:" $$bad; exit 1; fi
	@bad=$$(readelf -d $(LIB_SO) | awk '/NEEDED/ { gsub(/[][]/, "", $$5); print $$5 }' | grep -vE '^lib(c|m)\.so\.[0-9]+$$' || true); \
	if [ -n "$$bad" ]; then echo "check-runtime-deps: $(LIB_SO) needs" $$bad; exit 1; fi
	@echo "check-runtime-deps: ok: $$(wc -l < $(BUILD)/runtime.external) libc/libm symbols, NEEDED only libc and libm"

UPF_VERSION := $(shell sed -n 's/^const char \*upf_version_string(void) { return "\(.*\)"; }/\1/p' model/base.c)
SERVE_HEADERS := model/upfserve.h model/base.h model/modelfile.h model/kinds.h model/score.h
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include

install: $(LIB_A) $(LIB_SO)
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/upfserve
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libupfserve.a
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libupfserve.so.$(UPF_VERSION)
	ln -sf libupfserve.so.$(UPF_VERSION) $(DESTDIR)$(LIBDIR)/libupfserve.so.0
	ln -sf libupfserve.so.0 $(DESTDIR)$(LIBDIR)/libupfserve.so
	install -m 644 $(SERVE_HEADERS) $(DESTDIR)$(INCLUDEDIR)/upfserve/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(UPF_VERSION)|' model/upfserve.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/upfserve.pc

# Installs into a scratch prefix and builds model/example.c against it with
# pkg-config, shared and static (and as C++ when a C++ compiler exists), then
# runs it on a committed fixture.
check-install: $(LIB_A) $(LIB_SO)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(MAKE) --no-print-directory -s install PREFIX=$$tmp/usr >/dev/null && \
	export PKG_CONFIG_PATH=$$tmp/usr/lib/pkgconfig && \
	$(CC) -std=c11 -Wall -Wextra -Werror model/example.c $$($(PKG_CONFIG) --cflags --libs upfserve) \
	  -Wl,-rpath,$$tmp/usr/lib -o $$tmp/example && \
	$(CC) -std=c11 -static-libgcc model/example.c $$($(PKG_CONFIG) --cflags upfserve) $$tmp/usr/lib/libupfserve.a \
	  $$($(PKG_CONFIG) --libs-only-l --static upfserve | sed 's/-lupfserve//') -o $$tmp/example_static && \
	if command -v c++ >/dev/null 2>&1; then c++ -x c++ -Wall -Werror -c model/example.c $$($(PKG_CONFIG) --cflags upfserve) -o $$tmp/example_cxx.o; fi && \
	$$tmp/example tests/golden/v1_ranker_tiny.upf u0 > $$tmp/out && $$tmp/example_static tests/golden/v1_ranker_tiny.upf u0 > $$tmp/out2 && \
	cmp -s $$tmp/out $$tmp/out2 && grep -q '^1	' $$tmp/out && \
	readelf -d $$tmp/example | grep -q 'libupfserve.so.0' && \
	echo "check-install: ok: example.c builds with pkg-config (shared, static$$(command -v c++ >/dev/null 2>&1 && echo ', C++')) and ranks: $$(head -n 1 $$tmp/out | tr '\t' ' ')" || \
	{ echo "check-install: failed"; exit 1; }

# Regenerates the committed fixtures with the independent Python writers;
# review the diff: fixtures of released versions must never change.
golden:
	python3 tests/golden/make_upf_golden.py tests/golden
	python3 tests/golden/gen_crc32_table.py > model/crc32_table.inc

# The Python reader printed in model/FORMAT.md, against `upfunnel inspect` (dev-only: python3 + numpy).
check-format-doc: all
	/usr/bin/python3 tests/golden/check_format_doc.py ./$(BIN)

# libFuzzer over the model reader and runtime, with ASan and UBSan (clang).
FUZZ_SECONDS ?= 60
FUZZ_BIN := build/fuzz/fuzz_modelfile
fuzz:
	@command -v clang >/dev/null 2>&1 && dpkg -s libclang-rt-14-dev >/dev/null 2>&1 || { \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; export DEBIAN_FRONTEND=noninteractive; \
	  $$sudo apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev >/dev/null 2>&1 || \
	  { $$sudo apt-get update -q && $$sudo apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev; }; }
	@mkdir -p build/fuzz/corpus
	clang -std=c11 -D_POSIX_C_SOURCE=200809L -ffp-contract=off -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all model/fuzz_modelfile.c $(RUNTIME_SRC) -lm -o $(FUZZ_BIN)
	@for f in tests/golden/*.upf; do b=$$(basename $$f .upf); \
	  { printf '\001'; cat $$f; } > build/fuzz/corpus/$$b.raw; { printf '\000'; cat $$f; } > build/fuzz/corpus/$$b.sealed; done
	@$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -print_final_stats=1 -artifact_prefix=build/fuzz/ \
	  build/fuzz/corpus > build/fuzz/log 2>&1; rc=$$?; grep -E '^(Done|stat::|==|SUMMARY)' build/fuzz/log | tail -n 8; \
	  [ $$rc -eq 0 ] && echo "fuzz: no crash in $(FUZZ_SECONDS) s" || { tail -n 40 build/fuzz/log; echo "fuzz: FAILED (inputs in build/fuzz/)"; exit 1; }

print-config:
	@echo "VARIANT=$(VARIANT) CC=$(CC)"; echo "CFLAGS=$(CFLAGS_ALL)"; \
	echo "DEPS_CFLAGS=$(DEPS_CFLAGS)"; echo "DEPS_LIBS=$(DEPS_LIBS)"; echo "CHECK_LIBS=$(CHECK_LIBS)"

clean:
	rm -rf build upfunnel

-include $(wildcard $(BUILD)/*/*.d $(BUILD)/*/*/*.d)
