package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/hashicorp/vault/api"
)

func (c *cli) read(args []string) int {
	f := c.flags("read", formatField)
	if code, ok := f.parse(args, true); !ok {
		return code
	}
	if !c.nargs(f.Args(), 1, -1) {
		return 1
	}
	path := sanitizePath(f.Arg(0))
	// Extra key=value arguments become query parameters, as in vault.
	query, err := kvStringLists(c.stdin, f.Args()[1:])
	if err != nil {
		c.errorf("Failed to parse K=V data: %s", err)
		return 1
	}
	client, ok := c.connect(f)
	if !ok {
		return 2
	}
	if f.format == "raw" {
		return c.readRaw(client, path, query)
	}
	secret, err := client.Logical().ReadWithData(path, query)
	if err != nil {
		c.errorf("Error reading %s: %s", path, err)
		return 2
	}
	if secret == nil {
		c.errorf("No value found at %s", path)
		return 2
	}
	return c.printResult(f, secret)
}

// readRaw prints a raw body (ca/pem, crl/pem, cert/<serial>/raw/pem) as it
// came, which only -format=raw can do.
func (c *cli) readRaw(client *api.Client, path string, query map[string][]string) int {
	resp, err := client.Logical().ReadRawWithDataWithContext(context.Background(), path, query)
	if err != nil {
		c.errorf("Error reading: %s: %s", path, err)
		return 2
	}
	if resp == nil || resp.Body == nil {
		c.errorf("No value found at %s", path)
		return 2
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.errorf("Error reading: %s: %s", path, err)
		return 2
	}
	c.outf("%s", body)
	return 0
}

func (c *cli) write(args []string) int {
	return c.writeLike("write", args, func(client *api.Client, path string, data map[string]any) (*api.Secret, error) {
		return client.Logical().Write(path, data)
	})
}

// patch sends a JSON merge patch (RFC 7396), as `vault patch` does.
func (c *cli) patch(args []string) int {
	return c.writeLike("patch", args, func(client *api.Client, path string, data map[string]any) (*api.Secret, error) {
		return client.Logical().JSONMergePatch(context.Background(), path, data)
	})
}

type writeFunc func(client *api.Client, path string, data map[string]any) (*api.Secret, error)

func (c *cli) writeLike(name string, args []string, send writeFunc) int {
	f := c.flags(name, formatField)
	var force bool
	f.BoolVar(&force, "force", false, "allow the operation with no key=value pairs")
	f.BoolVar(&force, "f", false, "short for -force")
	if code, ok := f.parse(args, false); !ok {
		return code
	}
	switch rest := f.Args(); {
	case len(rest) < 1:
		c.errorf("Not enough arguments (expected 1, got 0)")
		return 1
	case len(rest) == 1 && !force:
		c.errorf("Must supply data or use -force")
		return 1
	}
	path := sanitizePath(f.Arg(0))
	data, err := kvData(c.stdin, f.Args()[1:])
	if err != nil {
		c.errorf("Failed to parse K=V data: %s", err)
		return 1
	}
	client, ok := c.connect(f)
	if !ok {
		return 2
	}
	secret, err := send(client, path, data)
	if err != nil {
		c.errorf("Error writing data to %s: %s", path, err)
		if secret != nil {
			c.printSecret(secret, f.format)
		}
		return 2
	}
	if secret == nil {
		if f.format == "table" {
			c.outf("Success! Data written to: %s", path)
		}
		return 0
	}
	return c.printResult(f, secret)
}

func (c *cli) list(args []string) int {
	f := c.flags("list", formatOnly)
	client, code, ok := c.start(f, args, 1, 1)
	if !ok {
		return code
	}
	path := sanitizePath(f.Arg(0))
	secret, err := client.Logical().List(path)
	if err != nil {
		c.errorf("Error listing %s: %s", path, err)
		return 2
	}
	keys, ok := listKeys(secret)
	if f.format != "table" && !ok {
		c.printJSON(map[string]any{})
		return 2
	}
	switch {
	case secret == nil:
		c.errorf("No value found at %s", path)
		return 2
	case secret.Data == nil:
		// Only warnings came back; show them.
		return c.printSecret(secret, f.format)
	case !ok:
		c.errorf("No entries found at %s", path)
		return 2
	}
	if f.format == "json" {
		return c.printJSON(secret.Data["keys"])
	}
	c.printWarnings(secret)
	c.outf("%s", table(listRows(keys)))
	return 0
}

