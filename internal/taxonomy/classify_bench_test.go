package taxonomy

import (
	"fmt"
	"strings"
	"testing"
)

// mixpanelBatch builds a realistic /track or /import body of about size
// bytes: a JSON array of Mixpanel events with ~20 properties each, mixing
// neutral values (times, insert ids, versions, screen sizes) with personal
// ones (e-mails, IPs, phone numbers in free text, URLs with e-mails).
func mixpanelBatch(size int) []byte {
	events := []string{"Sign Up", "Page View", "Checkout Completed", "Support Message", "Feature Used"}
	browsers := []string{"Chrome", "Safari", "Firefox", "Edge"}
	oses := []string{"Mac OS X", "Windows", "iOS", "Android", "Linux"}
	cities := []string{"San Francisco", "London", "Paris", "Berlin", "Amsterdam"}
	notes := []string{
		"Loved the onboarding, thanks!",
		"Please call me back on +44 20 7946 %04d about my invoice",
		"Reach me at user%d@example.com if anything changes",
		"Deliver to %d Baker Street, London, ring twice",
		"Order arrived damaged, ticket #%d",
	}
	var b strings.Builder
	b.Grow(size + 2048)
	b.WriteByte('[')
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		note := notes[i%len(notes)]
		if strings.Contains(note, "%") {
			note = fmt.Sprintf(note, i%10000)
		}
		fmt.Fprintf(&b, `{"event":%q,"properties":{"token":"0f3a9c1b2d4e5f60718293a4b5c6d7e8","time":%d,`+
			`"distinct_id":"u_%d","$insert_id":"5d958f87-542d-4e37-%04x-6c7b1f1d5a01","$device_id":"18f0c2a4d1e-%x",`+
			`"$browser":%q,"$browser_version":%d,"$os":%q,"$screen_height":1117,"$screen_width":1728,`+
			`"$current_url":"https://platform.example.com/usage?tab=%d&invite=user%d%%40example.com",`+
			`"$referrer":"https://www.google.com/","$referring_domain":"www.google.com","mp_lib":"web","$lib_version":"2.55.1",`+
			`"utm_source":"newsletter","$city":%q,"mp_country_code":"US","$ip":"203.0.%d.%d","org_id":"org-%d",`+
			`"plan":"pay-as-you-go","note":%q,"amount":%d.%02d,"items":[{"name":"Pro plan","sku":"PRO-1Y","quantity":%d}]}}`,
			events[i%len(events)], 1732540000000+int64(i)*977, i%5000, i%65536, i*7919,
			browsers[i%len(browsers)], 120+i%12, oses[i%len(oses)],
			i%7, i, cities[i%len(cities)], i%256, (i*13)%256, i%300,
			note, i%500, i%100, 1+i%3)
	}
	b.WriteByte(']')
	return []byte(b.String())
}

func BenchmarkScanJSON(b *testing.B) {
	c := DefaultClassifier()
	doc := mixpanelBatch(1 << 20)
	n := 0
	if err := c.ScanJSON(doc, func(string, Finding) { n++ }); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := c.ScanJSON(doc, func(string, Finding) {}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "findings/doc")
}

func BenchmarkValue(b *testing.B) {
	c := DefaultClassifier()
	for _, v := range []struct{ name, s string }{
		{"neutral", "Mac OS X"},
		{"uuid", "5d958f87-542d-4e37-9e0b-6c7b1f1d5a01"},
		{"url", "https://platform.example.com/usage?tab=3"},
		{"email", "ada@example.com"},
		{"phone", "+1 415 555 0100"},
		{"text", "Please call me back on +44 20 7946 0958 about my invoice"},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(int64(len(v.s)))
			b.ReportAllocs()
			for b.Loop() {
				c.Value(v.s)
			}
		})
	}
}
