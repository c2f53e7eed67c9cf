#!/usr/bin/env bash
# Fuzz the REST API with schemathesis, driven by the API's own OpenAPI document.
#
#   bench/fuzz_api.sh DB [MAX_EXAMPLES_PER_OPERATION]      (default 100: 12 operations, 1,200+ cases)
#
# DB: an existing database with loyalty_klodr installed, ideally the four addons with demo data
# (the demo program "Klodr Rewards" lets requests reach past "unknown program"):
#   dropdb -h 127.0.0.1 --if-exists klodr_fz
#   python3 -m odoo -c CONF -d klodr_fz -i loyalty_klodr,loyalty_klodr_sms,loyalty_klodr_pos,loyalty_klodr_gst \
#       --with-demo --stop-after-init
# The run WRITES to DB (members, purchases, redemptions...): use a throw-away database.
#
# It starts Odoo on a free port of 127.0.0.1, creates an API key with `klodr apikey create`, runs
#   schemathesis run http://127.0.0.1:PORT/api/loyalty/v1/openapi.json --header "Authorization: Bearer KEY"
#       --checks all --max-examples N --max-time T ...
# then stops the server and lists the server errors (tracebacks) of its log. Exit status: schemathesis's
# (non-zero when a check failed), or 1 when the server logged a traceback.
#
# Environment: FUZZ_MAX_TIME (seconds of the whole schemathesis run, default 900), FUZZ_WORKERS (1),
# FUZZ_SEED, FUZZ_MODE (all|positive|negative, default all), FUZZ_OUT (report folder, default a new temp
# folder), FUZZ_RATE_LIMIT (the fuzz key's requests per minute, default 100000: the key's own limit would
# otherwise answer most requests 429), SCHEMATHESIS (the executable; default: `schemathesis` on PATH, else
# installed from PyPI into FUZZ_VENV, default ~/.cache/klodr-fuzz-venv: a venv of its own, so that its
# dependencies never move the packages Odoo pins). PGHOST/PGPORT/PGUSER/PGPASSWORD as for scripts/test.
set -uo pipefail
# shellcheck source=scripts/_common.sh
. "$(dirname "$0")/../scripts/_common.sh"
require_odoo
cd "$ROOT"

DB=${1:?usage: bench/fuzz_api.sh DB [MAX_EXAMPLES_PER_OPERATION]}
EXAMPLES=${2:-100}
MAX_TIME=${FUZZ_MAX_TIME:-900}
WORKERS=${FUZZ_WORKERS:-1}
MODE=${FUZZ_MODE:-all}
RATE_LIMIT=${FUZZ_RATE_LIMIT:-100000}
OUT=${FUZZ_OUT:-$(mktemp -d -t klodr-fuzz.XXXXXX)}
mkdir -p "$OUT"
CONF="$OUT/odoo.conf"
LOG="$OUT/odoo.log"
write_config "$CONF"
PSQL=(psql -h "${PGHOST:-127.0.0.1}" -p "${PGPORT:-5432}" -U "${PGUSER:-root}" -d "$DB" -v ON_ERROR_STOP=1 -tAq)

if ! "${PSQL[@]}" -c "SELECT 1 FROM ir_module_module WHERE name = 'loyalty_klodr' AND state = 'installed'" \
        | grep -q 1; then
    echo "ERROR: loyalty_klodr is not installed in database $DB" >&2
    exit 2
fi

# --- schemathesis ---------------------------------------------------------------------------------
ST=${SCHEMATHESIS:-}
if [ -z "$ST" ]; then
    if command -v schemathesis >/dev/null; then
        ST=$(command -v schemathesis)
    else
        VENV=${FUZZ_VENV:-$HOME/.cache/klodr-fuzz-venv}
        if [ ! -x "$VENV/bin/schemathesis" ]; then
            echo "== installing schemathesis into $VENV"
            "$PYTHON" -m venv "$VENV" && "$VENV/bin/pip" install -q "schemathesis>=4,<5" \
                || { echo "ERROR: could not install schemathesis" >&2; exit 2; }
        fi
        ST=$VENV/bin/schemathesis
    fi
fi
"$ST" --version

