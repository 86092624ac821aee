package web

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/csvin"
)

// sniffBytes is how much of an upload is read ahead to judge it (a CSV with an address
// header) and show its first rows, before any of it is stored or estimated.
const sniffBytes = 64 << 10

// previewRows is how many data rows the new-job page shows.
const previewRows = 5

// httpError is a refused upload; its message says why in a person's words.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func refuse(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// uploadForm is the multipart form of POST /api/jobs and /api/estimate: the options, and the
// file, which is never held whole: onFile gets it as a stream once its start looks right.
type uploadForm struct {
	name       string
	leads      bool
	leadsSet   bool
	maxAgeDays *int
	fileName   string
	preview    preview
	sawFile    bool
	// optionsFirst: the file is consumed as it arrives (an estimate, or an upload that
	// carries its job's options), so the options must come before it.
	optionsFirst bool
}

// preview is what the new-job page shows of a file before anything is spent.
type preview struct {
	Columns []string     `json:"columns"`
	Sample  []previewRow `json:"sample"`
}

type previewRow struct {
	Line        int      `json:"line"`
	Values      []string `json:"values"`
	Address     string   `json:"address,omitempty"` // normalized, as it will be looked up
	DuplicateOf int      `json:"duplicate_of,omitempty"`
	Reject      string   `json:"reject,omitempty"`
}

func (f *uploadForm) options() batch.SubmitOptions {
	leads := f.leads
	return batch.SubmitOptions{Name: f.name, Leads: &leads, MaxAgeDays: f.maxAgeDays}
}

// readUpload walks the multipart body. onFile is called once, with the file's safe name
// and its body (whose start has been checked), and must consume it.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request, optionsFirst bool, onFile func(f *uploadForm, body io.Reader) error) (*uploadForm, error) {
	limit := s.opts.MaxUploadBytes
	if r.ContentLength > limit+sniffBytes {
		return nil, s.tooBig()
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+sniffBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "send the file as multipart/form-data with a field named file (%v)", err)
	}
	f := &uploadForm{optionsFirst: optionsFirst}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, s.readError(err)
		}
		if err := s.readPart(f, part, onFile); err != nil {
			return nil, err
		}
	}
	if !f.sawFile {
		return nil, refuse(http.StatusBadRequest, "no file: choose a CSV of addresses (the multipart field file)")
	}
	return f, nil
}

func (s *Server) readPart(f *uploadForm, part *multipart.Part, onFile func(*uploadForm, io.Reader) error) error {
	defer part.Close()
	field := part.FormName()
	if field == "file" {
		if f.sawFile {
			return refuse(http.StatusBadRequest, "one file at a time")
		}
		f.sawFile = true
		f.fileName = safeFileName(part.FileName())
		body := bufio.NewReaderSize(part, sniffBytes)
		head, err := body.Peek(sniffBytes)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return s.readError(err)
		}
		if f.preview, err = sniff(head, f.fileName, len(head) < sniffBytes); err != nil {
			return err
		}
		lim := &limited{r: body, left: s.opts.MaxUploadBytes}
		if err := onFile(f, lim); err != nil {
			if lim.tooBig() {
				return s.tooBig() // whatever the consumer made of the read error
			}
			return s.readError(err)
		}
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(part, 1024))
	if err != nil {
		return s.readError(err)
	}
	value := strings.TrimSpace(string(raw))
	if f.sawFile && f.optionsFirst && value != "" && slices.Contains([]string{"name", "leads", "max_age_days"}, field) {
		return refuse(http.StatusBadRequest, "%s: send it before the file", field)
	}
	switch field {
	case "name":
		if utf8.RuneCountInString(value) > 200 {
			return refuse(http.StatusBadRequest, "name: at most 200 characters")
		}
		f.name = value
	case "leads":
		f.leadsSet = true
		switch strings.ToLower(value) {
		case "on", "true", "1", "yes":
			f.leads = true
		case "off", "false", "0", "no", "":
			f.leads = false
		default:
			return refuse(http.StatusBadRequest, "leads: want true or false, got %q", value)
		}
	case "max_age_days":
		if value == "" {
			return nil
		}
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 || n > 3650 {
			return refuse(http.StatusBadRequest, "max_age_days: want a whole number of days from 0 to 3650, got %q", value)
		}
		f.maxAgeDays = &n
	}
	return nil
}

// limited fails once more than left bytes were read: the upload's size limit, which a
// multipart body cannot announce per part.
type limited struct {
	r    io.Reader
	left int64
	err  error // the first read error other than EOF
}

