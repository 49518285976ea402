package awssim

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// urlValues is url.Values; the alias keeps call sites short.
type urlValues = url.Values

func parseQuery(s string) (url.Values, error) { return url.ParseQuery(s) }

// listParam reads an awsQuery/ec2Query list: prefix.1, prefix.2, ... (or
// prefix.member.1, ... when member is "member"). It stops at the first gap.
func listParam(p map[string]string, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := p[prefix+"."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

// structListParam reads a list of structures: prefix.N.Field values, as a
// slice of maps from field path (after "prefix.N.") to value, ordered by N.
func structListParam(p map[string]string, prefix string) []map[string]string {
	byIndex := map[int]map[string]string{}
	for k, v := range p {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		idx, field, ok := strings.Cut(rest, ".")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(idx)
		if err != nil {
			continue
		}
		if byIndex[n] == nil {
			byIndex[n] = map[string]string{}
		}
		byIndex[n][field] = v
	}
	keys := make([]int, 0, len(byIndex))
	for k := range byIndex {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	out := make([]map[string]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, byIndex[k])
	}
	return out
}
