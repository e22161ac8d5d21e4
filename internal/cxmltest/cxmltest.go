// Package cxmltest checks, in tests, that the documents the gateway writes
// validate against the official cXML DTDs. It runs xmllint (Debian's
// libxml2-utils) with --dtdvalid on the DTD that the document's DOCTYPE
// names, read from the directory in $CXML_DTD_DIR. A missing xmllint or DTD
// directory fails the test: an emitted document that cannot be checked is
// not assumed to be valid.
package cxmltest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// EnvDTDDir names the environment variable holding the DTD directory
// (../shared/conformance/dtd in this workspace; .ci/run and the Makefile
// set it).
const EnvDTDDir = "CXML_DTD_DIR"

var systemIDRe = regexp.MustCompile(`<!DOCTYPE\s+cXML\s+SYSTEM\s+"[^"]*/([A-Za-z]+\.dtd)"`)

// DTDDir returns the DTD directory or fails the test.
func DTDDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(EnvDTDDir)
	if dir == "" {
		t.Fatalf("%s is not set: point it at the official cXML DTDs (../shared/conformance/dtd); `make test` sets it", EnvDTDDir)
	}
	if _, err := os.Stat(filepath.Join(dir, "cXML.dtd")); err != nil {
		t.Fatalf("%s=%s holds no cXML.dtd: %v", EnvDTDDir, dir, err)
	}
	return dir
}

// DTDFor returns the DTD file name a document's DOCTYPE names.
func DTDFor(doc []byte) (string, bool) {
	head := doc
	if len(head) > 512 {
		head = head[:512]
	}
	m := systemIDRe.FindSubmatch(head)
	if m == nil {
		return "", false
	}
	return string(m[1]), true
}

// Validate fails the test unless doc validates against the official DTD
// its DOCTYPE names. A document without a DOCTYPE fails: everything the
// gateway writes names its DTD.
func Validate(t testing.TB, doc []byte) {
	t.Helper()
	if err := Check(DTDDir(t), doc); err != nil {
		t.Fatalf("emitted cXML does not validate: %v\n--- document ---\n%s", err, doc)
	}
}

// Check validates doc against the DTD in dir that its DOCTYPE names and
// returns xmllint's complaint, if any.
func Check(dir string, doc []byte) error {
	name, ok := DTDFor(doc)
	if !ok {
		return errorString("the document has no cXML DOCTYPE")
	}
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		return errorString("xmllint not found; install libxml2-utils (`make deps`)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--noout", "--nonet", "--dtdvalid", filepath.Join(dir, name), "-")
	cmd.Stdin = bytes.NewReader(doc)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return errorString(strings.TrimSpace(filterNoise(string(out))) + " (" + err.Error() + ")")
	}
	return nil
}

// filterNoise drops the warning xmllint prints because --nonet keeps it
// from fetching the DOCTYPE's URL, which --dtdvalid makes unnecessary.
func filterNoise(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "failed to load external entity") || strings.Contains(l, "failed to load \"http") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

type errorString string

func (e errorString) Error() string { return string(e) }
