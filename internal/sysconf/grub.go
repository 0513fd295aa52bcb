package sysconf

import "fmt"

// GrubCommand is one simple command of a GRUB script (grub.cfg): its words after GRUB's
// quoting, and the line its first word starts on.
type GrubCommand struct {
	Line int
	// Words are the words with quoting removed and variable references kept as written
	// ($x, ${x}); a block's braces are words of their own ("{", "}").
	Words []string
	// Parts are the same words as GRUB's parser holds them, for expansion: literal text and
	// variable references apart (a reference inside single quotes is literal text).
	Parts []GrubWord
}

// GrubWord is one word of a command: its pieces in order. Brace is '{' or '}' when the word is
// an unquoted brace, which opens or closes a block (menuentry, submenu, function).
type GrubWord struct {
	Pieces []GrubPiece
	Brace  byte
	// Quoted says some of the word was quoted or escaped.
	Quoted bool
}

// GrubPiece is literal text, or (Var) the name of a variable whose value GRUB puts there.
type GrubPiece struct {
	Text string
	Var  bool
}

// MaxGrubWords bounds the words of one command and MaxGrubCommands the commands of one
// script; more is an error, never a silently shortened script.
const (
	MaxGrubWords    = 4096
	MaxGrubCommands = 1 << 16
)

// ValidGrubVarRef says whether name may be referenced as ${name}: a name ([A-Za-z_][A-Za-z0-9_]*),
// a number, or one of ? # @ *.
func ValidGrubVarRef(name string) bool {
	if name == "?" || name == "#" || name == "@" || name == "*" {
		return true
	}
	if name == "" {
		return false
	}
	digits := true
	for i := 0; i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' {
			digits = false
		}
	}
	if digits {
		return true
	}
	if !isGrubVarStart(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if !isGrubVarChar(name[i]) {
			return false
		}
	}
	return true
}

func isGrubVarStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isGrubVarChar(c byte) bool { return isGrubVarStart(c) || c >= '0' && c <= '9' }

