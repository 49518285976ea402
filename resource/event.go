package resource

import (
	"encoding/json"
	"strings"
)

// items returns the elements of a CloudTrail set: {"items":[...]} or a
// plain array.
func items(raw json.RawMessage) []json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	if raw[0] == '{' {
		var w struct {
			Items []json.RawMessage `json:"items"`
		}
		if json.Unmarshal(raw, &w) != nil {
			return nil
		}
		return w.Items
	}
	var arr []json.RawMessage
	if json.Unmarshal(raw, &arr) != nil {
		return nil
	}
	return arr
}

// field returns an object's scalar field as text.
func field(raw json.RawMessage, name string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	v := m[name]
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	if v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		return ""
	}
	if v[0] == '{' || v[0] == '[' {
		return ""
	}
	return strings.TrimSpace(string(v))
}

// first returns the first non-empty string.
func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// one is an extraction of a single resource, details optional.
func one(id string, details map[string]string) []Resource {
	return []Resource{{ID: id, Details: details}}
}
