// helm-template renders a Helm chart's templates the way `helm template` does, for tests on machines
// without a helm binary: with Go's own text/template (the engine Helm uses) and the part of Helm's
// function library (Sprig and Helm's own include/required/toYaml/...) that the charts use. A chart
// that calls a function missing here fails to parse ("function X not defined"): add it here, with
// Sprig's or Helm's semantics, rather than working around it in the chart.
//
// Input on stdin, JSON: {"chartDir": "...", "chart": {Chart.yaml as JSON}, "values": {...merged values},
// "release": {"Name": "...", "Namespace": "...", "IsInstall": true}}. Output on stdout: every template
// that renders to something, as `---\n# Source: <chart>/templates/<file>\n<text>` (like helm template).
// Stricter than Helm on one point: a missing map key is an error (missingkey=error), not "".
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

type input struct {
	ChartDir string                 `json:"chartDir"`
	Chart    map[string]interface{} `json:"chart"`
	Values   map[string]interface{} `json:"values"`
	Release  map[string]interface{} `json:"release"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "helm-template:", err)
		os.Exit(1)
	}
}

func run() error {
	dec := json.NewDecoder(os.Stdin)
	dec.UseNumber()
	var in input
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("reading input: %w", err)
	}
	name, _ := in.Chart["name"].(string)
	chart := map[string]interface{}{}
	for k, v := range in.Chart { // Helm exposes Chart.yaml fields capitalised: .Chart.Name, .Chart.AppVersion
		chart[strings.ToUpper(k[:1])+k[1:]] = v
	}
	release := map[string]interface{}{"Service": "Helm", "Revision": json.Number("1"), "IsUpgrade": false, "IsInstall": true}
	for k, v := range in.Release {
		release[k] = v
	}
	data := map[string]interface{}{"Values": in.Values, "Chart": chart, "Release": release,
		"Capabilities": map[string]interface{}{"KubeVersion": map[string]interface{}{"Version": "v1.36.0", "Major": "1", "Minor": "36"}}}

	files, err := filepath.Glob(filepath.Join(in.ChartDir, "templates", "*"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	root := template.New(name).Option("missingkey=error")
	funcs := funcMap(root)
	root.Funcs(funcs)
	var names []string
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		templateName := name + "/templates/" + filepath.Base(file)
		if _, err := root.New(templateName).Funcs(funcs).Parse(string(text)); err != nil {
			return err
		}
		base := filepath.Base(file)
		if !strings.HasPrefix(base, "_") && base != "NOTES.txt" {
			names = append(names, templateName)
		}
	}
	var out bytes.Buffer
	for _, templateName := range names {
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, templateName, data); err != nil {
			return err
		}
		if strings.TrimSpace(buf.String()) == "" {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", templateName, strings.TrimSpace(buf.String()))
	}
	_, err = os.Stdout.Write(out.Bytes())
	return err
}

func funcMap(root *template.Template) template.FuncMap {
	return template.FuncMap{
		// Helm's own.
		"include": func(name string, data interface{}) (string, error) {
			var buf bytes.Buffer
			err := root.ExecuteTemplate(&buf, name, data)
			return buf.String(), err
		},
		"required": func(msg string, v interface{}) (interface{}, error) {
			if v == nil || (reflect.TypeOf(v).Kind() == reflect.String && v.(string) == "") {
				return nil, errors.New(msg)
			}
			return v, nil
		},
		"fail":   func(msg string) (string, error) { return "", errors.New(msg) },
		"toYaml": func(v interface{}) string { return strings.TrimSuffix(toYaml(v, 0), "\n") },
		"toJson": func(v interface{}) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		// Sprig's.
		"default": func(d interface{}, v ...interface{}) interface{} {
			if len(v) == 0 || empty(v[0]) {
				return d
			}
			return v[0]
		},
		"empty": empty,
		"coalesce": func(v ...interface{}) interface{} {
			for _, x := range v {
				if !empty(x) {
					return x
				}
			}
			return nil
		},
		"ternary": func(t, f interface{}, c bool) interface{} {
			if c {
				return t
			}
			return f
		},
		"quote":    func(v ...interface{}) string { return joinMapped(v, func(s string) string { return strconv.Quote(s) }) },
		"squote":   func(v ...interface{}) string { return joinMapped(v, func(s string) string { return "'" + s + "'" }) },
		"toString": strval,
		"indent": func(n int, s string) string {
			pad := strings.Repeat(" ", n)
			return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
		},
		"nindent": func(n int, s string) string {
			pad := strings.Repeat(" ", n)
			return "\n" + pad + strings.ReplaceAll(s, "\n", "\n"+pad)
		},
		"trim": strings.TrimSpace,
		"trunc": func(n int, s string) string {
			if n >= 0 && len(s) > n {
				return s[:n]
			}
			return s
		},
		"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
		"trimPrefix": func(prefix, s string) string { return strings.TrimPrefix(s, prefix) },
		"contains":   func(sub, s string) bool { return strings.Contains(s, sub) },
		"hasPrefix":  func(prefix, s string) bool { return strings.HasPrefix(s, prefix) },
		"replace":    func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
		"lower":      strings.ToLower,
		"upper":      strings.ToUpper,
		"b64enc":     func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"int":        func(v interface{}) (int64, error) { return toInt(v) },
		"add": func(v ...interface{}) (int64, error) {
			var sum int64
			for _, x := range v {
				n, err := toInt(x)
				if err != nil {
					return 0, err
				}
				sum += n
			}
			return sum, nil
		},
		"mul": func(a, b interface{}) (int64, error) {
			x, err := toInt(a)
			if err != nil {
				return 0, err
			}
			y, err := toInt(b)
			return x * y, err
		},
		"list": func(v ...interface{}) []interface{} { return v },
		"dict": func(kv ...interface{}) map[string]interface{} {
			m := map[string]interface{}{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[strval(kv[i])] = kv[i+1]
			}
			return m
		},
		"hasKey": func(m map[string]interface{}, k string) bool { _, ok := m[k]; return ok },
		"keys": func(m map[string]interface{}) []string {
			ks := make([]string, 0, len(m))
			for k := range m {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			return ks
		},
	}
}

func empty(v interface{}) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		if n, ok := v.(json.Number); ok {
			return n.String() == "0"
		}
		return r.Len() == 0
	case reflect.Bool:
		return !r.Bool()
	case reflect.Int, reflect.Int64, reflect.Int32:
		return r.Int() == 0
	case reflect.Float64:
		return r.Float() == 0
	}
	return false
}

func strval(v interface{}) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case json.Number:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

func joinMapped(v []interface{}, f func(string) string) string {
	parts := []string{}
	for _, x := range v {
		if x != nil {
			parts = append(parts, f(strval(x)))
		}
	}
	return strings.Join(parts, " ")
}

func toInt(v interface{}) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
		f, err := x.Float64()
		return int64(f), err
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case float64:
		return int64(x), nil
	case string:
		return strconv.ParseInt(x, 10, 64)
	}
	return 0, fmt.Errorf("not a number: %v (%T)", v, v)
}

// toYaml: block YAML with sorted keys, as Helm's (sigs.k8s.io/yaml) emits it; strings double-quoted
// (JSON quoting is valid YAML), so no value changes type on the way back.
func toYaml(v interface{}, indent int) string {
	pad := strings.Repeat(" ", indent)
	switch x := v.(type) {
	case map[string]interface{}:
		if len(x) == 0 {
			return "{}\n"
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			b.WriteString(pad + scalar(k) + ":")
			b.WriteString(nested(x[k], indent))
		}
		return b.String()
	case []interface{}:
		if len(x) == 0 {
			return "[]\n"
		}
		var b strings.Builder
		for _, item := range x {
			b.WriteString(pad + "-")
			b.WriteString(nested(item, indent))
		}
		return b.String()
	}
	return scalar(v) + "\n"
}

func nested(v interface{}, indent int) string {
	switch x := v.(type) {
	case map[string]interface{}:
		if len(x) > 0 {
			return "\n" + toYaml(x, indent+2)
		}
	case []interface{}:
		if len(x) > 0 {
			return "\n" + toYaml(x, indent+2)
		}
	}
	return " " + toYaml(v, 0)
}

func scalar(v interface{}) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	case string:
		return strconv.Quote(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
