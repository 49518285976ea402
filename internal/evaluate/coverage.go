package evaluate

import (
	"bufio"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/keyleak/keyleak/assess"
)

//go:embed data/catalogs/*.txt
var catalogs embed.FS

// TrailDiscover is the catalog whose "wild" marks say which events were
// used in real attacks.
const TrailDiscover = "traildiscover"

// Pair is one CloudTrail event a public catalog names.
type Pair struct {
	Source string `json:"eventSource"`
	Name   string `json:"eventName"`
}

func (p Pair) String() string { return p.Source + ":" + p.Name }

// SourceCatalog is the list of events one public detection catalog names
// (data/catalogs/<key>.txt).
type SourceCatalog struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	URL   string `json:"url"`
	// Pairs are the events, sorted; Wild those of them the catalog says
	// were used in real attacks; Refs the catalog's entries naming each.
	Pairs []Pair            `json:"-"`
	Wild  map[Pair]bool     `json:"-"`
	Refs  map[Pair][]string `json:"-"`
}

// LoadCatalogs reads the embedded public catalogs, in key order.
func LoadCatalogs() ([]SourceCatalog, error) {
	files, err := fs.Glob(catalogs, "data/catalogs/*.txt")
	if err != nil {
		return nil, fmt.Errorf("list catalogs: %w", err)
	}
	var out []SourceCatalog
	for _, f := range files {
		c, err := readCatalog(f)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// readCatalog parses one catalog file: "# " header lines (title, then
// URL), then "eventSource eventName [wild] [was=...] [ref=a,b]" lines.
func readCatalog(file string) (SourceCatalog, error) {
	f, err := catalogs.Open(file)
	if err != nil {
		return SourceCatalog{}, fmt.Errorf("open catalog: %w", err)
	}
	defer f.Close()
	c := SourceCatalog{Key: strings.TrimSuffix(path.Base(file), ".txt"), Wild: map[Pair]bool{}, Refs: map[Pair][]string{}}
	header := 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			switch header++; header {
			case 1:
				c.Title = strings.TrimSpace(strings.TrimPrefix(line, "#"))
			case 2:
				c.URL, _, _ = strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), " ")
			}
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			return c, fmt.Errorf("read catalog %s: line %d: want eventSource eventName", file, n)
		}
		p := Pair{Source: fields[0], Name: fields[1]}
		c.Pairs = append(c.Pairs, p)
		for _, tag := range fields[2:] {
			switch {
			case tag == "wild":
				c.Wild[p] = true
			case strings.HasPrefix(tag, "ref="):
				c.Refs[p] = strings.Split(strings.TrimPrefix(tag, "ref="), ",")
			}
		}
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("read catalog %s: %w", file, err)
	}
	sort.Slice(c.Pairs, func(i, j int) bool { return c.Pairs[i].String() < c.Pairs[j].String() })
	return c, nil
}

// CoverageRow is how many of a set of events the rules recognise.
type CoverageRow struct {
	Set        string   `json:"set"` // a catalog's key, or a derived set
	Title      string   `json:"title"`
	Named      int      `json:"named"`
	Recognised int      `json:"recognised"`
	Missing    []string `json:"missing"` // eventSource:eventName, sorted
}

// Percent is the share recognised, 100 for an empty set.
func (r CoverageRow) Percent() float64 {
	if r.Named == 0 {
		return 100
	}
	return 100 * float64(r.Recognised) / float64(r.Named)
}

// Derived sets of events.
const (
	SetAll       = "all"
	SetTwoOrMore = "two-or-more"
	SetWild      = "traildiscover-wild"
)

// Coverage is how many of the events the public catalogs name the rules
// recognise: per catalog, then for all of them together, for the events
// two or more catalogs name, and for TrailDiscover's events used in the
// wild.
type Coverage struct {
	Sources []CoverageRow `json:"sources"`
	Sets    []CoverageRow `json:"sets"`
}

// Row returns the row of a catalog key or a derived set.
func (c Coverage) Row(set string) (CoverageRow, bool) {
	for _, r := range append(slices.Clone(c.Sources), c.Sets...) {
		if r.Set == set {
			return r, true
		}
	}
	return CoverageRow{}, false
}

// EvalCoverage measures the rules against the public catalogs.
func EvalCoverage(cat *assess.Catalog) (Coverage, error) {
	cats, err := LoadCatalogs()
	if err != nil {
		return Coverage{}, err
	}
	recognised := func(p Pair) bool { return len(cat.Named(p.Source, p.Name)) > 0 }
	row := func(set, title string, pairs []Pair) CoverageRow {
		r := CoverageRow{Set: set, Title: title, Named: len(pairs), Missing: []string{}}
		for _, p := range pairs {
			if recognised(p) {
				r.Recognised++
			} else {
				r.Missing = append(r.Missing, p.String())
			}
		}
		sort.Strings(r.Missing)
		return r
	}
	var cov Coverage
	by := map[Pair]int{}
	var wild []Pair
	for _, c := range cats {
		cov.Sources = append(cov.Sources, row(c.Key, c.Title, c.Pairs))
		for _, p := range c.Pairs {
			by[p]++
			if c.Key == TrailDiscover && c.Wild[p] {
				wild = append(wild, p)
			}
		}
	}
	var all, multi []Pair
	for p, n := range by {
		all = append(all, p)
		if n >= 2 {
			multi = append(multi, p)
		}
	}
	cov.Sets = []CoverageRow{
		row(SetTwoOrMore, "named by two or more catalogs", multi),
		row(SetWild, "TrailDiscover: used in real attacks", wild),
		row(SetAll, "named by any catalog", all),
	}
	return cov, nil
}
