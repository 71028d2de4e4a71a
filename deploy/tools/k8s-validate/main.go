// Command k8s-validate checks Kubernetes manifests offline, with no cluster and no downloaded
// schemas: every YAML document is decoded STRICTLY into the typed Go object that the Kubernetes
// API server itself uses for its apiVersion/kind (k8s.io/api), so an unknown or misspelt field,
// a duplicate key, a value of the wrong type or an unparsable quantity is an error. On top of
// that it runs the cheap object-level rules the API server would enforce (names, labels,
// annotations, port names, env var names, selectors that match their pod templates, requests
// not above limits) and, across the whole set of documents, checks references: a Service,
// PodDisruptionBudget or NetworkPolicy selects some workload, an HPA targets a workload that
// exists, an Ingress points at a Service port that exists, a pod's ConfigMap, ServiceAccount and
// volume references resolve, probes name ports the container has.
//
// Usage: k8s-validate [-q] [-no-refs] [-external-secrets] PATH...
// PATH is a file, a directory (searched for *.yaml / *.yml) or "-" for standard input.
// Exit status: 0 when every document is valid, 1 when any is not, 2 on usage errors.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	sigyaml "sigs.k8s.io/yaml"
)

// doc is one YAML document from one input.
type doc struct {
	file   string // input path
	index  int    // 1-based document number within the file
	source string // helm's "# Source:" comment, when present
	raw    []byte
	obj    runtime.Object
	gvk    schema.GroupVersionKind
	ns     string
	name   string
}

func (d *doc) where() string {
	s := fmt.Sprintf("%s#%d", d.file, d.index)
	if d.source != "" {
		s += " (" + d.source + ")"
	}
	return s
}

func (d *doc) id() string {
	if d.gvk.Kind == "" {
		return "<unknown object>"
	}
	n := d.name
	if n == "" {
		n = "<no name>"
	}
	return fmt.Sprintf("%s %s", d.gvk.Kind, n)
}

// allowPrerelease: accept alpha/beta apiVersions. The client scheme still knows many that
// current API servers no longer serve (policy/v1beta1, autoscaling/v2beta2, batch/v1beta1, ...).
var allowPrerelease bool

func isPrerelease(version string) bool {
	return strings.Contains(version, "alpha") || strings.Contains(version, "beta")
}

// crdGroups: API groups of custom resources (e.g. monitoring.coreos.com) whose schemas this tool
// does not have: their objects are accepted with an apiVersion, a kind, a metadata.name and an
// object spec, and take part in the duplicate check. A real API server checks the rest.
var crdGroups = map[string]bool{}

var sourceRe = regexp.MustCompile(`(?m)^#\s*Source:\s*(\S+)`)

func main() {
	quiet := flag.Bool("q", false, "print only failures and the summary")
	noRefs := flag.Bool("no-refs", false, "skip the cross-object reference checks")
	flag.BoolVar(&allowPrerelease, "allow-prerelease-apis", false,
		"accept alpha and beta API versions (most were removed from the API server or are off by default)")
	flag.Func("crd-group", "API group of custom resources to accept without their schema (repeatable)",
		func(g string) error { crdGroups[g] = true; return nil })
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [-q] [-no-refs] PATH...\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}

	var inputs []string
	for _, p := range flag.Args() {
		files, err := expand(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "k8s-validate: %v\n", err)
			os.Exit(2)
		}
		inputs = append(inputs, files...)
	}

	decoder := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})

	var docs []*doc
	failures := 0
	report := func(d *doc, errs []string) {
		if len(errs) == 0 {
			if !*quiet {
				fmt.Printf("ok    %-45s %s\n", d.id(), d.where())
			}
			return
		}
		failures++
		fmt.Printf("FAIL  %-45s %s\n", d.id(), d.where())
		for _, e := range errs {
			fmt.Printf("        - %s\n", e)
		}
	}

	for _, in := range inputs {
		parsed, err := readDocs(in)
		if err != nil {
			failures++
			fmt.Printf("FAIL  %s: %v\n", in, err)
			continue
		}
		for _, d := range parsed {
			errs := decodeDoc(decoder, d)
			if d.obj != nil {
				errs = append(errs, checkObject(d)...)
				docs = append(docs, d)
			}
			if len(errs) > 0 {
				report(d, errs)
				d.obj = nil // counted; keep it out of the ok line below
				continue
			}
		}
	}

	// Cross-object checks, then one line per valid document.
	refErrs := map[*doc][]string{}
	if !*noRefs {
		refErrs = checkRefs(docs)
	}
	seen := map[string]*doc{}
	for _, d := range docs {
		key := d.gvk.GroupKind().String() + "/" + d.ns + "/" + d.name
		if prev, dup := seen[key]; dup && d.name != "" {
			refErrs[d] = append(refErrs[d], fmt.Sprintf("duplicate object: same kind, namespace and name as %s", prev.where()))
		}
		seen[key] = d
	}
	valid := 0
	for _, d := range docs {
		if d.obj == nil {
			continue
		}
		if errs := refErrs[d]; len(errs) > 0 {
			report(d, errs)
			continue
		}
		report(d, nil)
		valid++
	}

	fmt.Printf("k8s-validate: %d object(s) valid, %d invalid, in %d file(s)\n", valid, failures, len(inputs))
	if failures > 0 {
		os.Exit(1)
	}
	if valid == 0 {
		fmt.Println("k8s-validate: no Kubernetes objects found")
		os.Exit(1)
	}
}

