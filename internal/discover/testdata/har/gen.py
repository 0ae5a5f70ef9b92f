import json, base64, gzip, urllib.parse, io

def b64(obj):
    return base64.b64encode(json.dumps(obj, separators=(',', ':')).encode()).decode()

mp_track = [
  {"event": "$mp_web_page_view", "properties": {
    "$os": "Mac OS X", "$browser": "Chrome", "$current_url": "https://platform.acme.ai/dashboard",
    "$browser_version": 131, "$screen_height": 982, "$screen_width": 1512, "mp_lib": "web", "$lib_version": "2.55.1",
    "$insert_id": "q3k9x2m1v7b4n8c5", "time": 1731945600.123, "distinct_id": "user_8a7f3c",
    "$device_id": "19331e2a1b5-0c8a4d7e", "$user_id": "user_8a7f3c", "token": "6a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "$email": "ada@example.com", "$name": "Ada Lovelace", "$city": "London", "mp_country_code": "GB"}},
  {"event": "Report Exported", "properties": {
    "report_id": "rpt_2291", "format": "csv", "$browser": "Chrome", "distinct_id": "user_8a7f3c",
    "$insert_id": "z8y7x6w5v4u3t2s1", "time": 1731945609.877, "token": "6a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "$email": "ada@example.com"}},
]
mp_track2 = [
  {"event": "Dashboard Filter Changed", "properties": {
    "filter": "last_30_days", "distinct_id": "user_8a7f3c", "$browser": "Chrome",
    "$insert_id": "a1s2d3f4g5h6j7k8", "time": 1731945612.5, "token": "6a1b2c3d4e5f60718293a4b5c6d7e8f9"}},
]
mp_engage = [
  {"$token": "6a1b2c3d4e5f60718293a4b5c6d7e8f9", "$distinct_id": "user_8a7f3c", "$device_id": "19331e2a1b5-0c8a4d7e",
   "$set": {"$email": "ada@example.com", "$name": "Ada Lovelace", "$phone": "+44 20 7946 0958", "plan": "enterprise"}},
]
seg_batch = {
  "batch": [
    {"type": "identify", "userId": "user_8a7f3c", "anonymousId": "5d1c2b8e-1f0a-4b7e-9c3d-2a6f8e0b1c4d",
     "traits": {"email": "ada@example.com", "name": "Ada Lovelace", "company": "Analytical Engines Ltd"},
     "messageId": "ajs-next-1731945600123-abc", "timestamp": "2024-11-18T16:00:00.123Z"},
    {"type": "track", "event": "Report Exported", "userId": "user_8a7f3c",
     "properties": {"report_id": "rpt_2291", "format": "csv"},
     "messageId": "ajs-next-1731945609877-def", "timestamp": "2024-11-18T16:00:09.877Z"},
  ],
  "context": {"ip": "203.0.113.7", "library": {"name": "analytics.js", "version": "next-1.74.0"},
              "page": {"url": "https://platform.acme.ai/dashboard", "title": "Dashboard"},
              "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)", "locale": "en-GB"},
  "writeKey": "wk_9f8e7d6c5b4a39281706f5e4d3c2b1a0", "sentAt": "2024-11-18T16:00:10.001Z",
}

def form(d):
    return urllib.parse.urlencode(d)

def hdr(pairs):
    return [{"name": n, "value": v} for n, v in pairs]

UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

def chrome_entry(method, url, headers=(), post=None, cookies=(), status=200, mime="text/plain", resp_text="", page="page_1"):
    u = urllib.parse.urlsplit(url)
    path = u.path + ("?" + u.query if u.query else "")
    h = [(":authority", u.netloc), (":method", method), (":path", path), (":scheme", u.scheme),
         ("accept", "*/*"), ("accept-encoding", "gzip, deflate, br, zstd"), ("accept-language", "en-GB,en;q=0.9"),
         ("origin", "https://platform.acme.ai"), ("referer", "https://platform.acme.ai/dashboard"),
         ("sec-ch-ua", '"Google Chrome";v="131", "Chromium";v="131"'), ("sec-fetch-mode", "cors"),
         ("user-agent", UA)] + list(headers)
    req = {"method": method, "url": url, "httpVersion": "http/2.0", "headers": hdr(h),
           "queryString": [{"name": k, "value": v} for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True)],
           "cookies": list(cookies), "headersSize": -1, "bodySize": len(post["text"]) if post else 0}
    if post:
        req["postData"] = post
    return {
      "_initiator": {"type": "script", "stack": {"callFrames": [{"functionName": "t", "scriptId": "41", "url": "https://platform.acme.ai/assets/app.js", "lineNumber": 0, "columnNumber": 18211}]}},
      "_priority": "High", "_resourceType": "fetch" if method != "GET" else "xhr", "cache": {}, "connection": "443",
      "pageref": page, "request": req,
      "response": {"status": status, "statusText": "", "httpVersion": "http/2.0",
                   "headers": hdr([("content-type", mime)]), "cookies": [],
                   "content": {"size": len(resp_text), "mimeType": mime, "text": resp_text},
                   "redirectURL": "", "headersSize": -1, "bodySize": -1, "_transferSize": 312, "_error": None},
      "serverIPAddress": "35.190.25.25", "startedDateTime": "2024-11-18T16:00:00.123Z", "time": 84.2,
      "timings": {"blocked": 1.2, "dns": -1, "ssl": -1, "connect": -1, "send": 0.1, "wait": 80.3, "receive": 2.6, "_blocked_queueing": 0.9}}

mp_params = "?verbose=1&ip=1&_=1731945600123"
chrome = {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
  "pages": [{"startedDateTime": "2024-11-18T15:59:59.001Z", "id": "page_1", "title": "https://platform.acme.ai/dashboard",
             "pageTimings": {"onContentLoad": 412.5, "onLoad": 803.1}}],
  "entries": [
    chrome_entry("GET", "https://platform.acme.ai/dashboard", mime="text/html", resp_text="<!doctype html><title>Dashboard</title>"),
    chrome_entry("GET", "https://platform.acme.ai/api/me", headers=[("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyXzhhN2YzYyJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ")],
                 mime="application/json", resp_text=json.dumps({"id": "user_8a7f3c", "email": "ada@example.com", "name": "Ada Lovelace"})),
    chrome_entry("POST", "https://platform.acme.ai/api/preferences?email=ada%40example.com",
                 post={"mimeType": "application/json", "text": json.dumps({"email": "ada@example.com", "phone": "+44 20 7946 0958"})}),
    chrome_entry("GET", "https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js", mime="application/javascript", resp_text="(function(){/* minified */})();"),
    chrome_entry("POST", "https://api-js.mixpanel.com/track/" + mp_params,
                 post={"mimeType": "application/x-www-form-urlencoded", "text": form({"data": b64(mp_track)}),
                       "params": [{"name": "data", "value": b64(mp_track)}]}, mime="application/json", resp_text='{"status":1,"error":null}'),
    chrome_entry("POST", "https://api-js.mixpanel.com/engage/" + mp_params,
                 post={"mimeType": "application/x-www-form-urlencoded", "text": form({"data": b64(mp_engage)})}, mime="application/json", resp_text='{"status":1,"error":null}'),
    chrome_entry("POST", "https://api-js.mixpanel.com/track/?verbose=1&ip=1&_=1731945612501",
                 post={"mimeType": "application/x-www-form-urlencoded", "text": form({"data": b64(mp_track2)})}, mime="application/json", resp_text='{"status":1,"error":null}'),
    chrome_entry("POST", "https://api.segment.io/v1/batch",
                 post={"mimeType": "text/plain", "text": json.dumps(seg_batch)}, mime="application/json", resp_text='{"success":true}'),
    chrome_entry("POST", "https://region1.google-analytics.com/g/collect?v=2&tid=G-7QX2Y8ZK1P&gtm=45je4bk0v9&_p=1731945600&cid=1781296233.1731945600&ul=en-gb&sr=1512x982&uid=user_8a7f3c&_s=1&sid=1731945600&sct=1&seg=0&dl=https%3A%2F%2Fplatform.acme.ai%2Fdashboard&dt=Dashboard&en=page_view&ep.user_email=ada%40example.com&up.plan=enterprise",
                 mime="text/plain", status=204),
    chrome_entry("GET", "https://collect.tinymetrics.io/e?site=acme&email=ada%40example.com&u=%2Fdashboard", mime="image/gif", resp_text=""),
    chrome_entry("GET", "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=", mime="image/svg+xml"),
    chrome_entry("GET", "chrome-extension://nngceckbapebfimnlniiiahkandclblb/content/bootstrap.js", mime="text/javascript"),
    chrome_entry("GET", "https://platform.acme.ai/api/reports?owner=ada%40example.com", mime="application/json", resp_text="[]"),
  ]}}
# the OPTIONS-free Chrome HAR: the GA4 hit is a POST with an empty body
for e in chrome["log"]["entries"]:
    if "g/collect" in e["request"]["url"]:
        e["request"]["method"] = "POST"
        for h in e["request"]["headers"]:
            if h["name"] == ":method": h["value"] = "POST"
with open("chrome-dashboard.har", "w") as f:
    json.dump(chrome, f, indent=2, ensure_ascii=False)
    f.write("\n")

# Firefox: page titles are document titles; binary bodies in base64.
amp = {"api_key": "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "events": [
  {"user_id": "ada.lovelace", "device_id": "b7c1e3a2-9d8f-4e6a-8b1c-3f2e1d0c9b8a", "session_id": 1731945600123,
   "event_type": "Invoice Viewed", "time": 1731945700456, "insert_id": "d3adb33f-0001",
   "event_properties": {"invoice_id": "inv_1042", "amount": 420.5},
   "user_properties": {"$set": {"email": "ada@example.com", "full_name": "Ada Lovelace"}},
   "platform": "Web", "os_name": "Firefox", "os_version": "132.0", "language": "en-GB", "ip": "$remote",
   "city": "London", "country": "United Kingdom"}],
  "options": {}}
gz = io.BytesIO()
with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as g:
    g.write(json.dumps({"events": [{"name": "checkout", "user": {"email": "ada@example.com", "phone": "+44 20 7946 0958"}}]}).encode())
FUA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:132.0) Gecko/20100101 Firefox/132.0"
def ff_entry(method, url, headers=(), post=None, cookies=()):
    u = urllib.parse.urlsplit(url)
    h = [("Host", u.netloc), ("User-Agent", FUA), ("Accept", "*/*"), ("Accept-Language", "en-GB,en;q=0.5"),
         ("Accept-Encoding", "gzip, deflate, br, zstd"), ("Referer", "https://app.acme.ai/billing"),
         ("Origin", "https://app.acme.ai"), ("Connection", "keep-alive"), ("Sec-Fetch-Dest", "empty")] + list(headers)
    req = {"bodySize": 0, "method": method, "url": url, "httpVersion": "HTTP/2", "headers": hdr(h),
           "cookies": list(cookies), "queryString": [{"name": k, "value": v} for k, v in urllib.parse.parse_qsl(u.query)], "headersSize": 512}
    if post: req["postData"] = post
    return {"pageref": "page_1", "startedDateTime": "2024-11-18T16:01:40.456+00:00",
            "request": req,
            "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2", "headers": [], "cookies": [],
                         "content": {"mimeType": "application/json", "size": 0, "text": ""}, "redirectURL": "", "headersSize": 180, "bodySize": 0},
            "cache": {}, "timings": {"blocked": 0, "dns": 0, "connect": 0, "ssl": 0, "send": 0, "wait": 41, "receive": 0},
            "time": 41, "_securityState": "secure", "serverIPAddress": "34.120.195.249", "connection": "443"}

