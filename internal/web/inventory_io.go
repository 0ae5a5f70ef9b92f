package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/weaklink/weaklink/internal/textutil"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
)

// Inventory import and export over HTTP, for programs and the remote CLI
// (the API routes here) and for the web UI (ui_inventory.go), through
// the services `weaklink export` and `weaklink apply` use.

// maxInventoryUpload bounds the inventory documents of one request (the
// API's plan and apply bodies, the UI's upload), in bytes.
const maxInventoryUpload = 10 << 20

// maxFormOverhead bounds what a multipart body holds besides its files
// (part headers, small fields).
const maxFormOverhead = 64 << 10

// InventoryPlan is what POST /api/v1/inventory/plan and
// /api/v1/inventory/apply answer: the JSON of `weaklink apply --dry-run
// --format json` (and without --dry-run), and the inventory version the
// plan was made against.
type InventoryPlan struct {
	DryRun  bool               `json:"dry_run"`
	Applied bool               `json:"applied"`
	Create  int                `json:"create"`
	Update  int                `json:"update"`
	Delete  int                `json:"delete"`
	Changes []inventory.Change `json:"changes"`
	// Version is the inventory's version when the plan was made: pass it
	// to apply (?version=) to refuse the apply if anything has changed
	// since.
	Version int64 `json:"version"`
}

func newInventoryPlan(plan inventory.Plan, version int64, dryRun bool) InventoryPlan {
	c, u, d := plan.Counts()
	changes := plan.Changes
	if changes == nil {
		changes = []inventory.Change{}
	}
	return InventoryPlan{DryRun: dryRun, Applied: !dryRun && !plan.Empty(), Create: c, Update: u, Delete: d, Changes: changes, Version: version}
}

// inventoryFile is one uploaded inventory document.
type inventoryFile struct {
	Name string
	Data []byte
}

// decodeInventory reads documents into one inventory, as `apply -f`
// reads several files: every problem of every file at once (Issues, with
// file:line:column).
func decodeInventory(files []inventoryFile) (*inventory.Document, error) {
	return inventory.Collect(len(files), func(i int) (*inventory.Document, error) {
		return inventory.Decode(bytes.NewReader(files[i].Data), files[i].Name)
	})
}

// uploadName is the name an uploaded file goes by in positions: the
// base name the client gave, without control characters, at most 100
// characters, or def.
func uploadName(name, def string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	if name == "." || name == "/" || strings.TrimSpace(name) == "" {
		return def
	}
	return textutil.Shorten(name, 100)
}

// errUploadTooLarge is a 413 for an upload past maxInventoryUpload.
var errUploadTooLarge = newError(http.StatusRequestEntityTooLarge, "body_too_large",
	"the inventory is larger than %d MiB: apply larger inventories with the command line (weaklink apply -f)", maxInventoryUpload>>20)

// multipartForm is a multipart/form-data body read whole: its file parts
// and its other fields.
type multipartForm struct {
	files  map[string][]inventoryFile
	fields map[string][]string
}

// readMultipart reads a multipart/form-data body. Parts with a file name
// are files, at most maxFiles bytes together; the others are fields, at
// most maxFields bytes together. Too much is errUploadTooLarge; a body
// that is not multipart, or is broken, a 400.
func readMultipart(w http.ResponseWriter, r *http.Request, maxFiles, maxFields int64) (*multipartForm, error) {
	limit := maxFiles + maxFields + maxFormOverhead
	if r.ContentLength > limit {
		return nil, errUploadTooLarge
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, newError(http.StatusBadRequest, "invalid_body", "send the form as multipart/form-data")
	}
	f := &multipartForm{files: map[string][]inventoryFile{}, fields: map[string][]string{}}
	var fileBytes, fieldBytes int64
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		if err != nil {
			return nil, formError(err)
		}
		name := p.FormName()
		if p.FileName() == "" {
			b, err := io.ReadAll(io.LimitReader(p, maxFields-fieldBytes+1))
			if err != nil {
				return nil, formError(err)
			}
			if fieldBytes += int64(len(b)); fieldBytes > maxFields {
				return nil, errUploadTooLarge
			}
			f.fields[name] = append(f.fields[name], string(b))
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p, maxFiles-fileBytes+1))
		if err != nil {
			return nil, formError(err)
		}
		if fileBytes += int64(len(b)); fileBytes > maxFiles {
			return nil, errUploadTooLarge
		}
		f.files[name] = append(f.files[name], inventoryFile{Name: uploadName(p.FileName(), "upload"), Data: b})
	}
}

func formError(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return errUploadTooLarge
	}
	return newError(http.StatusBadRequest, "invalid_body", "the form could not be read: %s", err.Error())
}

// yamlTypes are the media types of an inventory document in a request
// body (JSON is YAML too).
var yamlTypes = []string{"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}

// readInventoryBody reads the inventory documents of an API request: one
// document as the body (application/yaml or application/json; positions
// name it "body"), or, with an Authorization header, a
// multipart/form-data body whose "file" parts are documents named by
// their file names (so positions do too), as a remote `apply -f DIR`
// sends them. A browser relying on the cookie cannot send YAML or JSON
// from another site's form; multipart, which it can, needs the header.
func readInventoryBody(c *call) ([]inventoryFile, error) {
	r := c.r
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case mt == "multipart/form-data" && r.Header.Get("Authorization") != "":
		form, err := readMultipart(c.w, r, maxInventoryUpload, maxFormOverhead)
		if err != nil {
			return nil, err
		}
		if len(form.files["file"]) == 0 {
			return nil, newError(http.StatusBadRequest, "invalid_body", `the form has no "file" parts: send each inventory file as one`)
		}
		return form.files["file"], nil
	case IsJSON(ct) || slices.Contains(yamlTypes, mt):
	case r.ContentLength == 0 && len(r.TransferEncoding) == 0:
		return nil, newError(http.StatusBadRequest, "invalid_body", "the body is required: an inventory document in YAML or JSON")
	default:
		return nil, newError(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"send the inventory as Content-Type: application/yaml or application/json (or, with an Authorization header, multipart/form-data with file parts), not %q", ct)
	}
	if r.ContentLength > maxInventoryUpload {
		return nil, errUploadTooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.w, r.Body, maxInventoryUpload))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, errUploadTooLarge
		}
		return nil, newError(http.StatusBadRequest, "invalid_body", "the body could not be read")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, newError(http.StatusBadRequest, "invalid_body", "the body is required: an inventory document in YAML or JSON")
	}
	return []inventoryFile{{Name: "body", Data: b}}, nil
}

