// Package reqfile reads pip requirements files (requirements.txt): one
// PEP 508 requirement per line with pins, specifiers, extras and markers;
// "#" comments; "\" line continuations; per-requirement "--hash" options;
// "-r"/"--requirement" and "-c"/"--constraint" includes resolved relative to
// the including file (a file already read is not read again, so cycles end);
// "-i"/"--index-url", "--extra-index-url" and "--pre".
//
// Editable installs, URLs, local paths, VCS references and any other pip
// option are refused with an error naming the file and line ([LineError]).
package reqfile
