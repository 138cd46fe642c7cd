#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/tools/test_spry_cat.sh SPRY_CAT MODE: tests of tools/spry_cat.c.
#
#   cli     exit statuses of bad flags, bad URLs and run-time failures,
#           and the receive timeout, in one process (inproc://)
#   tcp     spry-cat against spry-cat over tcp://127.0.0.1: REQ/REP both
#           ways, PUB/SUB with a topic filter, PUSH/PULL in every output
#           format, SURVEYOR/RESPONDENT
#   nngcat  spry-cat against NNG's nngcat (NNGCAT, default: the one on
#           PATH) over tcp: REQ/REP and PUB/SUB in both roles, PUSH/PULL
#           formats both ways
#
# Exits 0 (pass), 1 (fail) or 77 (skip: tcp:// not built yet, or no
# nngcat). Synchronization: the listener runs in the foreground and the
# dialer in the background with --async, so the dialer retries until the
# listener is up; senders that drop before a peer is connected (PUB)
# repeat with --interval until the receiver has its --count and are then
# stopped. Every process runs under timeout(1), so the test ends on its
# own; ports are picked at random and retried when in use.
set -u

CAT=${1:?usage: test_spry_cat.sh SPRY_CAT MODE}
MODE=${2:?usage: test_spry_cat.sh SPRY_CAT MODE}
NNGCAT=${NNGCAT:-$(command -v nngcat || true)}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/spry_cat.XXXXXX")
LIMIT=60   # seconds any one process may run
BGPIDS=()  # background processes still to reap
FAILS=0
BUSY=75    # a scenario's "port in use, try another" status

