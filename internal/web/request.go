package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// decodeBody reads the request's JSON body into dst: at most MaxBody
// bytes, no unknown fields, one value. optional allows an empty body.
func (s *Server) decodeBody(c *call, dst any, optional bool) error {
	return s.decodeLimited(c, dst, optional, s.opts.MaxBody)
}

func (s *Server) decodeLimited(c *call, dst any, optional bool, limit int64) error {
	r := c.r
	if r.ContentLength == 0 && len(r.TransferEncoding) == 0 {
		if optional {
			return nil
		}
		return newError(http.StatusBadRequest, "invalid_body", "a JSON body is required")
	}
	if ct := r.Header.Get("Content-Type"); !IsJSON(ct) {
		return newError(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as Content-Type: application/json, not %q", ct)
	}
	if r.ContentLength > limit {
		return tooLarge(limit)
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if errors.Is(err, io.EOF) && optional {
			return nil
		}
		return bodyError(err, limit)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return tooLarge(limit)
		}
		return newError(http.StatusBadRequest, "invalid_body", "the body holds more than one JSON value")
	}
	return nil
}

func tooLarge(n int64) *apiError {
	return newError(http.StatusRequestEntityTooLarge, "body_too_large", "the body is larger than %d bytes", n)
}

// IsJSON tells whether a Content-Type is JSON: application/json or an
// application/*+json type. The remote CLI reads answers with it.
func IsJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// bodyError explains a decoding error, naming the field when it can.
func bodyError(err error, limit int64) error {
	var mb *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var ae *apiError
	switch {
	case errors.As(err, &mb):
		return tooLarge(limit)
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &syn):
		return newError(http.StatusBadRequest, "invalid_body", "the body is not valid JSON: %s (at byte %d)", strings.TrimPrefix(syn.Error(), "json: "), syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return newError(http.StatusBadRequest, "invalid_body", "the body must be a JSON %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		e := newError(http.StatusBadRequest, "invalid_body", "%s: expected %s, got %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
		e.info.Field = typ.Field
		return e
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return newError(http.StatusBadRequest, "invalid_body", "the body ends before its JSON value does")
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		e := newError(http.StatusBadRequest, "unknown_field", "unknown field %q: the fields are listed in /api/v1/openapi.json", name)
		e.info.Field = name
		return e
	}
	// A field's own decoder (times, optional values) failed.
	return newError(http.StatusBadRequest, "invalid_body", "%s", strings.TrimPrefix(msg, "json: "))
}

func jsonKind(goKind string) string {
	switch goKind {
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	case "string":
		return "string"
	}
	if strings.HasPrefix(goKind, "int") || strings.HasPrefix(goKind, "uint") || strings.HasPrefix(goKind, "float") {
		return "number"
	}
	return goKind
}

// allParams are a route's declared parameters, with pagination's.
func (rt *Route) allParams() []Param {
	if !rt.Paged {
		return rt.Params
	}
	return append(slices.Clone(rt.Params), pageParams...)
}

// checkQuery refuses query parameters the route does not declare (a typo
// such as ?categroy= would otherwise be silently ignored), given twice,
// or of the wrong type or value.
func checkQuery(rt *Route, q url.Values) error {
	params := rt.allParams()
	for name, vals := range q {
		i := slices.IndexFunc(params, func(p Param) bool { return p.In == "query" && p.Name == name })
		if i < 0 {
			var names []string
			for _, p := range params {
				if p.In == "query" {
					names = append(names, p.Name)
				}
			}
			hint := "this endpoint takes none"
			if len(names) > 0 {
				hint = "use " + strings.Join(names, ", ")
			}
			e := newError(http.StatusBadRequest, "invalid", "unknown query parameter %q: %s", name, hint)
			e.info.Field = name
			return e
		}
		p := params[i]
		if len(vals) > 1 && !p.Multi {
			return badField(name, errors.New("give it once"))
		}
		v := vals[0]
		switch p.Type {
		case "integer":
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return badField(name, fmt.Errorf("%q is not a whole number", v))
			}
		case "boolean":
			if _, err := strconv.ParseBool(v); err != nil {
				return badField(name, fmt.Errorf("%q: use true or false", v))
			}
		}
		if len(p.Enum) > 0 && v != "" && !slices.Contains(p.Enum, v) {
			return badField(name, fmt.Errorf("%q: use one of %s", v, strings.Join(p.Enum, ", ")))
		}
	}
	for _, p := range params {
		if p.In == "query" && p.Required && q.Get(p.Name) == "" {
			return badField(p.Name, errors.New("required"))
		}
	}
	return nil
}

// q returns a query parameter's value (checked by checkQuery).
func (c *call) q(name string) string { return c.query.Get(name) }

// qInt returns an integer query parameter, or def when absent.
func (c *call) qInt(name string, def int64) int64 {
	v := c.q(name)
	if v == "" {
		return def
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

func (c *call) qBool(name string) bool {
	b, _ := strconv.ParseBool(c.q(name))
	return b
}

// limit reads ?limit= within 1..maxLimit.
func (c *call) limit() (int, error) {
	n := c.qInt("limit", defaultLimit)
	if n < 1 || n > maxLimit {
		return 0, badField("limit", fmt.Errorf("%d: use 1 to %d", n, maxLimit))
	}
	return int(n), nil
}

// page reads ?limit= (within 1..maxLimit) and ?offset= (0 or more).
func (c *call) page() (limit int, off int64, err error) {
	if limit, err = c.limit(); err != nil {
		return 0, 0, err
	}
	if off = c.qInt("offset", 0); off < 0 {
		return 0, 0, badField("offset", fmt.Errorf("%d: use 0 or more", off))
	}
	return limit, off, nil
}

// setPage sets X-Total-Count and, when items remain after end (the offset
// past this page), a Link to the next page.
func setPage(c *call, total, end int64, limit int) {
	c.w.Header().Set("X-Total-Count", strconv.FormatInt(total, 10))
	if end < total {
		setNext(c, "offset", strconv.FormatInt(end, 10), limit)
	}
}

// paginate returns one page of items, by limit and offset, and sets
// X-Total-Count and, when there is more, a Link to the next page.
func paginate[T any](c *call, items []T) ([]T, error) {
	limit, off, err := c.page()
	if err != nil {
		return nil, err
	}
	total := int64(len(items))
	start := min(off, total)
	end := min(start+int64(limit), total)
	setPage(c, total, end, limit)
	return items[start:end], nil
}

// setNext sets the Link header to the next page: this request's URL with
// key=value and the limit.
func setNext(c *call, key, value string, limit int) {
	q := url.Values{}
	for k, v := range c.query {
		q[k] = v
	}
	q.Set(key, value)
	q.Set("limit", strconv.Itoa(limit))
	u := url.URL{Path: c.r.URL.Path, RawQuery: q.Encode()}
	c.w.Header().Set("Link", "<"+u.String()+`>; rel="next"`)
}
