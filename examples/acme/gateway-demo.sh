#!/usr/bin/env bash
# The Mixpanel scenario, end to end, on loopback:
#   1. load the acme inventory into a fresh SQLite database;
#   2. start a fake Mixpanel and the gateway with examples/acme/gateway.yaml;
#   3. send the dashboard's real SDK traffic through the gateway;
#   4. show what "Mixpanel" received and what the ledger recorded;
#   5. block Mixpanel and show that nothing more gets through.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
export WEAKLINK_DB="$work/weaklink.db"
export WEAKLINK_HASH_KEY="demo-key-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
CGO_ENABLED=0 go build -o "$work/weaklink" ./cmd/weaklink
wl="$work/weaklink"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
vport=$(port); gport=$(port)

"$wl" apply -f examples/acme | tail -n 1
sed -e "s#https://api-js.mixpanel.com#http://127.0.0.1:$vport#" -e "s#dir: ./var/spool#dir: $work/spool#" \
	-e "s#listen: 127.0.0.1:8787#listen: 127.0.0.1:$gport#" examples/acme/gateway.yaml > "$work/gateway.yaml"
"$wl" gateway fake-vendor --listen "127.0.0.1:$vport" > "$work/received.jsonl" 2>/dev/null &
"$wl" gateway --config "$work/gateway.yaml" --allow-private-upstreams > /dev/null 2> "$work/gateway.log" &
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$gport/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

send() { # PATH FILE
	curl -s -o /dev/null -w "%{http_code}" -X POST "http://127.0.0.1:$gport/mp$1" \
		-H 'Content-Type: application/x-www-form-urlencoded' -H 'User-Agent: Mozilla/5.0 Chrome/131.0' \
		-H 'X-Forwarded-For: 203.0.113.7' --data-binary @"$2"
}
echo "POST /mp/track?ip=1  -> $(send '/track?ip=1' examples/acme/traffic/track.form)"
echo "POST /mp/engage?ip=1 -> $(send '/engage?ip=1' examples/acme/traffic/engage.form)"
sleep 0.3
echo
echo "What Mixpanel received:"
python3 -m json.tool --no-ensure-ascii < <(python3 -c 'import json,sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])]))' "$work/received.jsonl") 2>/dev/null || cat "$work/received.jsonl"

sleep 2.5 # the ledger flushes every 2 s
echo
echo "$ weaklink ledger --vendor mixpanel --format json"
"$wl" ledger --vendor mixpanel --format json

echo
before=$(wc -l < "$work/received.jsonl")
echo "$ weaklink vendors block mixpanel --reason 'vendor breach'"
"$wl" vendors block mixpanel --reason "vendor breach"
start=$(date +%s%N)
window=0
while [ "$(send '/track?ip=1' examples/acme/traffic/track.form)" != 403 ]; do window=$((window + 1)); sleep 0.1; done
echo "The gateway refused Mixpanel traffic $(( ($(date +%s%N) - start) / 1000000 )) ms after the block ($window requests went through before it saw the block)."
blocked=$(wc -l < "$work/received.jsonl")
for _ in 1 2 3; do send '/track?ip=1' examples/acme/traffic/track.form >/dev/null; done
sleep 0.3
echo "Requests Mixpanel received after the block took effect: $(( $(wc -l < "$work/received.jsonl") - blocked ))"
