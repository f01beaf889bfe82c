package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
)

// StartRequest is the body of POST /instances.
type StartRequest struct {
	// Name is the orchestrator's registered name (required).
	Name string `json:"name"`
	// ID is the instance id; empty means a new random id.
	ID string `json:"id,omitempty"`
	// Input is the orchestration's input as a payload (see Payloads in
	// the package doc); absent means null.
	Input json.RawMessage `json:"input,omitempty"`
	// Reuse is what to do when the id exists, as the CLI's --reuse:
	// "finished" (the default: replace a finished instance), "reject" or
	// "terminate" (replace a live one too).
	Reuse string `json:"reuse,omitempty"`
	// StartAt schedules the start (RFC 3339); empty means now.
	StartAt string `json:"startAt,omitempty"`
}

// ActionRequest is the optional body of terminate, suspend and resume.
type ActionRequest struct {
	// Reason is recorded with the action.
	Reason string `json:"reason,omitempty"`
}

// Links are the URLs of an instance's resources and actions: Durable
// Functions' async pattern (statusQueryGetUri, sendEventPostUri, ...).
// Events is a template: replace {name} with the event's name.
type Links struct {
	Status    string `json:"status"`    // GET: the instance
	Wait      string `json:"wait"`      // GET: long-poll until it ends (?timeout=)
	History   string `json:"history"`   // GET: the history export
	Events    string `json:"events"`    // POST: raise an event; a template with {name}
	Terminate string `json:"terminate"` // POST
	Suspend   string `json:"suspend"`   // POST
	Resume    string `json:"resume"`    // POST
	Purge     string `json:"purge"`     // DELETE
}

// Accepted is the body of a 202 answer to a start or an action.
type Accepted struct {
	InstanceID string `json:"instanceId"`
	Links      Links  `json:"links"`
}

// Instance is an instance's status (GET /instances/{id}, and the items
// of a listing): client.Status with its payloads as JSON.
type Instance struct {
	InstanceID       string               `json:"instanceId"`
	Name             string               `json:"name"`
	RuntimeStatus    client.RuntimeStatus `json:"runtimeStatus"`
	Input            json.RawMessage      `json:"input,omitempty"`
	Output           json.RawMessage      `json:"output,omitempty"`
	CustomStatus     json.RawMessage      `json:"customStatus,omitempty"`
	Failure          *client.Failure      `json:"failure,omitempty"`
	ParentInstanceID string               `json:"parentInstanceId,omitempty"`
	CreatedAt        time.Time            `json:"createdAt"`
	UpdatedAt        time.Time            `json:"updatedAt"`
	CompletedAt      time.Time            `json:"completedAt,omitzero"`
	ActivitiesDone   int                  `json:"activitiesDone"`
	ActivitiesTotal  int                  `json:"activitiesTotal"`
	Blocked          string               `json:"blocked,omitempty"`
	// Usage and SubOrchestrationUsage are null when the engine cannot
	// tell (see client.Status).
	Usage                 *client.Usage `json:"usage"`
	SubOrchestrationUsage *client.Usage `json:"subOrchestrationUsage"`
	Links                 Links         `json:"links"`
}

// InstanceList is a page of GET /instances.
type InstanceList struct {
	Instances []*Instance `json:"instances"`
	// NextPageToken continues the listing (?page_token=); empty on the
	// last page.
	NextPageToken string `json:"nextPageToken,omitempty"`
	// Next is the URL of the next page; empty on the last page.
	Next string `json:"next,omitempty"`
}

// links returns the links of instance id under base.
func links(base, id string) Links {
	p := base + "/instances/" + url.PathEscape(id)
	return Links{Status: p, Wait: p + "/wait", History: p + "/history", Events: p + "/events/{name}",
		Terminate: p + "/terminate", Suspend: p + "/suspend", Resume: p + "/resume", Purge: p}
}

// payloads renders and reads payloads: JSON values for the JSON codec,
// base64 strings for any other.
type payloads struct{ json bool }

// render returns b as a JSON value; nil for no payload.
func (p payloads) render(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	if p.json && json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(base64.StdEncoding.EncodeToString(b))
	return s
}

// read returns the payload bytes of a JSON value from a request (raw
// must be valid JSON); field names it in errors.
func (p payloads) read(field string, raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 {
		raw = json.RawMessage("null")
	}
	if p.json {
		return raw, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, badField(field, "%s: the engine's codec is not JSON: want the payload as a base64 string", field)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, badField(field, "%s: not base64: %v", field, err)
	}
	return b, nil
}

func (a *api) instance(st *client.Status) *Instance {
	return &Instance{InstanceID: st.InstanceID, Name: st.Name, RuntimeStatus: st.RuntimeStatus,
		Input: a.payloads.render(st.Input), Output: a.payloads.render(st.Output), CustomStatus: a.payloads.render(st.CustomStatus),
		Failure: st.Failure, ParentInstanceID: st.ParentInstanceID,
		CreatedAt: st.CreatedAt, UpdatedAt: st.UpdatedAt, CompletedAt: st.CompletedAt,
		ActivitiesDone: st.ActivitiesDone, ActivitiesTotal: st.ActivitiesTotal, Blocked: st.Blocked,
		Usage: st.Usage, SubOrchestrationUsage: st.SubOrchestrationUsage, Links: links(a.base, st.InstanceID)}
}
