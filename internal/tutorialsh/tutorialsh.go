// Package tutorialsh reads the shell blocks of the tutorial as bash would,
// enough to replay them word for word in tests: quoting, backslash
// continuations, comments, pipes, "> file" and here-documents. It is shared
// by cmd/pkid's tutorial test and the client modules under interop/.
package tutorialsh

import (
	"errors"
	"fmt"
	"strings"
)

// Command is one command of a bash block of the tutorial.
type Command struct {
	Text    string     // as written, continuation lines joined, comment removed
	Stages  [][]string // the pipeline's commands, words unquoted
	Heredoc string     // the here-document fed to the first command's stdin
	OutFile string     // the target of "> file", if any
}

// Parse extracts every command of the ```bash blocks of md in
// order.
func Parse(md string) ([]Command, error) {
	lines := strings.Split(md, "\n")
	var cmds []Command
	inFence, isBash := false, false
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		if strings.HasPrefix(trimmed, "```") {
			inFence, isBash = !inFence, !inFence && trimmed == "```bash"
			continue
		}
		if !isBash || trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		logical := strings.TrimSpace(lines[i])
		for strings.HasSuffix(logical, `\`) && i+1 < len(lines) {
			i++
			logical = strings.TrimSuffix(logical, `\`) + " " + strings.TrimSpace(lines[i])
		}
		cmd, delim, err := ParseLine(logical)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if delim != "" {
			var body strings.Builder
			for i++; i < len(lines) && lines[i] != delim; i++ {
				body.WriteString(lines[i] + "\n")
			}
			if i == len(lines) {
				return nil, fmt.Errorf("here-document %q never ends", delim)
			}
			cmd.Heredoc = body.String()
		}
		cmds = append(cmds, cmd)
	}
	return cmds, nil
}

// ParseLine splits one logical line into a pipeline; it returns the
// here-document delimiter when the line has "<<WORD".
func ParseLine(line string) (Command, string, error) {
	toks, err := tokens(line)
	if err != nil {
		return Command{}, "", err
	}
	cmd := Command{Stages: [][]string{nil}}
	var delim string
	var words []string
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		words = append(words, tok.raw)
		switch {
		case tok.op == "|":
			cmd.Stages = append(cmd.Stages, nil)
			continue
		case tok.op == ">" || tok.op == "<<":
			if i+1 >= len(toks) || toks[i+1].op != "" {
				return cmd, "", fmt.Errorf("%s without a word after it", tok.op)
			}
			i++
			if tok.op == ">" {
				words = append(words, toks[i].raw)
				cmd.OutFile = toks[i].word
			} else {
				words[len(words)-1] += toks[i].raw
				delim = toks[i].word
			}
			continue
		}
		last := len(cmd.Stages) - 1
		cmd.Stages[last] = append(cmd.Stages[last], tok.word)
	}
	cmd.Text = strings.Join(words, " ")
	for _, st := range cmd.Stages {
		if len(st) == 0 {
			return cmd, "", errors.New("empty command in pipeline")
		}
	}
	return cmd, delim, nil
}

type token struct {
	word string // unquoted
	raw  string // as written
	op   string // "|", ">" or "<<" for an operator
}

// tokens splits a line into words and operators as bash does for the
// tutorial's lines. A "<name>" placeholder (cert/<serial_number>) is kept
// as part of its word: the reader is meant to replace it, not redirect.
func tokens(line string) ([]token, error) {
	var toks []token
	var word, raw strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			toks = append(toks, token{word: word.String(), raw: raw.String()})
		}
		word.Reset()
		raw.Reset()
		inWord = false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !inWord:
			flush()
			return toks, nil
		case c == '|' || c == '>':
			flush()
			toks = append(toks, token{op: string(c), raw: string(c)})
		case c == '<' && strings.HasPrefix(line[i:], "<<"):
			flush()
			toks = append(toks, token{op: "<<", raw: "<<"})
			i++
		case c == '<':
			end := strings.IndexByte(line[i:], '>')
			if end < 0 {
				return nil, fmt.Errorf("input redirection is not supported: %q", line[i:])
			}
			word.WriteString(line[i : i+end+1])
			raw.WriteString(line[i : i+end+1])
			inWord = true
			i += end
		case c == '\'' || c == '"':
			end := strings.IndexByte(line[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated %c quote", c)
			}
			word.WriteString(line[i+1 : i+1+end])
			raw.WriteString(line[i : i+end+2])
			inWord = true
			i += end + 1
		default:
			word.WriteByte(c)
			raw.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return toks, nil
}
