# NetraDrive build. `make` builds build/netradrive (+ build/fake-telegram),
# `make run` installs what is missing, builds and serves on the defaults,
# `make test` installs, builds and runs the unit and black-box suites.
# `make SANITIZE=1` builds with AddressSanitizer + UndefinedBehaviorSanitizer
# into build-san/ so both builds can coexist.

CC      ?= cc
PKGS    := libmicrohttpd jansson libsodium openssl libcurl sqlite3 libpq libxxhash
SANITIZE ?=
ifeq ($(SANITIZE),)
BUILD   ?= build
OPT     ?= -O2
else
BUILD   ?= build-san
OPT     ?= -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
endif

# Debian packages the build, tests and benchmarks need.
DEB_PKGS := build-essential pkg-config libmicrohttpd-dev libwslay-dev libjansson-dev \
  libsodium-dev libssl-dev libcurl4-openssl-dev libsqlite3-dev libpq-dev libmagic-dev libxxhash-dev \
  libcmocka-dev python3-pytest python3-requests python3-websocket

CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS += $(if $(SANITIZE),-fsanitize=address$(comma)undefined)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lwslay -lmagic -lpthread -lm
comma   := ,

SRC     := $(shell find src -name '*.c' | sort)
MIGRATIONS := $(sort $(wildcard src/db/migrations/*.sql))
OBJ     := $(SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/migrations.o
LIB_OBJ := $(filter-out $(BUILD)/src/main.o,$(OBJ))
FAKE_SRC := $(wildcard tests/fake-telegram/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps run test unit api clean

all: $(BUILD)/netradrive $(if $(FAKE_SRC),$(BUILD)/fake-telegram)

$(BUILD)/netradrive: $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fake-telegram: $(FAKE_SRC) $(wildcard tests/fake-telegram/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/fake-telegram $(LDFLAGS) -o $@ $(FAKE_SRC) $(LDLIBS)

$(BUILD)/gen/migrations.c: $(MIGRATIONS) tools/gen-migrations.sh
	@mkdir -p $(@D)
	sh tools/gen-migrations.sh $(MIGRATIONS) > $@

$(BUILD)/gen/migrations.o: $(BUILD)/gen/migrations.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# Unit tests may #include the .c under test; they link against every other object.
$(BUILD)/tests/test_%: tests/unit/test_%.c tests/unit/testdb.h $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS) -lcmocka -Wl,--allow-multiple-definition

-include $(OBJ:.o=.d)

deps:
	@sh tools/deps.sh $(DEB_PKGS)

run: deps
	@$(MAKE) --no-print-directory all
	./$(BUILD)/netradrive serve

unit: $(UNIT_BIN)
	@sh tools/run-unit.sh $(UNIT_BIN)

api: all
	@NETRADRIVE_BIN=$(abspath $(BUILD)/netradrive) FAKE_TELEGRAM_BIN=$(abspath $(BUILD)/fake-telegram) \
	  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/api $(PYTEST_ARGS)

test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@sh tools/test.sh $(BUILD) $(PYTEST_ARGS)

clean:
	rm -rf build build-san