# --- Odoo -----------------------------------------------------------------------------------------
PORT=${FUZZ_PORT:-$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
BASE="http://127.0.0.1:$PORT/api/loyalty/v1"
echo "== starting Odoo on 127.0.0.1:$PORT (database $DB, log $LOG)"
"$PYTHON" -m odoo -c "$CONF" -d "$DB" --db-filter="^${DB}\$" --http-interface=127.0.0.1 --http-port="$PORT" \
    --max-cron-threads=0 --logfile="$LOG" &
ODOO_PID=$!
stop_odoo() {
    if kill -0 "$ODOO_PID" 2>/dev/null; then
        kill "$ODOO_PID" 2>/dev/null
        for _ in $(seq 1 30); do kill -0 "$ODOO_PID" 2>/dev/null || break; sleep 1; done
        kill -9 "$ODOO_PID" 2>/dev/null
    fi
    wait "$ODOO_PID" 2>/dev/null
}
trap stop_odoo EXIT
for _ in $(seq 1 120); do
    curl -sf -o /dev/null "$BASE/openapi.json" && break
    kill -0 "$ODOO_PID" 2>/dev/null || { echo "ERROR: Odoo stopped; see $LOG" >&2; tail -n 30 "$LOG" >&2; exit 2; }
    sleep 1
done
curl -sf -o "$OUT/openapi.json" "$BASE/openapi.json" || { echo "ERROR: $BASE/openapi.json unreachable" >&2; exit 2; }

# --- a key ----------------------------------------------------------------------------------------
echo "== creating an API key"
KEY=$("$PYTHON" -m odoo --addons-path="$ODOO_ADDONS_PATH" klodr -c "$CONF" -d "$DB" --log-level=warn \
      apikey create --name "fuzz $(date -u +%Y-%m-%dT%H:%M:%SZ)" | tail -n 1)
case "$KEY" in
    klk_*) ;;
    *) echo "ERROR: 'klodr apikey create' printed no key" >&2; exit 2 ;;
esac
KEY_HASH=$(printf %s "$KEY" | sha256sum | cut -d' ' -f1)
"${PSQL[@]}" -c "UPDATE klodr_api_key SET rate_limit = $RATE_LIMIT WHERE key_hash = '$KEY_HASH'" >/dev/null

# --- fuzz -----------------------------------------------------------------------------------------
# Business refusals (422) are valid answers to well-formed requests: positive data may get them.
# On the operations whose fields carry rules only the server can check (the document's "What a
# schema cannot say": a real numbering plan, an unknown store or referral code, a ledger `from`
# after `to`, a refund beyond what is left of its purchase or finer than the currency, an event no
# rule handles, a future `occurred_at`), a schema-valid value may also get 400 `validation_error`
# naming the field, as API.md has it; everywhere else a 400 to positive data is still a finding.
cat > "$OUT/schemathesis.toml" <<'TOML'
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]
TOML
for operation in "POST /members" "GET /members/{member}/ledger" "POST /transactions" \
                 "POST /transactions/{order_ref}/refunds" "POST /events"; do
    cat >> "$OUT/schemathesis.toml" <<TOML

[[operations]]
include-method = "${operation%% *}"
include-path = "${operation#* }"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "422", "429"]
TOML
done
echo "== schemathesis: $EXAMPLES examples per operation, at most ${MAX_TIME}s, mode $MODE, report in $OUT"
SEED_ARGS=()
[ -n "${FUZZ_SEED:-}" ] && SEED_ARGS=(--seed "$FUZZ_SEED")
"$ST" --config-file "$OUT/schemathesis.toml" run "$BASE/openapi.json" \
    --url "$BASE" \
    --header "Authorization: Bearer $KEY" \
    --checks all \
    --mode "$MODE" \
    --max-examples "$EXAMPLES" \
    --max-time "$MAX_TIME" \
    --workers "$WORKERS" \
    --request-timeout 30 \
    --continue-on-failure \
    --generation-database none \
    --report junit,ndjson --report-dir "$OUT" \
    "${SEED_ARGS[@]}" 2>&1 | tee "$OUT/schemathesis.txt"
status=${PIPESTATUS[0]}

stop_odoo
trap - EXIT
tracebacks=$(grep -c "^Traceback" "$LOG" || true)
echo "== server log: $tracebacks traceback(s) in $LOG"
if [ "$tracebacks" -gt 0 ]; then
    grep -E "^[A-Za-z_.]+(Error|Exception):" "$LOG" | sort | uniq -c | sort -rn | head -n 20
    [ "$status" = 0 ] && status=1
fi
echo "== reports: $OUT (schemathesis.txt, junit.xml, ndjson events, odoo.log)"
exit "$status"
