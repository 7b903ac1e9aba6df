package dwarfx

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// MaxSourceSize bounds the size of a source file Sources reads.
const MaxSourceSize = 16 << 20

// ErrSourceTooLarge: a source file is larger than the Sources' limit.
var ErrSourceTooLarge = errors.New("source file too large")

// MissingSourceError: a source file found in none of the places tried.
// Repeated is false the first time the file is reported and true after,
// so that a caller shows the message once (until AddDir, which makes
// every file worth looking for again).
type MissingSourceError struct {
	File     string   // as the line table names it
	Tried    []string // the paths tried, in order
	Repeated bool
}

// Error renders the MissingSourceError.
func (e *MissingSourceError) Error() string {
	return fmt.Sprintf("source file %s not found (tried %s)", e.File, strings.Join(e.Tried, ", "))
}

// LineRangeError: lines asked past the end of a file (gdb: "Line number N
// out of range; FILE has M lines.").
type LineRangeError struct {
	File  string
	Line  int
	Lines int
}

// Error renders the LineRangeError.
func (e *LineRangeError) Error() string {
	return fmt.Sprintf("line number %d out of range; %s has %d lines", e.Line, e.File, e.Lines)
}

// SourceLine is one line of a source file.
type SourceLine struct {
	N    int // 1-based
	Text string
}

// Sources finds and caches source files. A file named by a line table
// (relative to its unit's compilation directory, or absolute) is looked
// for, first found wins: as an absolute path; then in each search
// directory in the order AddDir gave them (most recent first, as gdb's
// `directory`), as DIR/NAME and DIR/BASENAME; then in the compilation
// directory. A Sources is safe for concurrent use.
type Sources struct {
	mu       sync.Mutex
	dirs     []string
	maxSize  int64
	found    map[string]string   // request key -> path
	text     map[string][]string // path -> lines
	reported map[string]bool     // request keys reported missing
	readFile func(string) ([]byte, error)
	stat     func(string) (os.FileInfo, error)
}

// NewSources returns a finder with the given search directories (a
// --source-dir flag), searched in that order, reading files up to
// MaxSourceSize bytes.
func NewSources(dirs ...string) *Sources {
	s := &Sources{maxSize: MaxSourceSize, readFile: os.ReadFile, stat: os.Stat}
	s.reset()
	for i := len(dirs) - 1; i >= 0; i-- {
		s.addDir(dirs[i])
	}
	return s
}

// SetMaxSize changes the size limit (for tests and small machines).
func (s *Sources) SetMaxSize(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxSize = n
}

// AddDir puts dir at the front of the search directories (gdb's
// `directory DIR`) and forgets which files were missing and where the
// others were found.
func (s *Sources) AddDir(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addDir(dir)
	s.reset()
}

func (s *Sources) addDir(dir string) {
	dir = filepath.Clean(dir)
	for i, d := range s.dirs {
		if d == dir {
			s.dirs = append(s.dirs[:i], s.dirs[i+1:]...)
			break
		}
	}
	s.dirs = append([]string{dir}, s.dirs...)
}

func (s *Sources) reset() {
	s.found = map[string]string{}
	s.text = map[string][]string{}
	s.reported = map[string]bool{}
}

// Dirs returns the search directories, first searched first.
func (s *Sources) Dirs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.dirs...)
}

// candidates lists where file is looked for.
func (s *Sources) candidates(file, compDir string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if filepath.IsAbs(file) {
		add(file)
	}
	for _, d := range s.dirs {
		add(filepath.Join(d, file))
		add(filepath.Join(d, filepath.Base(file)))
	}
	if !filepath.IsAbs(file) {
		if compDir != "" {
			add(filepath.Join(compDir, file))
		} else {
			add(file)
		}
	}
	return out
}

// Path returns where file (of a unit compiled in compDir) is found.
func (s *Sources) Path(file, compDir string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.path(file, compDir)
}

func (s *Sources) path(file, compDir string) (string, error) {
	key := compDir + "\x00" + file
	if p, ok := s.found[key]; ok {
		return p, nil
	}
	tried := s.candidates(file, compDir)
	for _, p := range tried {
		if fi, err := s.stat(p); err == nil && fi.Mode().IsRegular() {
			s.found[key] = p
			return p, nil
		}
	}
	err := &MissingSourceError{File: file, Tried: tried, Repeated: s.reported[key]}
	s.reported[key] = true
	return "", err
}

// Lines returns lines from..to (1-based, inclusive) of file, clamped to
// the end of the file; from past the end is a *LineRangeError.
func (s *Sources) Lines(file, compDir string, from, to int) ([]SourceLine, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path, err := s.path(file, compDir)
	if err != nil {
		return nil, err
	}
	lines, err := s.load(path)
	if err != nil {
		return nil, err
	}
	if from < 1 {
		from = 1
	}
	if from > len(lines) {
		return nil, &LineRangeError{File: file, Line: from, Lines: len(lines)}
	}
	to = min(to, len(lines))
	out := make([]SourceLine, 0, max(to-from+1, 0))
	for n := from; n <= to; n++ {
		out = append(out, SourceLine{N: n, Text: lines[n-1]})
	}
	return out, nil
}

// LineCount returns the number of lines of file.
func (s *Sources) LineCount(file, compDir string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path, err := s.path(file, compDir)
	if err != nil {
		return 0, err
	}
	lines, err := s.load(path)
	return len(lines), err
}

// load reads and splits a file once.
func (s *Sources) load(path string) ([]string, error) {
	if l, ok := s.text[path]; ok {
		return l, nil
	}
	fi, err := s.stat(path)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", path, err)
	}
	if fi.Size() > s.maxSize {
		return nil, fmt.Errorf("source %s: %d bytes, more than %d: %w", path, fi.Size(), s.maxSize, ErrSourceTooLarge)
	}
	b, err := s.readFile(path)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", path, err)
	}
	if int64(len(b)) > s.maxSize { // it grew since the stat
		return nil, fmt.Errorf("source %s: more than %d bytes: %w", path, s.maxSize, ErrSourceTooLarge)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	var lines []string
	if len(b) > 0 {
		for _, l := range bytes.Split(b, []byte("\n")) {
			lines = append(lines, strings.TrimSuffix(string(l), "\r"))
		}
	}
	s.text[path] = lines
	return lines, nil
}
