package cli

import (
	"encoding/json"
	"fmt"
	"github.com/keyleak/keyleak/playbook"
	"io"
)

// printResult writes a command's result on stdout: v as indented JSON with
// -o json, else the text that render makes (render is not called for
// JSON). Every command prints through it, so -o json stays one document.
func printResult(w io.Writer, format outputFormat, v any, render func() string) error {
	if format == outputJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
		return nil
	}
	if _, err := io.WriteString(w, render()); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

// checkKey validates a key ID given on the command line: a usage error when
// it is not one, and a one-line note on w when it is valid but not in the
// form AWS issues (anonymised data).
func checkKey(w io.Writer, key string) error {
	if err := playbook.ValidateKeyID(key); err != nil {
		return &UsageError{Err: err}
	}
	if n := playbook.KeyIDNote(key); n != "" {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}
