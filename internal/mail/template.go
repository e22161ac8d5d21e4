package mail

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
	"text/template"
)

// Template is one notification's subject and body, parsed from a file
// that defines both.
type Template struct {
	t *template.Template
}

// MustParseTemplate parses the named file of fsys. It panics when the
// file does not parse or lacks a "subject" or "body" template: callers
// parse at package init, where a broken template is a programming error.
func MustParseTemplate(fsys fs.FS, name string) *Template {
	t := template.Must(template.New(path.Base(name)).Option("missingkey=error").ParseFS(fsys, name))
	for _, part := range []string{"subject", "body"} {
		if t.Lookup(part) == nil {
			panic(fmt.Sprintf("mail template %s defines no %q", name, part))
		}
	}
	return &Template{t: t}
}

// Render executes the subject and the body with data.
func (t *Template) Render(data any) (subject, body string, err error) {
	var s, b strings.Builder
	if err := t.t.ExecuteTemplate(&s, "subject", data); err != nil {
		return "", "", err
	}
	if err := t.t.ExecuteTemplate(&b, "body", data); err != nil {
		return "", "", err
	}
	return s.String(), b.String(), nil
}