// exportMedia are the media types and file name extensions of the
// export formats.
var exportMedia = map[string]struct{ mediaType, ext string }{
	"yaml":      {"application/yaml; charset=utf-8", "yaml"},
	"json":      {"application/json", "json"},
	"csv":       {"text/csv; charset=utf-8", "csv"},
	"cyclonedx": {"application/vnd.cyclonedx+json; version=1.6", "cdx.json"},
}

// exported is an export ready to send.
type exported struct {
	body                []byte
	mediaType, filename string
}

// exportInventory writes the inventory as `weaklink export` does, into a
// buffer, so that a failure is a clean error rather than half a file. o
// comes from exportOptions, which checked it.
func (s *Server) exportInventory(ctx context.Context, o service.ExportOptions) (exported, error) {
	o.Timestamp = s.now().UTC().Truncate(time.Second)
	o.ToolVersion = s.opts.Version
	var buf bytes.Buffer
	if err := s.svc.Export(ctx, &buf, o); err != nil {
		return exported{}, err
	}
	m := exportMedia[o.Format]
	name := "weaklink-inventory." + m.ext
	if o.Format == "csv" {
		kind := o.Kind
		if kind == "" {
			kind = service.ExportKinds[0]
		}
		name = "weaklink-" + kind + ".csv"
	}
	return exported{body: buf.Bytes(), mediaType: m.mediaType, filename: name}, nil
}

// send writes the export as a download.
func (e exported) send(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", e.mediaType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": e.filename}))
	h.Set("Content-Length", strconv.Itoa(len(e.body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(e.body)
}

// exportOptions reads format, kind and strict_fideslang, refusing the
// options that do not go with the format.
func exportOptions(q url.Values) (service.ExportOptions, error) {
	o := service.ExportOptions{Format: q.Get("format"), Kind: q.Get("kind")}
	if o.Format == "" {
		o.Format = service.ExportFormats[0]
	}
	if o.Kind != "" && o.Format != "csv" {
		return o, badField("kind", errors.New("goes with format=csv only"))
	}
	if v := q.Get("strict_fideslang"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return o, badField("strict_fideslang", fmt.Errorf("%q: use true or false", v))
		}
		if b && o.Format != "cyclonedx" {
			return o, badField("strict_fideslang", errors.New("goes with format=cyclonedx only"))
		}
		o.Strict = b
	}
	if !slices.Contains(service.ExportFormats, o.Format) {
		return o, badField("format", fmt.Errorf("%q: use one of %s", o.Format, strings.Join(service.ExportFormats, ", ")))
	}
	if o.Kind != "" && !slices.Contains(service.ExportKinds, o.Kind) {
		return o, badField("kind", fmt.Errorf("%q: use one of %s", o.Kind, strings.Join(service.ExportKinds, ", ")))
	}
	return o, nil
}

// getInventory is GET /api/v1/inventory: the export as a download.
func (s *Server) getInventory(c *call) {
	o, err := exportOptions(c.query)
	if err != nil {
		s.writeError(c.w, c.r, err)
		return
	}
	ex, err := s.exportInventory(c.ctx, o)
	if err != nil {
		s.writeError(c.w, c.r, err)
		return
	}
	ex.send(c.w)
}

// planInventory is POST /api/v1/inventory/plan: what apply would change.
func (s *Server) planInventory(c *call) (any, error) {
	plan, version, err := s.planBody(c)
	if err != nil {
		return nil, err
	}
	return newInventoryPlan(plan, version, true), nil
}

// planBody reads the inventory documents in the request body and plans
// them against the stored inventory (?prune=true removes what they omit).
func (s *Server) planBody(c *call) (inventory.Plan, int64, error) {
	files, err := readInventoryBody(c)
	if err != nil {
		return inventory.Plan{}, 0, err
	}
	doc, err := decodeInventory(files)
	if err != nil {
		return inventory.Plan{}, 0, err
	}
	return s.svc.Plan(c.ctx, doc, c.qBool("prune"))
}

// applyInventory is POST /api/v1/inventory/apply: plan and apply in one
// transaction; with ?version=, only if the inventory is still at that
// version (the one a plan was made against).
func (s *Server) applyInventory(c *call) (any, error) {
	plan, version, err := s.planBody(c)
	if err != nil {
		return nil, err
	}
	if want := c.qInt("version", 0); c.q("version") != "" && want != version {
		return nil, staleError(want, version)
	}
	if !plan.Empty() {
		if err := s.svc.ApplyPlan(c.ctx, version, plan); err != nil {
			return nil, err
		}
	}
	return newInventoryPlan(plan, version, false), nil
}

// staleError refuses a plan made against another version.
func staleError(planned, now int64) *apiError {
	return newError(http.StatusConflict, "conflict",
		"the inventory changed since the plan was made (at version %d; it is at version %d now): nothing was applied; plan again", planned, now)
}
