package playbook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/keyleak/keyleak/internal/redact"
	"github.com/keyleak/keyleak/resource"
)

// EvidenceDir is the case's folder of evidence kept before removals:
// evidence/<kind>/<region>/<id>/, one folder per resource, each with a
// manifest.json that lists its files and what could not be kept.
const EvidenceDir = "evidence"

// ManifestFile is written last into a resource's evidence folder: its
// presence means the evidence was kept, and a re-run keeps it again only
// if it is missing.
const ManifestFile = "manifest.json"

// evidenceAPI names the eradicate action that keeps a resource's evidence
// before its removal calls; its AWS calls are journaled one by one.
const evidenceAPI = "KeepEvidence"

// maxDownload bounds a downloaded code package: Lambda's largest
// deployment package is 250 MB unzipped.
const maxDownload = 256 << 20

// HTTPDoer fetches the presigned URLs AWS hands out; aws.HTTPClient and
// *http.Client satisfy it.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// WithEvidence makes Eradicate keep evidence of every resource whose kind
// has Evidence before removing it (snapshots of an instance's volumes, its
// console output, user data and metadata; a function's code and
// configuration; a user's or role's policy documents), into the case's
// evidence folder, downloading with h. Without it nothing is kept.
func WithEvidence(h HTTPDoer) Option {
	return func(r *Runner) {
		if h == nil {
			h = http.DefaultClient
		}
		r.evidence = h
	}
}

// EvidenceFile is one file kept.
type EvidenceFile struct {
	Name   string `json:"name"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// EvidenceGap is a piece that could not be kept, and why.
type EvidenceGap struct {
	What  string `json:"what"`
	Error string `json:"error"`
}

// Manifest describes one resource's evidence.
type Manifest struct {
	Case    string         `json:"case"`
	Type    string         `json:"type"`
	ID      string         `json:"id"`
	Region  string         `json:"region"`
	Kept    time.Time      `json:"kept"`
	Files   []EvidenceFile `json:"files"`
	Missing []EvidenceGap  `json:"missing"`
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// EvidencePath is the folder of a resource's evidence, relative to the
// case: evidence/ec2-instance/us-east-1/i-0123….
func EvidencePath(t Target) string {
	kind := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(t.Type, "AWS::"), "::", "-"))
	clean := func(s string) string {
		s = strings.Trim(unsafeName.ReplaceAllString(s, "_"), "._")
		if s == "" {
			s = "_"
		}
		return s
	}
	return filepath.Join(EvidenceDir, clean(kind), clean(t.Region), clean(t.ID))
}

// evidenceAction is the action that keeps t's evidence; in place when the
// manifest is there.
func (r *Runner) evidenceAction(t Target, k resource.Kind) Action {
	rel := EvidencePath(t)
	_, err := os.Stat(filepath.Join(r.c.Dir(), rel, ManifestFile))
	return Action{
		ID:      StepEradicate + "/" + evidenceAPI + "/" + t.Region + "/" + t.ID,
		Service: "keyleak", Name: evidenceAPI,
		Params:      map[string]string{"Region": t.Region, "Type": t.Type, "ID": t.ID, "Dir": rel},
		Description: fmt.Sprintf("keep evidence of %s %s (%s) in %s before removing it", k.Title, t.ID, t.Region, rel),
		InPlace:     err == nil,
	}
}

// keepEvidence runs the kind's Evidence for t and writes the manifest.
// Pieces AWS refuses are noted in the manifest and warned about; only a
// failure to write into the case stops the removal.
func (r *Runner) keepEvidence(ctx context.Context, st *State, rec *recorder, t Target, k resource.Kind, c *resource.Clients) error {
	rel := EvidencePath(t)
	kp := &keeper{r: r, rec: rec, st: st, rel: rel, dir: filepath.Join(r.c.Dir(), rel)}
	if err := os.MkdirAll(kp.dir, 0o700); err != nil {
		return fmt.Errorf("make evidence folder %s: %w", rel, err)
	}
	if err := k.Evidence(ctx, c, t.resource(), kp); err != nil {
		return fmt.Errorf("keep evidence of %s: %w", t, err)
	}
	m := Manifest{Case: kp.CaseID(), Type: t.Type, ID: t.ID, Region: t.Region, Kept: r.now().UTC(),
		Files: kp.files, Missing: kp.missing}
	if m.Files == nil {
		m.Files = []EvidenceFile{}
	}
	if m.Missing == nil {
		m.Missing = []EvidenceGap{}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode evidence manifest: %w", err)
	}
	if err := writeFileAtomic(kp.dir, ManifestFile, append(b, '\n')); err != nil {
		return err
	}
	names := make([]string, 0, len(m.Files))
	for _, f := range m.Files {
		names = append(names, f.Name)
	}
	msg := fmt.Sprintf("evidence of %s kept in %s: %s", t, rel, strings.Join(names, ", "))
	if len(m.Missing) > 0 {
		var gaps []string
		for _, g := range m.Missing {
			gaps = append(gaps, g.What)
		}
		msg += "; not kept: " + strings.Join(gaps, ", ")
	}
	return st.Note(ctx, msg)
}

// keeper is the resource.Keeper of one resource's evidence.
type keeper struct {
	r        *Runner
	rec      *recorder
	st       *State
	rel, dir string
	files    []EvidenceFile
	missing  []EvidenceGap
}

func (k *keeper) CaseID() string { return filepath.Base(k.r.c.Dir()) }

func (k *keeper) Call(ctx context.Context, action string, params map[string]string, do func() (any, error)) error {
	service, api, _ := strings.Cut(action, ":")
	_, err := record(ctx, k.rec, service, api, params, do)
	return err
}

func (k *keeper) Save(name string, data []byte) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := writeFileAtomic(k.dir, name, data); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	k.files = append(k.files, EvidenceFile{Name: name, Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
	return nil
}

// Missing notes a piece not kept; AWS's message is redacted, since the
// manifest and the warning are text keyleak writes and prints.
func (k *keeper) Missing(what string, err error) {
	msg := redact.Text(err.Error())
	k.missing = append(k.missing, EvidenceGap{What: what, Error: msg})
	k.st.Warn("evidence of %s: %s not kept: %s", k.rel, what, msg)
}

// Download fetches a presigned URL with a plain GET (no credentials of
// keyleak's go with it) into the evidence folder, and journals what was
// kept; the URL itself is not journaled, it carries AWS's token.
func (k *keeper) Download(ctx context.Context, name, url string) error {
	if err := checkName(name); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("download %s: %w", name, err)
	}
	resp, err := k.r.evidence.Do(req)
	if err != nil {
		return fmt.Errorf("download %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: HTTP %d", name, resp.StatusCode)
	}
	tmp, err := os.CreateTemp(k.dir, "."+name+".tmp*")
	if err != nil {
		return fmt.Errorf("download %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(resp.Body, maxDownload+1))
	if err == nil && n > maxDownload {
		err = fmt.Errorf("larger than %d bytes", maxDownload)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(k.dir, name))
	}
	if err != nil {
		return fmt.Errorf("download %s: %w", name, err)
	}
	f := EvidenceFile{Name: name, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}
	k.files = append(k.files, f)
	return k.st.Note(ctx, fmt.Sprintf("downloaded %s of %s from the location AWS gave (%d bytes, sha256 %s)", name, k.rel, f.Bytes, f.SHA256))
}

// writeFileAtomic writes dir/name, mode 0600, through a synced temporary
// file, as Case.WriteFile does for the case's own files.
func writeFileAtomic(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
