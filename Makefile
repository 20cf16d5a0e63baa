# NetraDrive build. `make` builds build/netradrive (+ build/fake-telegram),
# `make run` installs what is missing, builds and serves on the defaults,
# `make test` installs, builds and runs the unit and black-box suites.
# `make SANITIZE=1` builds with AddressSanitizer + UndefinedBehaviorSanitizer
# (and the SQLite driver's debug guard, NETRA_DB_GUARD) into build-san/ so
# both builds can coexist.

CC      ?= cc
# What the code links against (libcrypto: SHA-256 and HMAC; nothing uses
# libssl itself, libcurl brings its own TLS; libutf8proc: NFC of names).
# libmagic and libwslay (WebSocket framing) ship no pkg-config file.
PKGS    := jansson libsodium libcrypto libcurl sqlite3 libpq libxxhash libutf8proc expat
# The fake Telegram server (a test tool) needs less, but still libmicrohttpd.
FAKE_PKGS := libmicrohttpd jansson libsodium libcrypto
SANITIZE ?=
ifeq ($(SANITIZE),)
BUILD   ?= build
OPT     ?= -O2
else
BUILD   ?= build-san
OPT     ?= -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
# The debug build also names a write that starts beside an open read on its
# SQLite connection (db_sqlite.c, "db guard"; tests/api fails a run on it).
OPT     += -DNETRA_DB_GUARD
endif

# Debian packages the build, tests and benchmarks need (postgresql: the
# throw-away cluster of the test pass on PostgreSQL, tools/pg-cluster.sh;
# libmicrohttpd-dev: only the fake Telegram server, a test tool, still uses it;
# netradrive itself has its own HTTP engine, src/http/).
DEB_PKGS := build-essential pkg-config libmicrohttpd-dev libwslay-dev libjansson-dev \
  libsodium-dev libssl-dev libcurl4-openssl-dev libsqlite3-dev libpq-dev libmagic-dev libxxhash-dev \
  libutf8proc-dev libexpat1-dev litmus libcmocka-dev python3-pytest python3-requests \
  python3-websocket python3-prometheus-client nginx caddy systemd curl python3-jsonschema \
  chromium postgresql python3-pytest-xdist rclone

CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS += $(if $(SANITIZE),-fsanitize=address$(comma)undefined)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lmagic -lwslay -lpthread -lm
FAKE_LDLIBS := $(shell pkg-config --libs $(FAKE_PKGS) 2>/dev/null) -lpthread -lm
comma   := ,

SRC     := $(shell find src -name '*.c' | sort)
MIGRATIONS := $(sort $(wildcard src/db/migrations/*.sql))
OBJ     := $(SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/migrations.o $(BUILD)/gen/docs_assets.o
# What /openapi.json, /docs and /redoc serve, embedded by tools/gen-assets.sh
# (NAME=CONTENT-TYPE=PATH); the npm files come from package-lock.json.
NPM_STAMP := node_modules/.package-lock.json
DOCS_ASSETS := openapi.json=application/json=docs/openapi.json \
  swagger-init.js=text/javascript=src/api/ui/swagger-init.js \
  swagger-ui.css=text/css=node_modules/swagger-ui-dist/swagger-ui.css \
  swagger-ui-bundle.js=text/javascript=node_modules/swagger-ui-dist/swagger-ui-bundle.js \
  redoc.standalone.js=text/javascript=$(BUILD)/gen/redoc.standalone.js
LIB_OBJ := $(filter-out $(BUILD)/src/main.o,$(OBJ))
FAKE_SRC := $(wildcard tests/fake-telegram/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps run test unit api clean

all: $(BUILD)/netradrive $(if $(FAKE_SRC),$(BUILD)/fake-telegram) $(BUILD)/bench-seed

$(BUILD)/netradrive: $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# bench/metadata's seeding tool: drive/ functions on the server's database.
$(BUILD)/bench-seed: bench/seed/seed.c $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fake-telegram: $(FAKE_SRC) $(wildcard tests/fake-telegram/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/fake-telegram $(LDFLAGS) -o $@ $(FAKE_SRC) $(FAKE_LDLIBS)

$(BUILD)/gen/migrations.c: $(MIGRATIONS) tools/gen-migrations.sh
	@mkdir -p $(@D)
	sh tools/gen-migrations.sh $(MIGRATIONS) > $@

$(NPM_STAMP): package-lock.json tools/npm-deps.sh
	@sh tools/npm-deps.sh

# ReDoc's footer shows a logo from its CDN: the embedded copy drops that one
# URL (the <img> then hides itself), so /redoc loads nothing from elsewhere.
$(BUILD)/gen/redoc.standalone.js: $(NPM_STAMP)
	@mkdir -p $(@D)
	sed 's#"https://cdn\.[^"]*\.svg"#""#g' node_modules/redoc/bundles/redoc.standalone.js > $@

$(BUILD)/gen/docs_assets.c: $(NPM_STAMP) $(BUILD)/gen/redoc.standalone.js docs/openapi.json \
  src/api/ui/swagger-init.js tools/gen-assets.sh
	@mkdir -p $(@D)
	sh tools/gen-assets.sh $(DOCS_ASSETS) > $@

$(BUILD)/gen/docs_assets.o: $(BUILD)/gen/docs_assets.c $(foreach a,$(DOCS_ASSETS),$(lastword $(subst =, ,$(a))))
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/gen/migrations.o: $(BUILD)/gen/migrations.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# Unit tests may #include the .c under test so its statics are reachable.
# Such a test already holds that file's code, so it links against the library
# objects minus those of the .c files it includes, read from its
# `#include "dir/file.c"` lines (paths under src/; the '.' in the pattern
# matches the '#', which make versions quote differently).
unit_included = $(patsubst %.c,$(BUILD)/src/%.o,$(shell sed -n \
  's/^[[:space:]]*.[[:space:]]*include[[:space:]]*"\([^"]*\.c\)".*/\1/p' $(1)))
unit_objs = $(filter-out $(call unit_included,$(1)),$(LIB_OBJ))

$(BUILD)/tests/test_%: tests/unit/test_%.c $(wildcard tests/unit/*.h) $(LIB_OBJ)
	@mkdir -p $(@D)/deps
	$(CC) $(CFLAGS) -MMD -MP -MF $(@D)/deps/$(@F).d $(LDFLAGS) -o $@ $< \
	  $(call unit_objs,$<) \
	  $(LDLIBS) -lcmocka

-include $(OBJ:.o=.d) $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/deps/%.d)

deps:
	@sh tools/deps.sh $(DEB_PKGS)
	@sh tools/npm-deps.sh

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
	@$(if $(SANITIZE),NETRADRIVE_TEST_TIME_FACTOR=$${NETRADRIVE_TEST_TIME_FACTOR:-3}) \
	  sh tools/test.sh $(BUILD) $(PYTEST_ARGS)

clean:
	rm -rf build build-san
