package klaxon_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every package of the module writes down what it may import, as one sentence
// of its doc comment:
//
//	It may import only the standard library, klaxontype, store and github.com/jackc/pgx/v5.
//
// The sentence names "the standard library", "the root package", the module's
// other packages by their path inside it (store, internal/classify), and other
// modules' packages by import path, which covers the packages under it
// (go.opentelemetry.io/otel covers go.opentelemetry.io/otel/sdk/trace). It ends
// at a period, colon or semicolon; what follows is the reason. A package of
// the module is allowed only by its own name: llm does not allow llm/openai.

// importRuleExempt are the packages without a rule, and why.
var importRuleExempt = map[string]string{
	"cmd/klaxon": "the command is the only place that knows every package",
}

// importRule matches the sentence; the items are the first group.
var importRule = regexp.MustCompile(`may import only (.+?)(?:[.:;](?:\s|$)|$)`)

// listedPackage is what the test reads of `go list -deps -json`.
type listedPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
	Standard   bool
	DepOnly    bool
	Module     *struct{ Path string }
}

// TestImportRules checks every package's written import rule against what
// `go list` says it imports, so that a rule in a doc comment cannot drift from
// the code: the core does not grow a dependency on an adapter, a store's
// driver does not leak into the engine, and klaxontype stays standard library
// only. Test files are not checked: a test may import what it needs.
func TestImportRules(t *testing.T) {
	t.Parallel()
	goCommand, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to list the packages with (go test puts it there)")
	}
	command := exec.Command(goCommand, "list", "-deps", "-json", "./...")
	var stderr bytes.Buffer
	command.Stderr = &stderr
	out, err := command.Output()
	if err != nil {
		t.Fatalf("go list -deps -json ./...: %v\n%s", err, stderr.Bytes())
	}
	packages, err := decodePackages(out)
	if err != nil {
		t.Fatal(err)
	}

	standard := map[string]bool{}
	var module string
	var own []*listedPackage
	for _, p := range packages {
		standard[p.ImportPath] = p.Standard
		if !p.DepOnly && p.Module != nil {
			module = p.Module.Path
			own = append(own, p)
		}
	}
	ownPaths := map[string]bool{}
	for _, p := range own {
		ownPaths[p.ImportPath] = true
	}
	if len(own) < 10 {
		t.Fatalf("go list found %d packages of the module; want them all", len(own))
	}

	for _, p := range own {
		name := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if name == "" {
			name = "the root package"
		}
		doc, err := packageDoc(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		items, ok := parseImportRule(doc)
		if !ok {
			if _, exempt := importRuleExempt[name]; !exempt {
				t.Errorf("%s states no import rule: add the sentence \"It may import only …\" to its doc comment", name)
			}
			continue
		}
		allowed, err := resolveImportRule(items, module, ownPaths)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, imported := range p.Imports {
			if !allowed.permits(imported, standard[imported], ownPaths[imported]) {
				t.Errorf("%s imports %s, which its rule does not allow: \"may import only %s\"", name, imported, strings.Join(items, ", "))
			}
		}
	}
}

// decodePackages reads the stream of JSON objects go list writes.
func decodePackages(out []byte) ([]*listedPackage, error) {
	var packages []*listedPackage
	decoder := json.NewDecoder(bytes.NewReader(out))
	for {
		p := &listedPackage{}
		err := decoder.Decode(p)
		if errors.Is(err, io.EOF) {
			return packages, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decode go list output: %w", err)
		}
		packages = append(packages, p)
	}
}

// packageDoc is the package's doc comment, from whichever of its files has it.
func packageDoc(p *listedPackage) (string, error) {
	var docs []string
	for _, file := range p.GoFiles {
		parsed, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, file), nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			return "", err
		}
		if parsed.Doc != nil {
			docs = append(docs, parsed.Doc.Text())
		}
	}
	return strings.Join(docs, "\n"), nil
}

// parseImportRule finds the rule's sentence in a doc comment and returns the
// names it lists.
func parseImportRule(doc string) ([]string, bool) {
	match := importRule.FindStringSubmatch(strings.Join(strings.Fields(doc), " "))
	if match == nil {
		return nil, false
	}
	return strings.Split(strings.ReplaceAll(match[1], " and ", ", "), ", "), true
}

// allowedImports is a rule made checkable.
type allowedImports struct {
	standardLibrary bool
	own             map[string]bool
	prefixes        []string
}

// resolveImportRule turns the names of a rule into import paths, refusing a
// name that is neither a package of the module nor an import path, which is
// most likely a typo or a package that moved.
func resolveImportRule(items []string, module string, ownPaths map[string]bool) (*allowedImports, error) {
	allowed := &allowedImports{own: map[string]bool{}}
	for _, item := range items {
		switch {
		case item == "the standard library":
			allowed.standardLibrary = true
		case item == "the root package":
			allowed.own[module] = true
		case ownPaths[module+"/"+item]:
			allowed.own[module+"/"+item] = true
		case strings.Contains(strings.Split(item, "/")[0], "."):
			allowed.prefixes = append(allowed.prefixes, item)
		default:
			return nil, fmt.Errorf("its import rule names %q, which is neither a package of this module nor an import path", item)
		}
	}
	return allowed, nil
}

// permits reports whether the rule allows importing path.
func (a *allowedImports) permits(path string, standard, own bool) bool {
	switch {
	case standard:
		return a.standardLibrary
	case own:
		return a.own[path]
	default:
		return slices.ContainsFunc(a.prefixes, func(prefix string) bool {
			return path == prefix || strings.HasPrefix(path, prefix+"/")
		})
	}
}

// The rule's sentence is read the same however the doc comment wraps it, and
// a reason after it is not taken for a name.
func TestParseImportRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		doc  string
		want []string
	}{
		{"It may import only the standard library.", []string{"the standard library"}},
		{"Package x does y.\n\nIt may import only the standard library, klaxontype,\nstore and internal/classify; never a store.",
			[]string{"the standard library", "klaxontype", "store", "internal/classify"}},
		{"It may import only the standard library and\ngo.yaml.in/yaml/v3: a reason.", []string{"the standard library", "go.yaml.in/yaml/v3"}},
		{"It may import only github.com/jackc/pgx/v5", []string{"github.com/jackc/pgx/v5"}},
	}
	for _, test := range tests {
		got, ok := parseImportRule(test.doc)
		if !ok || !slices.Equal(got, test.want) {
			t.Errorf("parseImportRule(%q) = %q, %v; want %q", test.doc, got, ok, test.want)
		}
	}
	if got, ok := parseImportRule("It imports whatever it likes."); ok {
		t.Errorf("a doc comment without the sentence gave the rule %q", got)
	}
}
