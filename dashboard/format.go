package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudbutton/cloudbutton/client"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"ts":       fmtTime,
	"dur":      fmtDuration,
	"lower":    func(s client.RuntimeStatus) string { return strings.ToLower(string(s)) },
	"pathesc":  url.PathEscape,
	"num":      fmtInt,
	"terminal": func(s client.RuntimeStatus) bool { return s.Terminal() },
	"statuses": func() []client.RuntimeStatus { return statuses },
}

// fmtTime shows a time in UTC to the millisecond; zero is empty.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05.000")
}

// fmtDuration is a short, human duration: 850µs, 12ms, 1.25s, 3m04s, 2h05m.
func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}

// fmtInt writes n with thousands separators.
func fmtInt(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// maxPayloadShown bounds a payload on the page.
const maxPayloadShown = 64 << 10

// payloadView is a payload as the page shows it.
type payloadView struct {
	Text  string
	More  int // bytes left out
	Bytes int // its size
	Empty bool
}

// viewPayload renders a codec-encoded payload: indented JSON when it is
// JSON, text when it is UTF-8, else hex; at most maxPayloadShown bytes.
func viewPayload(data []byte) payloadView {
	v := payloadView{Bytes: len(data), Empty: len(data) == 0}
	if v.Empty {
		return v
	}
	shown := data
	if len(shown) > maxPayloadShown {
		shown = shown[:maxPayloadShown]
		v.More = len(data) - len(shown)
	}
	var buf bytes.Buffer
	switch {
	case v.More == 0 && json.Valid(data) && json.Indent(&buf, data, "", "  ") == nil:
		v.Text = buf.String()
	case utf8.Valid(shown) || v.More > 0 && utf8.Valid(shown[:max(0, len(shown)-utf8.UTFMax)]):
		v.Text = strings.ToValidUTF8(string(shown), "")
	default:
		v.Text = fmt.Sprintf("(%d bytes, not text) % x", len(data), shown[:min(len(shown), 256)])
	}
	return v
}

// compactJSON is data compacted, or nil when it is not JSON.
func compactJSON(data []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, data) != nil {
		return nil
	}
	return buf.Bytes()
}
