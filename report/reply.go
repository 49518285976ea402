package report

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxSupportReply is the longest communication the AWS Support API takes
// (AddCommunicationToCase's communicationBody).
const MaxSupportReply = 8000

// SupportReply is the text keyleak posts to the AWS support case: the
// answers the case asks for, in its order, one sentence each, in plain text
// (the Support Center shows no Markdown), and where the detail is. attached
// names the file sent with it ("" when none is).
func SupportReply(m *Model, o MarkdownOptions, attached string) (string, error) {
	t, err := newText(o.Lang, o.TZ)
	if err != nil {
		return "", fmt.Errorf("write support reply: %w", err)
	}
	t.plain = true
	st := &story{text: t, m: m, s: m.stats()}
	var b strings.Builder
	b.WriteString(t.tr("reply.intro", m.Case.KeyID, t.or(m.Case.AccountID, "unknown")))
	b.WriteString("\n\n")
	for i, a := range st.answerList() {
		b.WriteString(strconv.Itoa(i+1) + ". " + t.tr("reply.item", a.label, a.text) + "\n")
	}
	b.WriteString("\n")
	if attached != "" {
		b.WriteString(t.tr("reply.attached", attached))
	} else {
		b.WriteString(t.tr("reply.notAttached"))
	}
	b.WriteString(t.tr("sentSep") + t.tr("timesIn", t.zoneLong(st.s.First)) + "\n")
	if t.err != nil {
		return "", fmt.Errorf("write support reply: %w", t.err)
	}
	out := b.String()
	if len(out) > MaxSupportReply {
		cut := t.tr("reply.cut")
		out = strings.ToValidUTF8(out[:MaxSupportReply-len(cut)], "") + cut
	}
	return out, nil
}
