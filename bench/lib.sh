# bench/lib.sh — helpers shared by bench/run (SQLite) and bench/postgres,
# sourced after OUT, STATE, COUNT, SEED, DAYS, APP and TELCDR are set.

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
# CPU seconds (user+nice+system) used by the whole machine so far, and by one process.
cpu_all() { awk '/^cpu /{ printf "%.2f", ($2 + $3 + $4) / 100 }' /proc/stat; }
cpu_pid() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Runs a command, its stderr still to ours; sets CMD_CPU to the CPU seconds it used.
timed_cpu() {
    local TIMEFORMAT='%3U %3S' t rc=0
    { t=$( { time "$@" 2>&4 1>&6 ; } 4>&2 2>&1 ) || rc=$?; } 6>&1
    CMD_CPU=$(echo "$t" | tail -1 | awk '{ printf "%.2f", $1 + $2 }')
    return $rc
}

# state.json: key=JSON-value pairs merged in
state_set() {
    python3 - "$STATE" "$@" <<'EOF'
import json, sys, os
path = sys.argv[1]
st = json.load(open(path)) if os.path.exists(path) else {}
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    cur = st
    parts = k.split(".")
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = json.loads(v)
json.dump(st, open(path, "w"), indent=1)
EOF
}

# Other people's compilers distort every number on a 2-core machine: wait them out.
wait_quiet() {
    local waited=0
    while pgrep -x rustc >/dev/null 2>&1 || pgrep -x cc1 >/dev/null 2>&1; do
        [ $waited = 0 ] && log "a compiler is running on this machine; waiting before measuring"
        sleep 5; waited=$((waited + 5))
        if [ $waited -ge 1200 ]; then log "still busy after 20 min; measuring anyway (numbers are suspect)"; break; fi
    done
}

# Both importers start from the same page-cache state: earlier steps' dirty
# pages written back and (as root) every clean page dropped, then the input
# read in. Without this the import rate swings by a third with whatever the
# previous step left in memory (the kernel reclaiming pages while we write).
settle_cache() {
    sync
    if [ -w /proc/sys/vm/drop_caches ]; then
        echo 3 > /proc/sys/vm/drop_caches
        state_set "import.page_cache=\"dropped before each import\""
    else
        state_set "import.page_cache=\"synced, not dropped (not root)\""
    fi
}
# Generates (or reuses, for 2 days) COUNT records of one SdkAppId ending now;
# sets DATA (the JSONL) and UNTIL.
prepare_data() {
    DATA=$OUT/cdr-$COUNT-s$SEED-d$DAYS.jsonl
    NOW=$(date +%s)
    if [ "${REGEN:-0}" = 1 ] || [ ! -s "$DATA" ] || [ ! -s "$DATA.until" ] \
        || [ $((NOW - $(cat "$DATA.until"))) -gt $((2 * 86400)) ]; then
        log "generating $COUNT records (seed $SEED, $DAYS days until now)"
        rm -f "$DATA" "$DATA.until" "$DATA.csv"
        t0=$(date +%s.%N)
        "$TELCDR" generate --count "$COUNT" --sdk-app-id "$APP" --days "$DAYS" \
            --seed "$SEED" --until "$NOW" -o "$DATA.tmp"
        t1=$(date +%s.%N)
        mv "$DATA.tmp" "$DATA"
        echo "$NOW" > "$DATA.until"
        log "generated in $(elapsed "$t0" "$t1") s"
    fi
    UNTIL=$(cat "$DATA.until")
    LINES=$(wc -l < "$DATA")
    [ "$LINES" = "$COUNT" ] || die "$DATA has $LINES lines, expected $COUNT"
    state_set "until=$UNTIL" "jsonl_mb=$(du -m "$DATA" | cut -f1)"

}
