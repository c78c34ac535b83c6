// Package ui serves Herald's web dashboard under /ui/: the pages, their scripts and styles
// and the vendored chart library, all embedded in the binary so that the dashboard works
// offline, with no CDN and no build step.
//
// The dashboard is a client of the HTTP API (package api) like heraldctl: it holds no logic
// of its own beyond presenting answers. The browser signs in through POST /ui/login, which
// the API serves and which sets the herald_session cookie; every fetch then carries that
// cookie and the X-Herald-CSRF header the API asks of unsafe requests made with a cookie.
// The credential itself never reaches the page's storage.
//
// The pages are plain ES modules under assets/ (app.js routes between them by the URL's
// fragment); scripts/vendor-ui.sh copies uPlot from the npm registry into assets/vendor.
// The browser tests (browser_test.go) drive the real fleet in headless Chromium.
package ui
