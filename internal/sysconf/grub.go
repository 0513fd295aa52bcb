package sysconf

import "fmt"

// GrubCommand is one simple command of a GRUB script (grub.cfg): its words after GRUB's
// quoting, and the line its first word starts on.
type GrubCommand struct {
	Line  int
	Words []string
}

// GrubCommands splits a GRUB script into commands as GRUB's lexer does (the GRUB manual,
// "Shell-like scripting"; grub-core/script/yylex.l): words are separated by spaces and tabs, a
// newline or ';' ends a command, and a '#' that starts a word makes the rest of the line a
// comment (one inside a word is an ordinary character: "a#b"). A backslash keeps the next
// character (a backslash-newline joins the lines); single quotes keep everything up to the
// next single quote; inside double quotes a backslash escapes only '$', '"', '\' and a newline.
// Quoted text may span lines. Variable references ($x, ${x}) are kept as written (they are
// not expanded here). Carriage returns are dropped, as GRUB's line reader drops them. An
// unterminated quote is an error naming the line it starts on: GRUB refuses the command.
func GrubCommands(data []byte) ([]GrubCommand, error) {
	var out []GrubCommand
	var words []string
	var word []byte
	inWord := false
	line, cmdLine := 1, 1
	endWord := func() {
		if inWord {
			words = append(words, string(word))
			word, inWord = word[:0], false
		}
	}
	endCommand := func() {
		endWord()
		if len(words) > 0 {
			out = append(out, GrubCommand{Line: cmdLine, Words: words})
		}
		words = nil
	}
	startWord := func() {
		if !inWord && len(words) == 0 {
			cmdLine = line
		}
		inWord = true
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '\r':
		case c == '\n':
			endCommand()
			line++
		case c == ' ' || c == '\t':
			endWord()
		case c == ';':
			endCommand()
		case c == '#' && !inWord:
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case c == '\\':
			if i+1 == len(data) {
				startWord()
				word = append(word, c)
				continue
			}
			i++
			if data[i] == '\n' {
				line++ // a continuation: the word goes on on the next line
				continue
			}
			startWord()
			word = append(word, data[i])
		case c == '\'':
			start := line
			startWord()
			j := i + 1
			for j < len(data) && data[j] != '\'' {
				if data[j] == '\n' {
					line++
				}
				if data[j] != '\r' {
					word = append(word, data[j])
				}
				j++
			}
			if j == len(data) {
				return out, fmt.Errorf("line %d: unterminated single quote", start)
			}
			i = j
		case c == '"':
			start := line
			startWord()
			j := i + 1
			for ; j < len(data) && data[j] != '"'; j++ {
				switch d := data[j]; {
				case d == '\\' && j+1 < len(data) && (data[j+1] == '$' || data[j+1] == '"' || data[j+1] == '\\'):
					j++
					word = append(word, data[j])
				case d == '\\' && j+1 < len(data) && data[j+1] == '\n':
					j++
					line++
				case d == '\n':
					line++
					word = append(word, d)
				case d == '\r':
				default:
					word = append(word, d)
				}
			}
			if j == len(data) {
				return out, fmt.Errorf("line %d: unterminated double quote", start)
			}
			i = j
		default:
			startWord()
			word = append(word, c)
		}
	}
	endCommand()
	return out, nil
}
