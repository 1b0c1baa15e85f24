package report

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/bench/scenarios"
)

// chromium is Debian's headless browser (make js-deps installs it).
const chromium = "/usr/bin/chromium"

var imageRef = regexp.MustCompile(`!\[[^\]]*\]\(([^)\s]+\.svg)\)`)

// TestResultsChartsRender opens the committed bench/RESULTS.md in headless Chromium the way a
// Markdown viewer shows it — every ![…](chart.svg) as an image — and checks that every chart
// renders non-empty: each image decodes with a size, and each SVG, laid out inline, has bars
// of positive width and its labels. There must be a chart for every scenario of the matrix.
func TestResultsChartsRender(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("%s is missing (make js-deps installs Debian's chromium): %v", chromium, err)
	}
	dir := filepath.Join("..")
	md, err := os.ReadFile(filepath.Join(dir, "RESULTS.md"))
	if err != nil {
		t.Fatalf("bench/RESULTS.md: %v (make bench writes it)", err)
	}
	var charts []string
	for _, m := range imageRef.FindAllStringSubmatch(string(md), -1) {
		charts = append(charts, m[1])
	}
	if n := len(scenarios.All()); len(charts) < n {
		t.Fatalf("RESULTS.md embeds %d charts, want one per scenario (%d): %v", len(charts), n, charts)
	}

	// The page: each chart as an <img> (what Markdown renders) and inline (so its shapes can
	// be measured); a script writes the verdict into #result once everything has loaded.
	var page strings.Builder
	page.WriteString("<!doctype html><html><body>\n")
	for i, c := range charts {
		svg, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(c)))
		if err != nil {
			t.Fatalf("chart %s: %v", c, err)
		}
		fmt.Fprintf(&page, "<img class=\"chart\" data-src=\"%s\" src=\"/%s\">\n<div class=\"inline\" id=\"inline-%d\" data-src=\"%s\">%s</div>\n",
			html.EscapeString(c), html.EscapeString(c), i, html.EscapeString(c), svg)
	}
	page.WriteString(`<pre id="result">pending</pre>
<script>
window.addEventListener('load', () => {
  const out = [];
  for (const img of document.querySelectorAll('img.chart')) {
    out.push({src: img.dataset.src, kind: 'img', ok: img.complete && img.naturalWidth > 0 && img.naturalHeight > 0,
      detail: img.naturalWidth + 'x' + img.naturalHeight});
  }
  for (const div of document.querySelectorAll('div.inline')) {
    const svg = div.querySelector('svg');
    const bars = svg ? [...svg.querySelectorAll('rect.bar')] : [];
    const widths = bars.map(b => b.getBBox().width);
    const texts = svg ? [...svg.querySelectorAll('text')].map(t => t.getComputedTextLength()) : [];
    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    out.push({src: div.dataset.src, kind: 'svg',
      ok: !!svg && box.width > 0 && box.height > 0 && bars.length > 0 && widths.every(w => w > 0) && texts.length > bars.length && texts.every(l => l > 0),
      detail: 'box ' + box.width + 'x' + box.height + ', bars ' + JSON.stringify(widths) + ', ' + texts.length + ' texts'});
  }
  document.getElementById('result').textContent = JSON.stringify(out);
});
</script></body></html>`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/check.html" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(page.String()))
			return
		}
		http.FileServer(http.Dir(dir)).ServeHTTP(w, r)
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=5000", "--dump-dom", srv.URL+"/check.html")
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	m := regexp.MustCompile(`(?s)<pre id="result">(.*?)</pre>`).FindSubmatch(dom)
	if m == nil {
		t.Fatalf("no verdict in the page Chromium rendered:\n%.2000s", dom)
	}
	var verdicts []struct {
		Src, Kind, Detail string
		OK                bool
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &verdicts); err != nil {
		t.Fatalf("verdict %q: %v", m[1], err)
	}
	if len(verdicts) != 2*len(charts) {
		t.Fatalf("%d verdicts for %d charts", len(verdicts), len(charts))
	}
	for _, v := range verdicts {
		if !v.OK {
			t.Errorf("%s (%s) does not render: %s", v.Src, v.Kind, v.Detail)
		}
	}
}
