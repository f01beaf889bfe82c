package sqlite

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
)

// appendEvent appends e as JSON, the same document json.Marshal writes
// (replay.Event's field tags), without reflection: history encoding is on
// the hot path of every step.
func appendEvent(b []byte, e *replay.Event) ([]byte, error) {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, e.Index, 10)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, string(e.Type))
	b = append(b, `,"time":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if e.TaskID != 0 {
		b = append(b, `,"taskId":`...)
		b = strconv.AppendInt(b, e.TaskID, 10)
	}
	b = appendString(b, "name", e.Name)
	b = appendString(b, "instanceId", e.InstanceID)
	b = appendString(b, "parentId", e.ParentID)
	if e.ParentTaskID != 0 {
		b = append(b, `,"parentTaskId":`...)
		b = strconv.AppendInt(b, e.ParentTaskID, 10)
	}
	if e.Generation != 0 {
		b = append(b, `,"generation":`...)
		b = strconv.AppendInt(b, int64(e.Generation), 10)
	}
	b = appendString(b, "runId", e.RunID)
	if len(e.Payload) > 0 {
		b = append(b, `,"payload":`...)
		b = replay.AppendPayload(b, e.Payload)
	}
	var err error
	if e.Failure != nil {
		if b, err = appendJSON(b, "failure", e.Failure); err != nil {
			return nil, err
		}
	}
	if e.Trace != nil {
		if b, err = appendJSON(b, "trace", e.Trace); err != nil {
			return nil, err
		}
	}
	if !e.FireAt.IsZero() {
		b = append(b, `,"fireAt":"`...)
		b = e.FireAt.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	if e.Options != nil && !zeroOptions(e.Options) {
		if b, err = appendJSON(b, "options", e.Options); err != nil {
			return nil, err
		}
	}
	if e.Attempt != 0 {
		b = append(b, `,"attempt":`...)
		b = strconv.AppendInt(b, int64(e.Attempt), 10)
	}
	if a := e.Attempts; a != nil {
		b = append(b, `,"attempts":{`...)
		if !a.StartedAt.IsZero() {
			b = append(b, `"startedAt":"`...)
			b = a.StartedAt.AppendFormat(b, time.RFC3339Nano)
			b = append(b, '"')
			if len(a.Retried) > 0 {
				b = append(b, ',')
			}
		}
		if len(a.Retried) > 0 {
			if b, err = appendJSONField(b, "retried", a.Retried); err != nil {
				return nil, err
			}
		}
		b = append(b, '}')
	}
	if e.Version != 0 {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, int64(e.Version), 10)
	}
	if len(e.Carried) > 0 {
		if b, err = appendJSON(b, "carried", e.Carried); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func zeroOptions(o *core.ActivityOptions) bool {
	return o.Retry == nil && o.StartToClose == 0 && o.HeartbeatTimeout == 0 && o.Key == ""
}

func appendString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return appendJSONString(b, s)
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped as JSON has them (\u00XX), everything else
// as is. s must be valid UTF-8 (the client refuses other ids and names).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendJSON(b []byte, key string, v any) ([]byte, error) {
	return appendJSONField(append(b, ','), key, v)
}

// appendJSONField appends "key":v, v as encoding/json writes it.
func appendJSONField(b []byte, key string, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return append(b, data...), nil
}