func listKeys(secret *api.Secret) ([]string, bool) {
	if secret == nil || secret.Data == nil {
		return nil, false
	}
	raw, ok := secret.Data["keys"].([]any)
	if !ok {
		return nil, false
	}
	keys := make([]string, 0, len(raw))
	for _, k := range raw {
		keys = append(keys, fmt.Sprint(k))
	}
	return keys, true
}

func listRows(keys []string) [][]string {
	slices.Sort(keys)
	rows := [][]string{{"Keys"}}
	for _, k := range keys {
		rows = append(rows, []string{k})
	}
	return rows
}

func (c *cli) delete(args []string) int {
	f := c.flags("delete", formatField)
	if code, ok := f.parse(args, false); !ok {
		return code
	}
	if !c.nargs(f.Args(), 1, -1) {
		return 1
	}
	path := sanitizePath(f.Arg(0))
	query, err := kvStringLists(c.stdin, f.Args()[1:])
	if err != nil {
		c.errorf("Failed to parse string list data: %s", err)
		return 1
	}
	client, ok := c.connect(f)
	if !ok {
		return 2
	}
	secret, err := client.Logical().DeleteWithData(path, query)
	if err != nil {
		c.errorf("Error deleting %s: %s", path, err)
		return 2
	}
	if secret == nil {
		if f.format == "table" {
			c.outf("Success! Data deleted (if it existed) at: %s", path)
		}
		return 0
	}
	return c.printResult(f, secret)
}

// kvData builds a request body from vault-style arguments:
//
//	key=value    a string value; a repeated key becomes a JSON array
//	key=@file    the file's contents (trailing newline kept), as a string
//	key=\@x      the literal string "@x"
//	key=-        stdin's contents, as a string
//	@file.json   a JSON object merged into the body
//	-            a JSON object read from stdin, merged into the body
//
// No arguments give a nil map, which the API client sends as the body
// "null", as `vault write -f` does.
func kvData(stdin io.Reader, args []string) (map[string]any, error) {
	b := kvBuilder{stdin: stdin}
	for _, a := range args {
		if err := b.add(a); err != nil {
			return nil, fmt.Errorf("invalid key/value pair %q: %w", a, err)
		}
	}
	return b.result, nil
}

type kvBuilder struct {
	stdin     io.Reader
	stdinUsed bool
	result    map[string]any
}

func (b *kvBuilder) add(arg string) error {
	if b.result == nil {
		b.result = map[string]any{}
	}
	if arg == "" {
		return nil
	}
	key, value, hasEq := strings.Cut(arg, "=")
	if !hasEq {
		switch {
		case arg == "-":
			r, err := b.takeStdin()
			if err != nil {
				return err
			}
			return b.mergeJSON(r)
		case arg[0] == '@':
			file, err := os.Open(arg[1:])
			if err != nil {
				return err
			}
			defer file.Close()
			return b.mergeJSON(file)
		}
		return errors.New("format must be key=value")
	}
	value, err := b.value(value)
	if err != nil {
		return err
	}
	prev, exists := b.result[key]
	if !exists {
		b.result[key] = value
		return nil
	}
	switch prev := prev.(type) {
	case nil:
		b.result[key] = []any{value}
	case []any:
		b.result[key] = append(prev, value)
	default:
		b.result[key] = []any{prev, value}
	}
	return nil
}

func (b *kvBuilder) value(v string) (string, error) {
	switch {
	case strings.HasPrefix(v, "@"):
		raw, err := os.ReadFile(v[1:])
		if err != nil {
			return "", fmt.Errorf("error reading file: %w", err)
		}
		return string(raw), nil
	case strings.HasPrefix(v, `\@`):
		return v[1:], nil
	case v == "-":
		r, err := b.takeStdin()
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, r); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	return v, nil
}

func (b *kvBuilder) takeStdin() (io.Reader, error) {
	if b.stdin == nil {
		return nil, errors.New("stdin is not supported")
	}
	if b.stdinUsed {
		return nil, errors.New("stdin already consumed")
	}
	b.stdinUsed = true
	return b.stdin, nil
}

func (b *kvBuilder) mergeJSON(r io.Reader) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	return dec.Decode(&b.result)
}

// kvStringLists is kvData for query strings (read, delete): every value
// becomes a list of strings.
func kvStringLists(stdin io.Reader, args []string) (map[string][]string, error) {
	data, err := kvData(stdin, args)
	if err != nil || len(data) == 0 {
		return nil, err
	}
	out := make(map[string][]string, len(data))
	for k, v := range data {
		if list, ok := v.([]any); ok {
			for _, item := range list {
				out[k] = append(out[k], fmt.Sprint(item))
			}
			continue
		}
		out[k] = []string{fmt.Sprint(v)}
	}
	return out, nil
}