// GrubCommands splits a GRUB script into commands as GRUB's lexer does (the GRUB manual,
// "Shell-like scripting"; grub-core/script/yylex.l): words are separated by spaces and tabs, a
// newline or ';' ends a command, and a '#' that starts a word makes the rest of the line a
// comment (one inside a word is an ordinary character: "a#b"). A backslash keeps the next
// character (a backslash-newline joins the lines); single quotes keep everything up to the
// next single quote; inside double quotes a backslash escapes only '$', '"', '\' and a newline.
// Quoted text may span lines. Unquoted '{' and '}' are tokens of their own (yylex.l's
// GRUB_PARSER_TOKEN_LBR/RBR). Variable references ($x, ${x}, $1, $?, $#, $@, $*) are kept as
// written in Words and apart in Parts; they are expanded by whoever runs the script. As GRUB's
// lexer and parser refuse them, these are errors naming the line: a '$' that starts no
// reference, ${} around what is not a name, an unquoted '|', '&', '<' or '>', a ';' that ends an
// empty command, a backslash (or a backslash-newline) that ends the file.
// Carriage returns are dropped, as GRUB's line reader drops them. An unterminated quote or
// variable reference is an error naming the line it starts on: GRUB refuses the command.
func GrubCommands(data []byte) ([]GrubCommand, error) {
	var out []GrubCommand
	var words []string
	var parts []GrubWord
	var word []byte
	var pieces []GrubPiece
	var lit []byte
	inWord, quotedWord := false, false
	line, cmdLine := 1, 1
	flushLit := func() {
		if len(lit) > 0 {
			pieces = append(pieces, GrubPiece{Text: string(lit)})
			lit = lit[:0]
		}
	}
	var tooMany error
	endWord := func() {
		if inWord {
			flushLit()
			words = append(words, string(word))
			parts = append(parts, GrubWord{Pieces: pieces, Quoted: quotedWord})
			word, inWord, pieces, quotedWord = word[:0], false, nil, false
			if len(words) > MaxGrubWords && tooMany == nil {
				tooMany = fmt.Errorf("line %d: more than %d words in one command", cmdLine, MaxGrubWords)
			}
		}
	}
	endCommand := func() {
		endWord()
		if len(words) > 0 {
			out = append(out, GrubCommand{Line: cmdLine, Words: words, Parts: parts})
			if len(out) > MaxGrubCommands && tooMany == nil {
				tooMany = fmt.Errorf("line %d: more than %d commands", cmdLine, MaxGrubCommands)
			}
		}
		words, parts = nil, nil
	}
	startWord := func() {
		if !inWord && len(words) == 0 {
			cmdLine = line
		}
		inWord = true
	}
	addLit := func(b ...byte) {
		word = append(word, b...)
		lit = append(lit, b...)
	}
	// variable reads a reference at data[i] == '$'; it returns the index of its last byte,
	// or i when the '$' starts no reference (then it is an ordinary character).
	variable := func(i int) (int, error) {
		if i+1 >= len(data) {
			return i, fmt.Errorf("line %d: '$' without a variable name", line)
		}
		c := data[i+1]
		switch {
		case c == '{':
			j := i + 2
			for j < len(data) && data[j] != '}' && data[j] != '\n' {
				j++
			}
			if j == len(data) || data[j] != '}' {
				return i, fmt.Errorf("line %d: unterminated variable reference ${", line)
			}
			name := string(data[i+2 : j])
			if !ValidGrubVarRef(name) {
				return i, fmt.Errorf("line %d: ${%s} is not a variable name", line, name)
			}
			flushLit()
			word = append(word, data[i:j+1]...)
			pieces = append(pieces, GrubPiece{Text: name, Var: true})
			return j, nil
		case isGrubVarStart(c):
			j := i + 1
			for j < len(data) && isGrubVarChar(data[j]) {
				j++
			}
			flushLit()
			word = append(word, data[i:j]...)
			pieces = append(pieces, GrubPiece{Text: string(data[i+1 : j]), Var: true})
			return j - 1, nil
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(data) && data[j] >= '0' && data[j] <= '9' {
				j++
			}
			flushLit()
			word = append(word, data[i:j]...)
			pieces = append(pieces, GrubPiece{Text: string(data[i+1 : j]), Var: true})
			return j - 1, nil
		case c == '?' || c == '#' || c == '@' || c == '*':
			flushLit()
			word = append(word, data[i:i+2]...)
			pieces = append(pieces, GrubPiece{Text: string(c), Var: true})
			return i + 1, nil
		}
		return i, fmt.Errorf("line %d: '$' without a variable name", line)
	}
	for i := 0; i < len(data); i++ {
		if tooMany != nil {
			return out, tooMany
		}
		c := data[i]
		switch {
		case c == '\r':
		case c == '\n':
			endCommand()
			line++
		case c == ' ' || c == '\t':
			endWord()
		case c == ';':
			if len(words) == 0 && !inWord {
				return out, fmt.Errorf("line %d: ';' ends an empty command", line)
			}
			endCommand()
		case c == '|' || c == '&' || c == '<' || c == '>':
			return out, fmt.Errorf("line %d: %q is not supported in GRUB scripts (pipes and redirections)", line, c)
		case c == '#' && !inWord:
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case (c == '{' || c == '}') && !inWord:
			startWord()
			word = append(word, c)
			flushLit()
			words = append(words, string(word))
			parts = append(parts, GrubWord{Brace: c})
			word, inWord, pieces = word[:0], false, nil
		case c == '{' || c == '}':
			// a brace ends the word it follows and is a token of its own
			endWord()
			i--
		case c == '$':
			startWord()
			j, err := variable(i)
			if err != nil {
				return out, err
			}
			i = j
		case c == '\\':
			if i+1 == len(data) {
				return out, fmt.Errorf("line %d: a backslash ends the file", line)
			}
			i++
			if data[i] == '\n' {
				if i+1 == len(data) {
					// GRUB's lexer asks for more input and finds none: a syntax error
					return out, fmt.Errorf("line %d: a continuation ends the file", line)
				}
				line++ // a continuation: the word goes on on the next line
				continue
			}
			startWord()
			quotedWord = true
			addLit(data[i])
		case c == '\'':
			start := line
			startWord()
			quotedWord = true
			j := i + 1
			for j < len(data) && data[j] != '\'' {
				if data[j] == '\n' {
					line++
				}
				if data[j] != '\r' {
					addLit(data[j])
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
			quotedWord = true
			j := i + 1
			for ; j < len(data) && data[j] != '"'; j++ {
				switch d := data[j]; {
				case d == '\\' && j+1 < len(data) && (data[j+1] == '$' || data[j+1] == '"' || data[j+1] == '\\'):
					j++
					addLit(data[j])
				case d == '\\' && j+1 < len(data) && data[j+1] == '\n':
					j++
					line++
				case d == '$':
					k, err := variable(j)
					if err != nil {
						return out, err
					}
					j = k
				case d == '\n':
					line++
					addLit(d)
				case d == '\r':
				default:
					addLit(d)
				}
			}
			if j == len(data) {
				return out, fmt.Errorf("line %d: unterminated double quote", start)
			}
			i = j
		default:
			startWord()
			addLit(c)
		}
	}
	endCommand()
	if tooMany != nil {
		return out, tooMany
	}
	return out, nil
}