firefox = {"log": {"version": "1.2", "creator": {"name": "Firefox", "version": "132.0"},
  "browser": {"name": "Firefox", "version": "132.0"},
  "pages": [{"startedDateTime": "2024-11-18T16:01:39.000+00:00", "id": "page_1", "title": "Billing · Acme", "pageTimings": {"onContentLoad": 380, "onLoad": 702}}],
  "entries": [
    ff_entry("GET", "https://app.acme.ai/billing"),
    ff_entry("POST", "https://api2.amplitude.com/2/httpapi", headers=[("Content-Type", "application/json")],
             post={"mimeType": "application/json", "params": [], "text": base64.b64encode(json.dumps(amp).encode()).decode(), "encoding": "base64"}),
    ff_entry("POST", "https://events.pulseboard.dev/v1/ingest", headers=[("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
             post={"mimeType": "application/json", "params": [], "text": base64.b64encode(gz.getvalue()).decode(), "encoding": "base64"}),
    ff_entry("GET", "https://pixel.tinyads.net/sync?pid=42", headers=[("X-User-Email", "ada@example.com"), ("Cookie", "tinyads_uid=ta.88213; ajs_user_id=user_8a7f3c")],
             cookies=[{"name": "tinyads_uid", "value": "ta.88213"}, {"name": "ajs_user_id", "value": "user_8a7f3c"}]),
    ff_entry("GET", "https://api.tinymetrics.io/v1/users/ada%40example.com/profile"),
    ff_entry("GET", "https://app.acme.ai/api/invoices/inv_1042?email=ada%40example.com"),
    ff_entry("GET", "blob:https://app.acme.ai/2f1e6c1a-0d3b-4c52-9f7e-4e8d1a2b3c4d"),
  ]}}
with open("firefox-billing.har", "w") as f:
    json.dump(firefox, f, indent=2, ensure_ascii=False)
    f.write("\n")

# A proxy capture (HAR 1.1, a BOM, no pages) of server-side calls.
mp = {"client_id": "1781296233.1731945600", "user_id": "user_8a7f3c",
      "user_properties": {"plan": {"value": "enterprise"}},
      "user_data": {"sha256_email_address": "f1c9645dbc14efddc7d8a322685f26eb9f2a33c0d9c8d4e0a1f3b1e0c2d4f6a8"},
      "events": [{"name": "purchase", "params": {"transaction_id": "T-1042", "value": 420.5, "currency": "GBP", "customer_email": "ada@example.com"}}]}
proxy = {"log": {"version": "1.1", "creator": {"name": "Charles Proxy", "version": "4.6.7"},
  "entries": [
    {"startedDateTime": "2024-11-18T16:05:00.000Z", "time": 120,
     "request": {"method": "POST", "url": "https://api.acme.ai/internal/orders", "httpVersion": "HTTP/1.1",
                 "cookies": [], "headers": hdr([("Content-Type", "application/json")]), "queryString": [],
                 "postData": {"mimeType": "application/json", "text": json.dumps({"order": "T-1042", "email": "ada@example.com"})},
                 "headersSize": 120, "bodySize": 48},
     "response": {"status": 201, "statusText": "Created", "httpVersion": "HTTP/1.1", "cookies": [], "headers": [],
                  "content": {"size": 0, "mimeType": "application/json"}, "redirectURL": "", "headersSize": 80, "bodySize": 0},
     "cache": {}, "timings": {"send": 1, "wait": 118, "receive": 1}},
    {"startedDateTime": "2024-11-18T16:05:00.200Z", "time": 95,
     "request": {"method": "POST", "url": "https://www.google-analytics.com/mp/collect?measurement_id=G-7QX2Y8ZK1P&api_secret=s3cr3t-Xy9",
                 "httpVersion": "HTTP/1.1", "cookies": [], "headers": hdr([("Content-Type", "application/json")]), "queryString": [],
                 "postData": {"mimeType": "application/json", "text": json.dumps(mp)}, "headersSize": 150, "bodySize": 300},
     "response": {"status": 204, "statusText": "No Content", "httpVersion": "HTTP/1.1", "cookies": [], "headers": [],
                  "content": {"size": 0, "mimeType": "text/plain"}, "redirectURL": "", "headersSize": 80, "bodySize": 0},
     "cache": {}, "timings": {"send": 1, "wait": 93, "receive": 1}},
    {"startedDateTime": "2024-11-18T16:05:00.400Z", "time": 60,
     "request": {"method": "POST", "url": "https://o4504.ingest.sentry.io/api/4504/envelope/?sentry_key=8d2c1b0a9f8e7d6c&sentry_version=7",
                 "httpVersion": "HTTP/1.1", "cookies": [], "headers": hdr([("Content-Type", "application/x-sentry-envelope")]), "queryString": [],
                 "postData": {"mimeType": "text/plain;charset=UTF-8",
                              "text": '{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","sent_at":"2024-11-18T16:05:00.400Z"}\n{"type":"event"}\n' +
                                      json.dumps({"message": "checkout failed", "user": {"id": "user_8a7f3c", "email": "ada@example.com", "ip_address": "203.0.113.7"}}) + "\n"},
                 "headersSize": 150, "bodySize": 300},
     "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "cookies": [], "headers": [],
                  "content": {"size": 0, "mimeType": "application/json"}, "redirectURL": "", "headersSize": 80, "bodySize": 0},
     "cache": {}, "timings": {"send": 1, "wait": 58, "receive": 1}},
  ]}}
with open("proxy-server.har", "w", encoding="utf-8-sig") as f:
    json.dump(proxy, f, indent=1)
    f.write("\n")
