package wheelaudit

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

var platTagRE = regexp.MustCompile(`^[a-z0-9_]+$`)

// Retag rewrites the wheel at path with platformTags as its platform tags,
// as `auditwheel repair` does for a wheel that needs no grafting: the file
// name, the WHEEL Tag lines and WHEEL's RECORD row (sha256, urlsafe base64
// without padding, and size). Other members are copied byte for byte. The
// new wheel is written whole to a temporary file in the same directory,
// synced, then renamed; the old file is removed. It returns the new path.
func Retag(path string, platformTags []string) (newPath string, err error) {
	return RetagWith(path, platformTags, DefaultLimits())
}

// RetagWith is Retag with explicit limits.
func RetagWith(path string, platformTags []string, limits Limits) (string, error) {
	newPath, err := retag(path, platformTags, limits.withDefaults())
	if err != nil {
		return "", fmt.Errorf("retag wheel %s: %w", filepath.Base(path), err)
	}
	return newPath, nil
}

func retag(wheelPath string, plats []string, limits Limits) (string, error) {
	if len(plats) == 0 {
		return "", fmt.Errorf("no platform tags given")
	}
	for _, p := range plats {
		if !platTagRE.MatchString(p) || p == "any" {
			return "", fmt.Errorf("platform tag %q: want lowercase letters, digits and _ (e.g. manylinux_2_17_s390x)", p)
		}
	}
	wn, err := parseWheelName(filepath.Base(wheelPath))
	if err != nil {
		return "", err
	}
	zr, err := zip.OpenReader(wheelPath)
	if err != nil {
		return "", fmt.Errorf("not a zip archive: %w", err)
	}
	defer zr.Close()
	if err := checkMembers(zr.File, limits); err != nil {
		return "", err
	}
	wheelFile, err := findWheelFile(&zr.Reader)
	if err != nil {
		return "", err
	}
	b := &budget{limits: limits}
	wheelData, err := b.readAll(wheelFile, limits.MaxMetadataBytes)
	if err != nil {
		return "", err
	}
	newWheel := rewriteTagLines(string(wheelData), wn, plats)
	recordName := path.Dir(wheelFile.Name) + "/RECORD"
	var recordFile *zip.File
	for _, f := range zr.File {
		if f.Name == recordName {
			recordFile = f
		}
	}
	if recordFile == nil {
		return "", fmt.Errorf("no %s", recordName)
	}
	recordData, err := b.readAll(recordFile, limits.MaxMetadataBytes)
	if err != nil {
		return "", err
	}
	newRecord, err := rewriteRecord(recordData, wheelFile.Name, []byte(newWheel))
	if err != nil {
		return "", fmt.Errorf("%s: %w", recordName, err)
	}
	newPath := filepath.Join(filepath.Dir(wheelPath), wn.withPlat(plats))
	replace := map[string][]byte{wheelFile.Name: []byte(newWheel), recordName: newRecord}
	if err := writeWheel(newPath, zr.File, replace); err != nil {
		return "", err
	}
	if newPath != wheelPath {
		if err := os.Remove(wheelPath); err != nil {
			return "", fmt.Errorf("remove the old wheel: %w", err)
		}
	}
	return newPath, nil
}

// rewriteTagLines replaces WHEEL's Tag lines, in place of the first one,
// with one line per python-abi-platform triple.
func rewriteTagLines(wheel string, wn wheelName, plats []string) string {
	wn.Plat = plats
	var out []string
	done := false
	for _, line := range strings.SplitAfter(wheel, "\n") {
		key, _, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(key), "Tag") {
			if line != "" {
				out = append(out, line)
			}
			continue
		}
		if !done {
			for _, t := range wn.triples() {
				out = append(out, "Tag: "+t+"\n")
			}
			done = true
		}
	}
	s := strings.Join(out, "")
	if !done {
		if s != "" && !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		for _, t := range wn.triples() {
			s += "Tag: " + t + "\n"
		}
	}
	return s
}

// rewriteRecord sets the RECORD row of name to data's hash and size.
func rewriteRecord(record []byte, name string, data []byte) ([]byte, error) {
	cr := csv.NewReader(bytes.NewReader(record))
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("not CSV: %w", err)
	}
	sum := sha256.Sum256(data)
	row := []string{name, "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:]), strconv.Itoa(len(data))}
	found := false
	for i, r := range rows {
		if len(r) > 0 && r[0] == name {
			rows[i], found = row, true
		}
	}
	if !found {
		rows = append(rows, row)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
