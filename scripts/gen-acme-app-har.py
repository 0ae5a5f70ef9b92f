#!/usr/bin/env python3
"""Writes examples/acme-app/dashboard.har: a Chrome capture of the platform
dashboard (examples/acme-app) when Ada signs in and opens her usage page.

The requests are what the app's code sends: src/lib/analytics.ts
(mixpanel.identify, people.set with $email, $name and org_id; track "Viewed
Usage"), pages/_app.tsx (Sentry.setUser with the id; Intercom "update" with
user_id, email and name) and the SDKs' own automatic properties. Run it from
the repository root; the output is deterministic."""
import base64, json, urllib.parse

UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
      "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
TOKEN = "acme-dashboard-project-token"
USER = {"id": "user_8f2a", "email": "ada@example.com", "name": "Ada Lovelace", "org": "org_31c9"}
T0 = 1764086400  # 2025-11-25T16:00:00Z

def b64(obj):
    return base64.b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode()

def entry(n, method, url, body=None, mime="application/x-www-form-urlencoded", status=200, resp=""):
    u = urllib.parse.urlsplit(url)
    headers = [(":authority", u.netloc), (":method", method), (":path", u.path + ("?" + u.query if u.query else "")),
               (":scheme", "https"), ("accept", "*/*"), ("origin", "https://platform.acme.ai"),
               ("referer", "https://platform.acme.ai/usage"), ("user-agent", UA)]
    req = {"method": method, "url": url, "httpVersion": "http/2.0",
           "headers": [{"name": k, "value": v} for k, v in headers],
           "queryString": [{"name": k, "value": v} for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True)],
           "cookies": [], "headersSize": -1, "bodySize": len(body) if body else 0}
    if body is not None:
        req["postData"] = {"mimeType": mime, "text": body}
    return {"pageref": "page_1", "startedDateTime": "2025-11-25T16:00:%02d.%03dZ" % (n, 100 + n),
            "time": 60.5, "request": req,
            "response": {"status": status, "statusText": "", "httpVersion": "http/2.0",
                         "headers": [{"name": "content-type", "value": "application/json"}], "cookies": [],
                         "content": {"size": len(resp), "mimeType": "application/json", "text": resp},
                         "redirectURL": "", "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"blocked": 1, "dns": -1, "ssl": -1, "connect": -1, "send": 0.1, "wait": 58, "receive": 1.4}}

auto = {"$os": "Mac OS X", "$browser": "Chrome", "$browser_version": 131, "$current_url": "https://platform.acme.ai/usage",
        "$referrer": "https://platform.acme.ai/", "$referring_domain": "platform.acme.ai", "$screen_width": 1512,
        "$screen_height": 982, "mp_lib": "web", "$lib_version": "2.56.0", "token": TOKEN}
identify = [{"event": "$identify", "properties": dict(auto, distinct_id=USER["id"], **{
    "$anon_distinct_id": "$device:19a3f0c2d9a1", "$device_id": "19a3f0c2d9a1", "$user_id": USER["id"],
    "$insert_id": "c2f1a9e7-identify", "time": T0 + 0.101})}]
engage = [{"$token": TOKEN, "$distinct_id": USER["id"], "$device_id": "19a3f0c2d9a1",
           "$set": {"$email": USER["email"], "$name": USER["name"], "org_id": USER["org"]}}]
track = [{"event": "Viewed Usage", "properties": dict(auto, distinct_id=USER["id"], **{
    "$device_id": "19a3f0c2d9a1", "$user_id": USER["id"], "range": "30d", "metric": "tokens",
    "org_id": USER["org"], "$insert_id": "c2f1a9e7-usage-0001", "time": T0 + 2.417})}]

sentry_envelope = "\n".join([
    json.dumps({"event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "sent_at": "2025-11-25T16:00:05.000Z",
                "dsn": "https://examplePublicKey@o4507000000000000.ingest.us.sentry.io/4507000000000001"}),
    json.dumps({"type": "event"}),
    json.dumps({"event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "platform": "javascript", "level": "error",
                "message": "Failed to load usage chart", "user": {"id": USER["id"]},
                "request": {"url": "https://platform.acme.ai/usage", "headers": {"User-Agent": UA}}}),
])
intercom = urllib.parse.urlencode({"app_id": "acmeintercom1", "v": "3", "g": "1",
    "user_data": json.dumps({"user_id": USER["id"], "email": USER["email"], "name": USER["name"]}),
    "referer": "https://platform.acme.ai/usage"})

mp = "https://api-js.mixpanel.com"
q = "?verbose=1&ip=1&_=%d" % (T0 * 1000)
har = {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
    "pages": [{"startedDateTime": "2025-11-25T15:59:59.001Z", "id": "page_1",
               "title": "https://platform.acme.ai/usage", "pageTimings": {"onContentLoad": 401.2, "onLoad": 790.4}}],
    "entries": [
        entry(0, "GET", "https://platform.acme.ai/api/me", mime="application/json",
              resp=json.dumps({"id": USER["id"], "email": USER["email"], "fullName": USER["name"], "orgId": USER["org"]})),
        entry(1, "POST", mp + "/track/" + q, "data=" + urllib.parse.quote(b64(identify)), resp='{"status":1,"error":null}'),
        entry(2, "POST", mp + "/engage/" + q, "data=" + urllib.parse.quote(b64(engage)), resp='{"status":1,"error":null}'),
        entry(3, "POST", mp + "/track/" + q, "data=" + urllib.parse.quote(b64(track)), resp='{"status":1,"error":null}'),
        entry(4, "POST", "https://o4507000000000000.ingest.us.sentry.io/api/4507000000000001/envelope/?sentry_key=examplePublicKey&sentry_version=7",
              sentry_envelope, mime="text/plain;charset=UTF-8"),
        entry(5, "POST", "https://api-iam.intercom.io/messenger/web/ping", intercom, resp='{"type":"user"}'),
    ]}}
with open("examples/acme-app/dashboard.har", "w") as f:
    json.dump(har, f, indent=2)
    f.write("\n")
