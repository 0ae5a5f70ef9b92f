#!/usr/bin/env bash
# The November 2025 Mixpanel breach, as acme would respond with weaklink, on
# loopback:
#   1. load the acme inventory into a fresh SQLite database;
#   2. send five users' dashboard traffic through the gateway
#      (examples/acme/gateway.yaml) to a fake Mixpanel, so the ledger records
#      what Mixpanel really received;
#   3. record where those users live (subjects import);
#   4. open the incident with the real dates: Mixpanel discovered the breach
#      on 2025-11-09 and told its customer on 2025-11-25;
#   5. blast radius, legal clocks, containment (the kill switch) and the
#      notification pack.
# The clocks run against today's date, so the 2025 deadlines show as overdue.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
export WEAKLINK_DB="$work/weaklink.db"
export WEAKLINK_HASH_KEY="demo-key-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export WEAKLINK_ORG=examples/acme/organization.yaml
CGO_ENABLED=0 go build -o "$work/weaklink" ./cmd/weaklink
wl="$work/weaklink"
out="${1:-./mixpanel-incident-pack}"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
vport=$(port); gport=$(port)
if [ -t 1 ]; then say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }; else say() { printf '\n$ %s\n' "$*"; }; fi

"$wl" apply -f examples/acme | tail -n 1
sed -e "s#https://api-js.mixpanel.com#http://127.0.0.1:$vport#" -e "s#dir: ./var/spool#dir: $work/spool#" \
	-e "s#listen: 127.0.0.1:8787#listen: 127.0.0.1:$gport#" examples/acme/gateway.yaml > "$work/gateway.yaml"
"$wl" gateway fake-vendor --listen "127.0.0.1:$vport" > /dev/null 2>&1 &
"$wl" gateway --config "$work/gateway.yaml" --allow-private-upstreams > /dev/null 2> "$work/gateway.log" &
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$gport/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

# The recorded traffic (examples/acme/traffic) is Ada's; each user gets a
# copy with their own id.
as_user() { # FILE USER
	sed -e 's/^data=//' -e 's/%3D/=/g' -e 's/%2B/+/g' -e 's#%2F#/#g' "$1" | base64 -d | sed "s/user_8f2a/$2/g" |
		base64 -w0 | sed -e 's/=/%3D/g' -e 's/+/%2B/g' -e 's#/#%2F#g' -e 's/^/data=/'
}
printf 'user_id,jurisdiction\n' > "$work/residence.csv"
for u in user_de1:DE user_fr1:FR user_gb1:GB user_ca1:US-CA user_tx1:US-TX; do
	id=${u%%:*}
	for kind in track engage; do
		as_user "examples/acme/traffic/$kind.form" "$id" | curl -fs -o /dev/null -X POST "http://127.0.0.1:$gport/mp/$kind?ip=1" \
			-H 'Content-Type: application/x-www-form-urlencoded' --data-binary @-
	done
	printf '%s,%s\n' "$id" "${u#*:}" >> "$work/residence.csv"
done
echo "Sent 5 users' dashboard traffic through the gateway."
sleep 2.5 # the ledger flushes every 2 s

say "weaklink ledger --vendor mixpanel"
"$wl" ledger --vendor mixpanel
say "weaklink subjects import residence.csv --gateway-config gateway.yaml"
"$wl" subjects import "$work/residence.csv" --gateway-config "$work/gateway.yaml"

say 'weaklink incident open --vendor mixpanel --vendor-discovered 2025-11-09 --vendor-notified 2025-11-25T18:00:00Z --aware 2025-11-25T18:00:00Z --contract-notice 48h --category ...'
"$wl" incident open --vendor mixpanel --title "Mixpanel: analytics dataset exported after an SMS phishing attack" \
	--severity high --owner "privacy@acme.example" \
	--vendor-discovered 2025-11-09 --vendor-notified 2025-11-25T18:00:00Z --aware 2025-11-25T18:00:00Z \
	--dataset-received 2025-11-25T18:00:00Z --contract-notice 48h --high-risk no \
	--category user.name --category user.contact.email --category user.unique_id --category user.contact.organization \
	--category user.location.imprecise --category user.device.user_agent --category user.behavior.referrer
id=$("$wl" incident list --format json | sed -n 's/.*"id": "\([0-9a-f-]*\)".*/\1/p' | head -n 1)
id=${id:0:8}

say "weaklink incident blast-radius $id --csv affected.csv"
"$wl" incident blast-radius "$id" --csv "$work/affected.csv"
say "weaklink incident clocks $id"
"$wl" incident clocks "$id"
say "weaklink incident contain $id"
"$wl" incident contain "$id"
say "weaklink incident notify $id --out $out"
"$wl" incident notify "$id" --out "$out"
say "weaklink incident show $id"
"$wl" incident show "$id"
printf '\nThe notification pack is in %s: start with README.md and people.md.\n' "$out"