cleanup() {
	for pid in "${BGPIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}

# run: a command bounded by LIMIT.
run() {
	timeout "$LIMIT" "$@"
}

# bg OUT CMD...: start CMD in the background, stdout to OUT, stderr to
# OUT.err; sets BG to its pid.
bg() {
	local out=$1
	shift
	timeout "$LIMIT" "$@" >"$out" 2>"$out.err" &
	BG=$!
	BGPIDS+=("$BG")
}

# reap PID: wait for a background process; sets RC.
reap() {
	wait "$1"
	RC=$?
	local keep=()
	for pid in "${BGPIDS[@]}"; do
		[ "$pid" != "$1" ] && keep+=("$pid")
	done
	BGPIDS=("${keep[@]+"${keep[@]}"}")
}

# stop PID: end a background sender that would otherwise keep going.
stop() {
	kill "$1" 2>/dev/null
	reap "$1"
}

# san_scan DESC: sanitizer reports in any stderr kept so far fail the
# test even when the exit status hid them (a killed background sender).
san_scan() {
	local f
	for f in "$TMP"/*err; do
		[ -f "$f" ] || continue
		if grep -qE "Sanitizer|runtime error:" "$f"; then
			fail "$1: sanitizer report: $(grep -m1 -E \
			    "Sanitizer|runtime error:" "$f")"
			: >"$f"
		fi
	done
}

# expect_rc WANT DESC CMD...: CMD must exit WANT.
expect_rc() {
	local want=$1 desc=$2
	shift 2
	run "$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$desc: exit $rc, want $want ($(head -c 300 "$TMP/err"))"
	fi
	san_scan "$desc"
}

# same FILE EXPECTED DESC: FILE must hold exactly EXPECTED's bytes.
same() {
	if ! cmp -s "$1" "$2"; then
		fail "$3: got $(od -An -c "$1" | head -3 | tr -s ' '), want" \
		    "$(od -An -c "$2" | head -3 | tr -s ' ')"
	fi
}

# in_use RC ERRFILE: did a listener fail because its port is taken?
in_use() {
	[ "$1" = 5 ] || { [ "$1" = 1 ] && grep -qi "in use" "$2"; }
}

# with_port SCENARIO: run SCENARIO URL on random ports until one is free.
with_port() {
	local port rc start=$SECONDS
	for _ in 1 2 3 4 5 6 7 8; do
		port=$((20000 + (RANDOM * 7 + $$) % 40000))
		"$1" "tcp://127.0.0.1:$port"
		rc=$?
		san_scan "$1"
		if [ "$rc" != "$BUSY" ]; then
			echo "ran $1 ${FMT:-} on port $port ($((SECONDS - start)) s)"
			return 0
		fi
	done
	fail "$1: no free port found"
}

# fg_listener URL RC ERRFILE BGPID: after a foreground listener exited,
# tell whether its port was busy (then stop the dialer and report BUSY).
busy_port() {
	if in_use "$1" "$2"; then
		stop "$3"
		return 0
	fi
	return 1
}

have_tcp() {
	run "$CAT" --pull --listen tcp://127.0.0.1:0 --recv-timeout 0 \
	    >/dev/null 2>&1
	[ $? != 4 ]
}

# ---- cli ---------------------------------------------------------------

cli_usage() {
	expect_rc 2 "no arguments" "$CAT"
	expect_rc 2 "unknown long flag" "$CAT" --pull --frobnicate \
	    --dial inproc://x
	expect_rc 2 "unknown short flag" "$CAT" --pull -z --dial inproc://x
	expect_rc 2 "ambiguous abbreviation" "$CAT" --re --dial inproc://x
	expect_rc 2 "missing value" "$CAT" --pull --dial
	expect_rc 2 "two protocols" "$CAT" --req --rep --dial inproc://x
	expect_rc 2 "no protocol" "$CAT" --dial inproc://x
	expect_rc 2 "no address" "$CAT" --pull
	expect_rc 2 "sender without data" "$CAT" --push --dial inproc://x
	expect_rc 2 "receiver with data" "$CAT" --pull --dial inproc://x \
	    --data x
	expect_rc 2 "data twice" "$CAT" --push --dial inproc://x --data x \
	    --file /dev/null
	expect_rc 2 "format on a sender" "$CAT" --push --dial inproc://x \
	    --data x --hex
	expect_rc 2 "format twice" "$CAT" --pull --dial inproc://x -A -Q
	expect_rc 2 "unknown format" "$CAT" --pull --dial inproc://x \
	    --format morse
	expect_rc 2 "subscribe without sub" "$CAT" --pull --dial inproc://x \
	    --subscribe t
	expect_rc 2 "interval on a receiver" "$CAT" --pull --dial inproc://x \
	    --interval 1
	expect_rc 2 "count not a number" "$CAT" --pull --dial inproc://x -C abc
	expect_rc 2 "negative count" "$CAT" --pull --dial inproc://x -C -1
	expect_rc 2 "negative seconds" "$CAT" --pull --dial inproc://x \
	    --recv-timeout -1
	expect_rc 2 "seconds not a number" "$CAT" --push --dial inproc://x \
	    --data x -i soon
	expect_rc 2 "stray argument" "$CAT" --pull --dial inproc://x extra
}

cli_urls() {
	expect_rc 3 "URL without scheme" "$CAT" --pull --dial notaurl
	expect_rc 3 "port out of range" "$CAT" --pull --listen \
	    tcp://127.0.0.1:99999
	expect_rc 3 "empty inproc name" "$CAT" --pull --listen inproc://
	expect_rc 4 "unknown scheme" "$CAT" --pull --dial ws://127.0.0.1:1/x
}

cli_runs() {
	expect_rc 1 "dial refused" "$CAT" --pull --dial inproc://nobody
	expect_rc 1 "dial refused, silent" "$CAT" --pull -q \
	    --dial inproc://nobody
	[ -s "$TMP/err" ] && fail "--silent still wrote: $(cat "$TMP/err")"
	expect_rc 1 "unreadable file" "$CAT" --push --listen inproc://f \
	    --file "$TMP/does-not-exist"
	expect_rc 1 "send timeout with no peer" "$CAT" --push \
	    --listen inproc://p --data x --send-timeout 0.2
	expect_rc 0 "receive timeout" "$CAT" --pull --listen inproc://r \
	    --recv-timeout 0.2
	expect_rc 0 "REQ with no answer" "$CAT" --req --listen inproc://q \
	    --data q --recv-timeout 0.2
	expect_rc 0 "PUB with no subscriber" "$CAT" --pub --listen inproc://b \
	    --data x
	expect_rc 0 "--help" "$CAT" --help
	grep -q "^Usage: spry-cat" "$TMP/out" || fail "--help printed no usage"
	expect_rc 0 "--version" "$CAT" --version
	grep -q "^spry-cat [0-9]" "$TMP/out" || fail "--version printed no version"
	expect_rc 0 "-v notes" "$CAT" --pull -v --listen inproc://v \
	    --recv-timeout 0
	grep -q "Listening at: inproc://v" "$TMP/err" ||
	    fail "-v did not say where it listens"
}

# ---- spry-cat against spry-cat (and nngcat) over tcp -------------------

# reqrep URL REQCMD... -- REPCMD...: the requester listens (foreground),
# the replier dials (background). Both must print each other's data.
reqrep_listen_req() {
	local url=$1 req=$2 rep=$3
	bg "$TMP/rep" $rep --rep --dial "$url" --async --count 1 --data ans \
	    -Q --recv-timeout 30
	local bgpid=$BG
	run $req --req --listen "$url" --data q -Q --recv-timeout 30 \
	    >"$TMP/req" 2>"$TMP/req.err"
	local rc=$?
	busy_port "$rc" "$TMP/req.err" "$bgpid" && return $BUSY
	reap "$bgpid"
	[ "$rc" = 0 ] || fail "$req REQ (listening): exit $rc"
	[ "$RC" = 0 ] || fail "$rep REP (dialing): exit $RC"
	printf '"ans"\n' >"$TMP/want"
	same "$TMP/req" "$TMP/want" "$req REQ got the reply of $rep REP"
	printf '"q"\n' >"$TMP/want"
	same "$TMP/rep" "$TMP/want" "$rep REP got the request of $req REQ"
}

reqrep_listen_rep() {
	local url=$1 req=$2 rep=$3
	bg "$TMP/req" $req --req --dial "$url" --async --data q -Q \
	    --recv-timeout 30
	local bgpid=$BG
	run $rep --rep --listen "$url" --count 1 --data ans -Q \
	    --recv-timeout 30 >"$TMP/rep" 2>"$TMP/rep.err"
	local rc=$?
	busy_port "$rc" "$TMP/rep.err" "$bgpid" && return $BUSY
	reap "$bgpid"
	[ "$rc" = 0 ] || fail "$rep REP (listening): exit $rc"
	[ "$RC" = 0 ] || fail "$req REQ (dialing): exit $RC"
	printf '"ans"\n' >"$TMP/want"
	same "$TMP/req" "$TMP/want" "$req REQ got the reply of $rep REP"
	printf '"q"\n' >"$TMP/want"
	same "$TMP/rep" "$TMP/want" "$rep REP got the request of $req REQ"
}

# pubsub URL PUB SUB INTERVAL: SUB listens for three messages on topic
# "news"; two PUBs dial, one on the topic and one off it.
pubsub() {
	local url=$1 pub=$2 sub=$3 ival=$4
	bg "$TMP/pub1" $pub --pub --dial "$url" --async --data news-1 \
	    --interval "$ival" --count 1000
	local p1=$BG
	bg "$TMP/pub2" $pub --pub --dial "$url" --async --data sport-1 \
	    --interval "$ival" --count 1000
	local p2=$BG
	run $sub --sub --listen "$url" --subscribe news --count 3 -Q \
	    --recv-timeout 30 >"$TMP/sub" 2>"$TMP/sub.err"
	local rc=$?
	stop "$p2"
	busy_port "$rc" "$TMP/sub.err" "$p1" && return $BUSY
	stop "$p1"
	[ "$rc" = 0 ] || fail "$sub SUB: exit $rc ($(cat "$TMP/sub.err"))"
	printf '"news-1"\n"news-1"\n"news-1"\n' >"$TMP/want"
	same "$TMP/sub" "$TMP/want" "$sub SUB got only its topic from $pub PUB"
}

# The PUSH/PULL payload and what each format prints for it (as nngcat
# 1.5 prints it: ascii and raw add no newline).
make_formats() {
	printf 'a\001b"c\\d\n\te\177\377' >"$TMP/data"
	cp "$TMP/data" "$TMP/want.raw"
	printf '%s' 'a.b"c\d..e..' >"$TMP/want.ascii"
	printf '%s\n' '"a\x01b\"c\\d\n\te\x7f\xff"' >"$TMP/want.quoted"
	printf '%s\n' '"\x61\x01\x62\x22\x63\x5c\x64\x0a\x09\x65\x7f\xff"' \
	    >"$TMP/want.hex"
	{ printf '\304\014'; cat "$TMP/data"; } >"$TMP/want.msgpack"
	: >"$TMP/want.no"
}

# pushpull URL PUSH PULL FORMAT: PULL listens and prints one message.
pushpull() {
	local url=$1 push=$2 pull=$3 fmt=$4
	bg "$TMP/push" $push --push --dial "$url" --async --file "$TMP/data"
	local bgpid=$BG
	run $pull --pull --listen "$url" --count 1 --format "$fmt" \
	    --recv-timeout 30 >"$TMP/pull" 2>"$TMP/pull.err"
	local rc=$?
	busy_port "$rc" "$TMP/pull.err" "$bgpid" && return $BUSY
	reap "$bgpid"
	[ "$rc" = 0 ] || fail "$pull PULL --format $fmt: exit $rc"
	[ "$RC" = 0 ] || fail "$push PUSH for --format $fmt: exit $RC"
	same "$TMP/pull" "$TMP/want.$fmt" "$pull PULL --format $fmt of $push"
}

# survey URL: RESPONDENT listens (background); SURVEYOR dials, retried
# until the respondent is up (a refused dial exits 1 at once).
survey() {
	local url=$1 rc
	bg "$TMP/resp" "$CAT" --respondent --listen "$url" --count 1 \
	    --data yes -Q --recv-timeout 30
	local bgpid=$BG
	for _ in $(seq 200); do
		run "$CAT" --surveyor --dial "$url" --data q -Q \
		    >"$TMP/surv" 2>"$TMP/surv.err"
		rc=$?
		grep -q "refused" "$TMP/surv.err" || break
		kill -0 "$bgpid" 2>/dev/null || break
		sleep 0.05 # bounded retry while the listener starts
	done
	reap "$bgpid"
	in_use "$RC" "$TMP/resp.err" && return $BUSY
	[ "$rc" = 0 ] || fail "SURVEYOR: exit $rc ($(cat "$TMP/surv.err"))"
	[ "$RC" = 0 ] || fail "RESPONDENT: exit $RC"
	printf '"yes"\n' >"$TMP/want"
	same "$TMP/surv" "$TMP/want" "SURVEYOR got the response"
	printf '"q"\n' >"$TMP/want"
	same "$TMP/resp" "$TMP/want" "RESPONDENT got the survey"
}

# Scenario wrappers: with_port passes the URL only.
s_reqrep_spry_a() { reqrep_listen_req "$1" "$CAT" "$CAT"; }
s_reqrep_spry_b() { reqrep_listen_rep "$1" "$CAT" "$CAT"; }
s_pubsub_spry() { pubsub "$1" "$CAT" "$CAT" 0.05; }
s_reqrep_nng_a() { reqrep_listen_req "$1" "$CAT" "$NNGCAT"; }
s_reqrep_nng_b() { reqrep_listen_rep "$1" "$NNGCAT" "$CAT"; }
s_reqrep_nng_c() { reqrep_listen_req "$1" "$NNGCAT" "$CAT"; }
s_reqrep_nng_d() { reqrep_listen_rep "$1" "$CAT" "$NNGCAT"; }
s_pubsub_nng_a() { pubsub "$1" "$NNGCAT" "$CAT" 1; }
s_pubsub_nng_b() { pubsub "$1" "$CAT" "$NNGCAT" 0.05; }
s_pushpull() { pushpull "$1" "$PUSH" "$PULL" "$FMT"; }

# formats PUSH PULL: every format, one port each.
formats() {
	PUSH=$1 PULL=$2
	for FMT in raw ascii quoted hex msgpack no; do
		with_port s_pushpull
	done
	FMT=
}

# ---- main --------------------------------------------------------------

case "$MODE" in
cli)
	cli_usage
	cli_urls
	cli_runs
	;;
tcp)
	have_tcp || { echo "SKIP: no tcp:// transport yet"; exit 77; }
	make_formats
	with_port s_reqrep_spry_a
	with_port s_reqrep_spry_b
	with_port s_pubsub_spry
	formats "$CAT" "$CAT"
	with_port survey
	;;
nngcat)
	[ -x "$NNGCAT" ] || { echo "SKIP: nngcat not found"; exit 77; }
	have_tcp || { echo "SKIP: no tcp:// transport yet"; exit 77; }
	make_formats
	with_port s_reqrep_nng_a
	with_port s_reqrep_nng_b
	with_port s_reqrep_nng_c
	with_port s_reqrep_nng_d
	with_port s_pubsub_nng_a
	with_port s_pubsub_nng_b
	formats "$NNGCAT" "$CAT"
	formats "$CAT" "$NNGCAT"
	;;
*)
	echo "unknown mode $MODE"
	exit 1
	;;
esac

if [ "$FAILS" != 0 ]; then
	echo "$FAILS check(s) failed"
	exit 1
fi
echo "PASS: $MODE"
exit 0