var errTooBig = errors.New("upload too large")

func (l *limited) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		err = errTooBig
	}
	if err != nil && !errors.Is(err, io.EOF) && l.err == nil {
		l.err = err
	}
	return n, err
}

// tooBig tells whether reading stopped at a size limit: this part's, or the whole body's.
func (l *limited) tooBig() bool {
	var maxBytes *http.MaxBytesError
	return errors.Is(l.err, errTooBig) || errors.As(l.err, &maxBytes)
}

func (s *Server) tooBig() error {
	return refuse(http.StatusRequestEntityTooLarge, "the file is larger than the %s limit (ATTOM_BATCH_UI_MAX_UPLOAD_MB)", size(s.opts.MaxUploadBytes))
}

// readError maps a failure while reading the body to a refusal.
func (s *Server) readError(err error) error {
	var bad *httpError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &bad):
		return err
	case errors.As(err, &tooBig), errors.Is(err, errTooBig):
		return s.tooBig()
	case errors.Is(err, io.ErrUnexpectedEOF):
		return refuse(http.StatusBadRequest, "the upload was cut short")
	}
	var invalid *batch.InvalidInput
	if errors.As(err, &invalid) {
		return refuse(http.StatusBadRequest, "%s", invalid.Error())
	}
	var fileErr *csvin.FileError
	if errors.As(err, &fileErr) {
		return refuse(http.StatusBadRequest, "%s", fileErr.Error())
	}
	return err
}

// sniff judges the start of an upload the way Prepare will read it (csvin: the encoding from
// a byte-order mark or Windows-1252, and a refusal naming what a binary file looks like),
// and returns the header and the first rows.
func sniff(head []byte, name string, whole bool) (preview, error) {
	var p preview
	if len(bytes.TrimSpace(bytes.TrimPrefix(head, []byte("\ufeff")))) == 0 {
		return p, refuse(http.StatusBadRequest, "%s is empty: choose a CSV with a header row and one address per row", name)
	}
	if !whole {
		cut := lastLineEnd(head)
		if cut < 0 {
			return p, refuse(http.StatusBadRequest, "%s is not a CSV file: no line break in its first %d KiB", name, sniffBytes>>10)
		}
		head = head[:cut]
	}
	reader, err := csvin.NewReader(bytes.NewReader(head), name, csvin.Options{})
	if err != nil {
		return p, refuse(http.StatusBadRequest, "%s", strings.TrimPrefix(err.Error(), "csvin: "))
	}
	defer reader.Close()
	p.Columns = append([]string(nil), reader.Header()...)
	for len(p.Sample) < previewRows {
		row, err := reader.Next()
		if err != nil {
			var fileErr *csvin.FileError
			if errors.As(err, &fileErr) && whole {
				return p, refuse(http.StatusBadRequest, "%s", fileErr.Error())
			}
			break // io.EOF, or a row cut at the end of what was read ahead
		}
		pr := previewRow{Line: row.Line, Values: append([]string(nil), row.Values...), DuplicateOf: row.DuplicateOf}
		if row.Reject != nil {
			pr.Reject = row.Reject.Reason
			if row.Reject.Field != "" {
				pr.Reject = row.Reject.Field + ": " + pr.Reject
			}
		} else {
			pr.Address = row.Address.OneLine()
		}
		p.Sample = append(p.Sample, pr)
	}
	return p, nil
}

// lastLineEnd is where the last whole line of head ends (after its newline), in the
// encoding its byte-order mark names; -1 when there is none.
func lastLineEnd(head []byte) int {
	newline := []byte("\n")
	switch {
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}):
		newline = []byte{'\n', 0}
	case bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		newline = []byte{0, '\n'}
	}
	for end := len(head); end > 0; {
		i := bytes.LastIndex(head[:end], newline)
		if i < 0 {
			return -1
		}
		if len(newline) == 1 || i%2 == 0 { // UTF-16 code units start at even offsets
			return i + len(newline)
		}
		end = i + len(newline) - 1
	}
	return -1
}

// safeFileName keeps the base name's letters, digits, dots, dashes and underscores, so the
// upload's key is plain; the job's name defaults to it.
func safeFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), ".")
	if len(out) > 100 {
		out = out[len(out)-100:]
	}
	if out == "" {
		out = "upload.csv"
	}
	return out
}

// size is a byte count for people: "1 GiB", "512 MiB", "4 KiB".
func size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
