package handlers

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/refinery/refinery-worker/adapters/wheelindex"
)

// typeLatestJSON and typeLatestHTML ask for the newest version of a form (PEP 691).
const (
	typeLatestJSON = "application/vnd.pypi.simple.latest+json"
	typeLatestHTML = "application/vnd.pypi.simple.latest+html"
	typeTextHTML   = "text/html"
)

// fileWriteWindow is how long a wheel download may take: the server's
// write timeout is meant for the control endpoints, not for large files.
const fileWriteWindow = 30 * time.Minute

// AddSimple serves the wheel index kept in dir (OUTPUT_DIR/simple) under
// /simple/, read-only: the root and project pages in the form the Accept
// header asks for (PEP 691), and the files beside them with ETag and Range.
// Only normalised project directories, wheels and their metadata files are
// reachable: no other file, no dot file, no symbolic link, no directory
// listing. A name that is not normalised is redirected to the normalised one.
func AddSimple(e *echo.Echo, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("serve index %s: %w", dir, err)
	}
	h := &simpleHandler{root: root}
	e.GET("/simple", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/simple/") })
	e.GET("/simple/*", h.serve)
	e.HEAD("/simple/*", h.serve)
	return nil
}

type simpleHandler struct{ root *os.Root }

func (h *simpleHandler) serve(c echo.Context) error {
	req := c.Request()
	if raw := strings.ToLower(req.URL.RawPath); strings.Contains(raw, "%2f") || strings.Contains(raw, "%5c") || strings.Contains(raw, "%00") {
		return echo.NewHTTPError(http.StatusNotFound, "not found")
	}
	rest, ok := strings.CutPrefix(req.URL.Path, "/simple/")
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "not found")
	}
	if rest == "" {
		return h.page(c, ".")
	}
	project, file, hasSlash := strings.Cut(rest, "/")
	if !wheelindex.IsNormalized(project) {
		if !wheelindex.ValidName(project) {
			return echo.NewHTTPError(http.StatusNotFound, "not found")
		}
		target := "/simple/" + wheelindex.Normalize(project) + "/" + file
		if req.URL.RawQuery != "" {
			target += "?" + req.URL.RawQuery
		}
		return c.Redirect(http.StatusMovedPermanently, target)
	}
	switch {
	case !hasSlash:
		return c.Redirect(http.StatusMovedPermanently, "/simple/"+project+"/")
	case file == "":
		return h.page(c, project)
	default:
		return h.file(c, project, file)
	}
}

// page serves a root or project page in the negotiated form.
func (h *simpleHandler) page(c echo.Context, dir string) error {
	c.Response().Header().Add("Vary", "Accept")
	form, ctype := negotiate(c.Request().Header.Get("Accept"))
	if form == "" {
		return echo.NewHTTPError(http.StatusNotAcceptable, "acceptable: "+wheelindex.TypeJSON+", "+wheelindex.TypeHTML+", "+typeTextHTML)
	}
	if dir != "." {
		if err := h.realDir(dir); err != nil {
			return err
		}
	}
	return h.send(c, dir+"/"+form, ctype, "no-cache")
}

func (h *simpleHandler) file(c echo.Context, project, file string) error {
	name, isMeta := strings.CutSuffix(file, wheelindex.MetadataSuffix)
	if _, err := wheelindex.ParseWheelName(name); err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "not found")
	}
	if err := h.realDir(project); err != nil {
		return err
	}
	ctype := "application/zip"
	if isMeta {
		ctype = "text/plain; charset=utf-8"
	}
	if rc := http.NewResponseController(c.Response()); rc != nil {
		_ = rc.SetWriteDeadline(time.Now().Add(fileWriteWindow))
	}
	// Published files never change under their name.
	return h.send(c, project+"/"+file, ctype, "public, max-age=31536000, immutable")
}

// realDir checks that a project directory exists and is not a symbolic link.
func (h *simpleHandler) realDir(project string) error {
	info, err := h.root.Lstat(project)
	if err != nil || !info.IsDir() {
		return echo.NewHTTPError(http.StatusNotFound, "no project "+project)
	}
	return nil
}

// send serves one regular file of the index (no symbolic link), with an ETag
// made of its size and modification time; http.ServeContent answers
// If-None-Match, If-Modified-Since and Range.
func (h *simpleHandler) send(c echo.Context, name, ctype, cache string) error {
	info, err := h.root.Lstat(name)
	if err != nil || !info.Mode().IsRegular() {
		return echo.NewHTTPError(http.StatusNotFound, "not found")
	}
	f, err := h.root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return echo.NewHTTPError(http.StatusNotFound, "not found")
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer f.Close()
	// The renamed-in file may differ from the one Lstat saw; describe the open one.
	if info, err = f.Stat(); err != nil || !info.Mode().IsRegular() {
		return echo.NewHTTPError(http.StatusNotFound, "not found")
	}
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, ctype)
	hd.Set("ETag", `"`+strconv.FormatInt(info.Size(), 36)+"-"+strconv.FormatInt(info.ModTime().UnixNano(), 36)+`"`)
	hd.Set("Cache-Control", cache)
	hd.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(c.Response(), c.Request(), "", info.ModTime(), f)
	return nil
}

// negotiate picks the page form for an Accept header (PEP 691): the type
// with the highest q-value; on a tie JSON, then the versioned HTML, then
// text/html. No header means text/html. It returns the page file and the
// Content-Type to answer with, or "" when nothing offered is acceptable.
func negotiate(accept string) (page, ctype string) {
	if strings.TrimSpace(accept) == "" {
		return wheelindex.PageHTML, typeTextHTML + "; charset=utf-8"
	}
	type offer struct {
		page, ctype string
		rank        int
	}
	offers := map[string]offer{
		wheelindex.TypeJSON: {wheelindex.PageJSON, wheelindex.TypeJSON, 0},
		typeLatestJSON:      {wheelindex.PageJSON, wheelindex.TypeJSON, 1},
		wheelindex.TypeHTML: {wheelindex.PageHTML, wheelindex.TypeHTML, 2},
		typeLatestHTML:      {wheelindex.PageHTML, wheelindex.TypeHTML, 3},
		typeTextHTML:        {wheelindex.PageHTML, typeTextHTML + "; charset=utf-8", 4},
	}
	type choice struct {
		offer
		q float64
	}
	var choices []choice
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(part, ";")
		mt := strings.ToLower(strings.TrimSpace(fields[0]))
		q := 1.0
		for _, p := range fields[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
					q = f
				} else {
					q = 0
				}
			}
		}
		if q <= 0 {
			continue
		}
		switch mt {
		case "*/*", "text/*":
			choices = append(choices, choice{offers[typeTextHTML], q})
		case "application/*":
			choices = append(choices, choice{offers[wheelindex.TypeJSON], q})
		default:
			if o, ok := offers[mt]; ok {
				choices = append(choices, choice{o, q})
			}
		}
	}
	if len(choices) == 0 {
		return "", ""
	}
	sort.SliceStable(choices, func(i, j int) bool {
		if choices[i].q != choices[j].q {
			return choices[i].q > choices[j].q
		}
		return choices[i].rank < choices[j].rank
	})
	return choices[0].page, choices[0].ctype
}
