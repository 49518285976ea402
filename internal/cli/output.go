package cli

import (
	"encoding/json"
	"fmt"
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