// expand turns a path argument into the list of files to read.
func expand(p string) ([]string, error) {
	if p == "-" {
		return []string{"-"}, nil
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var out []string
	err = filepath.WalkDir(p, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			out = append(out, path)
		}
		return nil
	})
	sort.Strings(out)
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%s: no *.yaml or *.yml files", p)
	}
	return out, err
}

// readDocs splits one input into its YAML documents, dropping empty ones (comments only).
func readDocs(path string) ([]*doc, error) {
	var r io.Reader
	if path == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	yr := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var out []*doc
	for i := 1; ; i++ {
		b, err := yr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, err
		}
		if isEmptyYAML(b) {
			continue
		}
		d := &doc{file: path, index: i, raw: b}
		if m := sourceRe.FindSubmatch(b); m != nil {
			d.source = string(m[1])
		}
		out = append(out, d)
	}
	return out, nil
}

func isEmptyYAML(b []byte) bool {
	for _, line := range bytes.Split(b, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("---")) {
			return false
		}
	}
	return true
}

// decodeDoc decodes d.raw strictly into the registered Kubernetes type for its apiVersion/kind.
func decodeDoc(decoder runtime.Decoder, d *doc) []string {
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := sigyaml.Unmarshal(d.raw, &tm); err != nil {
		return []string{"not a YAML object: " + err.Error()}
	}
	d.name, d.ns = tm.Metadata.Name, tm.Metadata.Namespace
	if tm.APIVersion == "" || tm.Kind == "" {
		return []string{"apiVersion and kind are required"}
	}
	gv, err := schema.ParseGroupVersion(tm.APIVersion)
	if err != nil {
		return []string{fmt.Sprintf("apiVersion %q: %v", tm.APIVersion, err)}
	}
	d.gvk = gv.WithKind(tm.Kind)
	if crdGroups[gv.Group] {
		u := &unstructured.Unstructured{}
		if err := sigyaml.Unmarshal(d.raw, &u.Object); err != nil {
			return []string{"decoding: " + err.Error()}
		}
		if tm.Metadata.Name == "" {
			return []string{"metadata.name is required"}
		}
		if spec, ok := u.Object["spec"]; !ok {
			return []string{"spec is required"}
		} else if _, isObject := spec.(map[string]interface{}); !isObject {
			return []string{"spec must be an object"}
		}
		d.obj = u
		return nil
	}
	if !scheme.Scheme.Recognizes(d.gvk) || (isPrerelease(gv.Version) && !allowPrerelease) {
		known := []string{}
		for gvk := range scheme.Scheme.AllKnownTypes() {
			if gvk.Kind == tm.Kind && gvk.Version != runtime.APIVersionInternal && (allowPrerelease || !isPrerelease(gvk.Version)) {
				known = append(known, gvk.GroupVersion().String())
			}
		}
		sort.Strings(known)
		msg := fmt.Sprintf("apiVersion %s/%s is not a built-in Kubernetes API type", tm.APIVersion, tm.Kind)
		if isPrerelease(gv.Version) && scheme.Scheme.Recognizes(d.gvk) {
			msg = fmt.Sprintf("apiVersion %s/%s is a pre-release API that current API servers no longer serve or serve only when enabled (-allow-prerelease-apis accepts it)", tm.APIVersion, tm.Kind)
		}
		if len(known) > 0 {
			msg += fmt.Sprintf(" (kind %s is served as: %s)", tm.Kind, strings.Join(known, ", "))
		}
		return []string{msg}
	}
	obj, _, err := decoder.Decode(d.raw, nil, nil)
	if err != nil {
		if se, ok := runtime.AsStrictDecodingError(err); ok {
			var out []string
			for _, e := range se.Errors() {
				out = append(out, "strict decoding: "+e.Error())
			}
			return out
		}
		return []string{"decoding: " + err.Error()}
	}
	d.obj = obj
	return nil
}
